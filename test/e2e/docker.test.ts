/**
 * Deployment (docs/deploy.md): the Docker image, the compose file and the CI workflow, tested without Docker (no
 * image can be pulled on this machine).
 *
 * - The Dockerfile's production stage, replayed in a clean temp folder as a non-root user: its
 *   COPY lines (read from the Dockerfile, not mirrored here), its `npm ci --omit=dev` RUN line,
 *   then its CMD with its ENV; /health, the page, /docs and a write to DATA_DIR answer; its
 *   HEALTHCHECK command passes while the server runs and fails once it stopped; SIGTERM (its
 *   STOPSIGNAL) ends the server with exit code 0 within the shutdown timeout.
 * - The Dockerfile's shape: node:22 images, a non-root USER, HEALTHCHECK, STOPSIGNAL, --omit=dev.
 * - compose.yaml parsed: services, healthchecks, depends_on condition, volumes, AOF, env.
 * - .github/workflows/ci.yml parsed: triggers, Node 22, the README's test command.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { PROJECT_ROOT } from '../helpers/server-process.js';

// ---------------------------------------------------------------------------------------------
// A small Dockerfile reader: enough for this repository's Dockerfile (no ARG expansion, no
// heredocs). Continuation lines are joined, comments dropped, instructions grouped by stage.

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}
interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

function readDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue; // a comment inside a continued instruction
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push((current + line).trim());
    current = '';
  }
  if (current.trim() !== '') logical.push(current.trim());
  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^(\S+)\s*(.*)$/.exec(line);
    if (!match) continue;
    const keyword = (match[1] ?? '').toUpperCase();
    const args = match[2] ?? '';
    if (keyword === 'FROM') {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ image: from?.[1] ?? '', name: from?.[2], instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`Dockerfile: ${keyword} before FROM`);
      stage.instructions.push({ keyword, args });
    }
  }
  return stages;
}

function all(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** `--from=x --chown=y a b dest` → flags and words. */
function splitFlags(args: string): { flags: Record<string, string>; words: string[] } {
  const flags: Record<string, string> = {};
  const words: string[] = [];
  for (const word of args.split(/\s+/).filter(Boolean)) {
    const flag = /^--([^=]+)=(.*)$/.exec(word);
    if (flag) flags[flag[1] ?? ''] = flag[2] ?? '';
    else words.push(word);
  }
  return { flags, words };
}

/** `ENV A=1 B=2` (and the old `ENV A 1`) → a record. */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of all(stage, 'ENV')) {
    if (!args.includes('=')) {
      const [key, ...rest] = args.split(/\s+/);
      env[key ?? ''] = rest.join(' ');
      continue;
    }
    for (const pair of args.match(/\S+=("[^"]*"|\S*)/g) ?? []) {
      const at = pair.indexOf('=');
      env[pair.slice(0, at)] = pair.slice(at + 1).replace(/^"(.*)"$/, '$1');
    }
  }
  return env;
}

/** The JSON (exec) form of CMD / HEALTHCHECK CMD. */
function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((word) => typeof word === 'string')) throw new Error(`not an exec form: ${args}`);
  return parsed;
}

const dockerfile = readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
const stages = readDockerfile(dockerfile);
const production = stages.at(-1) as Stage;
/** The stage the production stage copies from (`COPY --from=<name>`). */
const buildName = all(production, 'COPY')
  .map((copy) => splitFlags(copy).flags['from'])
  .find((from) => from !== undefined);
const build = stages.find((stage) => stage.name !== undefined && stage.name === buildName);

// ---------------------------------------------------------------------------------------------
// Running as a non-root user: as root (this machine), setpriv to nobody — setpriv execs (no
// intermediate process, so SIGTERM reaches node itself); as any other user (a CI runner), as is.

const IS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;

function asUser(command: string[]): string[] {
  return IS_ROOT ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', ...command] : command;
}

function chownTree(target: string): void {
  if (!IS_ROOT) return;
  chownSync(target, NOBODY, NOBODY);
  if (statSync(target).isDirectory()) for (const entry of readdirSync(target)) chownTree(path.join(target, entry));
}

function uidOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
}

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

describe('Dockerfile', () => {
  it('builds on node:22 with the dev dependencies, runs on node:22 with the production ones only, as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.image).toMatch(/^node:22(?:[.-]|$)/);
    expect(build, 'the production stage copies from a named build stage').toBeDefined();
    const buildRuns = all(build as Stage, 'RUN').join('\n');
    expect(buildRuns).toMatch(/npm ci(?![^\n]*--omit=dev)/);
    expect(buildRuns).toContain('npm run build');

    const runs = all(production, 'RUN');
    const installs = runs.filter((run) => /\bnpm (ci|install|i)\b/.test(run));
    expect(installs.length).toBe(1);
    expect(installs[0]).toMatch(/npm ci .*--omit=dev/);

    const users = all(production, 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    // USER comes before CMD, so the server never runs as root.
    const keywords = production.instructions.map((i) => i.keyword);
    expect(keywords.lastIndexOf('USER')).toBeLessThan(keywords.lastIndexOf('CMD'));
  });

  it('has a HEALTHCHECK on /health (node, no curl), STOPSIGNAL SIGTERM, HOST 0.0.0.0 and DATA_DIR on a volume', () => {
    const health = all(production, 'HEALTHCHECK');
    expect(health.length).toBe(1);
    const command = /\bCMD\s+(\[.*\])\s*$/.exec(health[0] ?? '')?.[1] ?? '';
    const words = execForm(command);
    expect(words[0]).toBe('node');
    expect(words.join(' ')).toContain('/health');
    expect(health[0]).not.toContain('curl');

    expect(all(production, 'STOPSIGNAL')).toEqual(['SIGTERM']);
    const env = envOf(production);
    expect(env['HOST']).toBe('0.0.0.0');
    expect(env['NODE_ENV']).toBe('production');
    const volumes = all(production, 'VOLUME').flatMap((v) => (v.startsWith('[') ? execForm(v) : v.split(/\s+/)));
    expect(volumes).toContain(env['DATA_DIR']);
    expect(all(production, 'EXPOSE')).toContain(env['PORT']);
    expect(execForm(all(production, 'CMD').at(-1) ?? '')).toEqual(['node', 'dist/src/main.js']);
  });

  it('.dockerignore keeps node_modules, dist, .git and local data out of the build context, and keeps what the stages copy', () => {
    const ignored = readFileSync(path.join(PROJECT_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    for (const entry of ['node_modules', 'dist', '.git', 'data', '.env']) expect(ignored).toContain(entry);
    for (const entry of ['src', 'web', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
      expect(ignored).not.toContain(entry);
    }
  });

  it("the production stage's COPY, npm ci --omit=dev and CMD, replayed in a clean folder as a non-root user, serve /health and the page and stop on SIGTERM with exit 0", async () => {
    const distEntry = path.join(PROJECT_ROOT, 'dist', 'src', 'main.js');
    const distPage = path.join(PROJECT_ROOT, 'dist', 'web', 'index.html');
    if (!existsSync(distEntry) || !existsSync(distPage))
      throw new Error('run `npm run build` first (npm test does): dist/src and dist/web are copied');

    const root = mkdtempSync(path.join(tmpdir(), 'pet-life-docker-'));
    temps.push(root);
    const app = path.join(root, 'app'); // the stage's WORKDIR
    const home = path.join(root, 'home'); // HOME and the npm cache, writable by the user
    const data = path.join(root, 'data'); // the DATA_DIR volume
    for (const dir of [app, home, data]) mkdirSync(dir, { recursive: true });

    // COPY lines, as the Dockerfile gives them: from the build context (this repository) or
    // from the build stage (its WORKDIR is this repository after `npm run build`).
    const workdirOf = (stage: Stage) => all(stage, 'WORKDIR').at(-1) ?? '/';
    const copies = all(production, 'COPY');
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      const { flags, words } = splitFlags(copy);
      const dest = words.pop() ?? '';
      const from = flags['from'];
      const sourceRoot = from === undefined ? '/' : workdirOf(stages.find((stage) => stage.name === from) as Stage);
      // Inside the image, dest is relative to WORKDIR; here WORKDIR is `app`.
      const target = path.join(app, path.posix.relative(workdirOf(production), path.posix.resolve(workdirOf(production), dest)));
      for (const source of words) {
        const relative = path.posix.relative(sourceRoot, path.posix.resolve(sourceRoot, source));
        const into = dest.endsWith('/') || words.length > 1 ? path.join(target, path.basename(relative)) : target;
        cpSync(path.join(PROJECT_ROOT, relative), into, { recursive: true });
      }
    }
    chownTree(root);
    if (IS_ROOT) spawnSync('chmod', ['755', root]);

    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: home,
      npm_config_cache: path.join(home, '.npm'),
      npm_config_update_notifier: 'false',
      ...envOf(production),
      // Loopback and a free port here; DATA_DIR in the temp folder.
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: data,
    };

    // The RUN lines made only of npm commands (the others prepare the image as root).
    const npmRuns = all(production, 'RUN').filter((run) => run.split('&&').every((part) => part.trim().startsWith('npm ')));
    expect(npmRuns.some((run) => run.includes('npm ci') && run.includes('--omit=dev'))).toBe(true);
    const installStarted = performance.now();
    for (const run of npmRuns) {
      const [file, ...args] = asUser(['sh', '-c', run]) as [string, ...string[]];
      const result = spawnSync(file, args, { cwd: app, env, encoding: 'utf8', timeout: 180_000 });
      expect(result.status, `${run}\n${result.stderr}`).toBe(0);
    }
    const installMs = Math.round(performance.now() - installStarted);
    console.log(`docker.test: production install (${npmRuns.join('; ')}) took ${installMs} ms`);
    // Production dependencies only.
    expect(existsSync(path.join(app, 'node_modules', 'hono', 'package.json'))).toBe(true);
    expect(existsSync(path.join(app, 'node_modules', 'swagger-ui-dist', 'package.json'))).toBe(true);
    for (const dev of ['vitest', 'typescript', 'vite', '@biomejs']) expect(existsSync(path.join(app, 'node_modules', dev))).toBe(false);

    // CMD, as the user.
    const cmd = asUser(execForm(all(production, 'CMD').at(-1) ?? ''));
    const child = spawn(cmd[0] as string, cmd.slice(1), { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const url = await new Promise<string>((resolve, reject) => {
        let pending = '';
        const timer = setTimeout(() => reject(new Error(`no "listening" line within 15 s: ${stderr}`)), 15_000);
        child.stdout.on('data', (chunk: Buffer) => {
          pending += chunk.toString();
          for (const line of pending.split('\n').slice(0, -1)) {
            try {
              const parsed = JSON.parse(line) as Record<string, unknown>;
              if (typeof parsed['url'] === 'string' && String(parsed['msg']).includes('listening')) {
                clearTimeout(timer);
                resolve(parsed['url']);
              }
            } catch {
              // not JSON
            }
          }
          pending = pending.slice(pending.lastIndexOf('\n') + 1);
        });
        void exited.then(({ code }) => reject(new Error(`server exited with ${code}: ${stderr}`)));
      });
      if (IS_ROOT) expect(uidOf(child.pid as number)).toBe(NOBODY);

      expect((await fetch(`${url}/health`)).status).toBe(200);
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect((await fetch(`${url}/docs`)).status).toBe(200);
      expect((await fetch(`${url}/docs/assets/swagger-ui-bundle.js`)).status).toBe(200);
      // DATA_DIR is writable by the user.
      const created = await fetch(`${url}/api/pets`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ device_id: 'docker_test', pet_name: 'Mochi' }),
      });
      expect(created.status).toBe(201);
      expect(readdirSync(data).length).toBeGreaterThan(0);

      // The HEALTHCHECK command, as the user, with the port the server took.
      const port = new URL(url).port;
      const healthCommand = asUser(execForm(/\bCMD\s+(\[.*\])\s*$/.exec(all(production, 'HEALTHCHECK')[0] ?? '')?.[1] ?? ''));
      const healthEnv = { ...env, PORT: port };
      const healthy = spawnSync(healthCommand[0] as string, healthCommand.slice(1), {
        cwd: app,
        env: healthEnv,
        encoding: 'utf8',
        timeout: 10_000,
      });
      expect(healthy.status, healthy.stderr).toBe(0);

      // STOPSIGNAL → graceful shutdown, exit 0 within the shutdown timeout.
      const signal = all(production, 'STOPSIGNAL')[0] as NodeJS.Signals;
      const stopStarted = performance.now();
      child.kill(signal);
      const shutdownMs = loadConfig(env).shutdownTimeoutMs;
      const result = await Promise.race([
        exited,
        new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), shutdownMs + 2_000)),
      ]);
      expect(result).toEqual({ code: 0, signal: null });
      console.log(`docker.test: ${signal} → exit 0 in ${Math.round(performance.now() - stopStarted)} ms`);

      const unhealthy = spawnSync(healthCommand[0] as string, healthCommand.slice(1), {
        cwd: app,
        env: healthEnv,
        encoding: 'utf8',
        timeout: 10_000,
      });
      expect(unhealthy.status).toBe(1);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 240_000);
});

// ---------------------------------------------------------------------------------------------

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string | number> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string | string[] };
  volumes?: Array<string | { source?: string; target?: string }>;
  ports?: Array<string | number>;
  stop_grace_period?: string;
}

function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, String(value)]));
}

/** Named-volume mounts as { volume: target }. */
function namedVolumes(service: ComposeService): Record<string, string> {
  const mounts: Record<string, string> = {};
  for (const volume of service.volumes ?? []) {
    const [source, target] = typeof volume === 'string' ? volume.split(':') : [volume.source, volume.target];
    if (source && target && !source.startsWith('.') && !source.startsWith('/')) mounts[source] = target;
  }
  return mounts;
}

function seconds(duration: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(duration);
  if (!match) throw new Error(`duration ${duration}`);
  const value = Number(match[1]);
  return match[2] === 'ms' ? value / 1000 : match[2] === 'm' ? value * 60 : value;
}

describe('compose.yaml', () => {
  const compose = parse(readFileSync(path.join(PROJECT_ROOT, 'compose.yaml'), 'utf8')) as {
    services: Record<string, ComposeService>;
    volumes?: Record<string, unknown>;
  };
  const redis = compose.services['redis'] as ComposeService;
  const app = compose.services['pet-life'] as ComposeService;

  it('has pet-life (built from this Dockerfile) and redis:7', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['pet-life', 'redis']);
    expect(redis.image).toMatch(/^redis:7(?:[.-]|$)/);
    expect(app.build === '.' || (typeof app.build === 'object' && (app.build as { context?: string }).context === '.')).toBe(true);
  });

  it('runs Redis with AOF, fsync every second, on a named volume, with a redis-cli ping healthcheck', () => {
    const command = Array.isArray(redis.command) ? redis.command.join(' ') : (redis.command ?? '');
    expect(command).toMatch(/--appendonly yes\b/);
    expect(command).toMatch(/--appendfsync everysec\b/);
    const mounts = namedVolumes(redis);
    expect(Object.values(mounts)).toContain('/data'); // the redis image's dir for the AOF
    for (const volume of Object.keys(mounts)) expect(compose.volumes).toHaveProperty(volume);
    const test = redis.healthcheck?.test;
    expect(Array.isArray(test) ? test.join(' ') : test).toMatch(/redis-cli.* ping$/);
  });

  it('starts pet-life once Redis is healthy, on REDIS_URL=redis://redis:6379, with DATA_DIR on a named volume', () => {
    expect(app.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    const env = environmentOf(app);
    expect(env['REDIS_URL']).toBe('redis://redis:6379');
    expect(env['HOST']).toBe('0.0.0.0');
    const mounts = namedVolumes(app);
    expect(Object.values(mounts)).toContain(env['DATA_DIR'] ?? envOf(production)['DATA_DIR']);
    for (const volume of Object.keys(mounts)) expect(compose.volumes).toHaveProperty(volume);
    expect((app.ports ?? []).map(String)).toContain(`${env['PORT']}:${env['PORT']}`);
    // The server's own configuration accepts this environment and picks Redis.
    const config = loadConfig(env);
    expect(config.port).toBe(Number(env['PORT']));
    expect(config.host).toBe('0.0.0.0');
    // Docker's grace before SIGKILL outlasts the graceful shutdown.
    expect(seconds(app.stop_grace_period ?? '10s') * 1000).toBeGreaterThan(config.shutdownTimeoutMs);
  });
});

// ---------------------------------------------------------------------------------------------

describe('.github/workflows/ci.yml', () => {
  const workflow = parse(readFileSync(path.join(PROJECT_ROOT, '.github', 'workflows', 'ci.yml'), 'utf8')) as {
    on: Record<string, unknown>;
    jobs: Record<string, { 'runs-on': string; steps: Array<{ uses?: string; run?: string; with?: Record<string, unknown> }> }>;
  };
  const jobs = Object.values(workflow.jobs);
  const steps = jobs.flatMap((job) => job.steps);

  it('runs on push and pull requests, on ubuntu-latest with Node 22', () => {
    expect(Object.keys(workflow.on).sort()).toEqual(['pull_request', 'push']);
    for (const job of jobs) expect(job['runs-on']).toBe('ubuntu-latest');
    const setupNode = steps.find((step) => step.uses?.startsWith('actions/setup-node@'));
    expect(String(setupNode?.with?.['node-version'])).toMatch(/^22(\.|$)/);
    expect(steps.findIndex((step) => step.uses?.startsWith('actions/checkout@'))).toBe(0);
  });

  it("installs redis-server, points CHROMIUM_PATH at a browser, and runs the README's test command", () => {
    const runs = steps.map((step) => step.run ?? '');
    expect(runs.some((run) => /apt-get install .*redis-server/.test(run))).toBe(true);
    expect(runs.some((run) => run.includes('CHROMIUM_PATH=') && run.includes('$GITHUB_ENV'))).toBe(true);
    // scripts/test.sh and the browser tests (test/helpers/browser.ts) read CHROMIUM_PATH.
    expect(readFileSync(path.join(PROJECT_ROOT, 'scripts', 'test.sh'), 'utf8')).toContain('CHROMIUM_PATH');
    expect(readFileSync(path.join(PROJECT_ROOT, 'test', 'helpers', 'browser.ts'), 'utf8')).toContain("process.env['CHROMIUM_PATH']");
    // The test step is the last run step: .ci/run, which is `npm ci` then `npm test`, the README's.
    const testRun = runs.filter(Boolean).at(-1);
    expect(testRun).toBe('bash .ci/run');
    const ciRun = readFileSync(path.join(PROJECT_ROOT, '.ci', 'run'), 'utf8');
    expect(ciRun).toMatch(/^npm ci\b/m);
    expect(ciRun).toMatch(/^npm test$/m);
    expect(readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8')).toContain('npm test');
    // Every run script is valid bash.
    for (const run of runs.filter(Boolean)) {
      const check = spawnSync('bash', ['-n'], { input: run, encoding: 'utf8' });
      expect(check.status, `${run}\n${check.stderr}`).toBe(0);
    }
  });
});
