/**
 * HTTP benchmark (DESIGN §7), every figure measured in one run on 127.0.0.1 with autocannon:
 * - GET state and POST interact on file storage and on Redis (a throwaway redis-server);
 * - beside a bare node:http handler doing the same Redis work per request (one MGET of the pet's
 *   keys; one EVALSHA of the same compare-and-set script when it writes): throughput ratio
 *   (target ≥ 0.8) and p99 ratio (target ≤ 1.5×);
 * - POST catchup {hours: 24} against GET state (target ≤ 1.2×);
 * - Redis commands per request from INFO commandstats (target 2 for a change).
 * Servers run as child processes (the built dist/src/main.js, and this file with
 * `--baseline-server`), so the load generator does not share their event loop.
 *
 * `npm run bench -- http` runs it alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createClient } from 'redis';
import { CAS_SCRIPT, petKeys } from '../src/storage/index.js';
import { freePort, startRedisServer } from '../test/helpers/redis-process.js';
import { ensureServerBuilt, PROJECT_ROOT, SERVER_ENTRY } from '../test/helpers/server-process.js';

const WARMUP_S = 2;
const DURATION_S = 5;
const CONNECTIONS = 32;
const PETS = 1000;
const SYSTEMS = ['rhythm', 'energy', 'satiety', 'mood', 'stats'] as const;

interface Measure {
  rps: number;
  p50: number;
  p99: number;
  mean: number;
  non2xx: number;
  errors: number;
}

// ── the bare node:http baseline (runs in a child process) ──

async function runBaselineServer(redisUrl: string, port: number): Promise<void> {
  const client = createClient({ url: redisUrl });
  client.on('error', () => {});
  await client.connect();
  const sha = createHash('sha1').update(CAS_SCRIPT).digest('hex');
  await client.sendCommand(['SCRIPT', 'LOAD', CAS_SCRIPT]);

  const keysOf = (id: string) => {
    const keys = petKeys(id);
    return [keys.meta, ...SYSTEMS.map((name) => keys.systems[name])];
  };
  const load = async (keys: string[]) => (await client.sendCommand(['MGET', ...keys])) as Array<string | null>;
  /** The same CAS script call as RedisStorage.save: meta and every system written. */
  const save = async (keys: string[], version: number, meta: Record<string, unknown>, systems: Array<Record<string, unknown>>) => {
    const args = [String(version), '0', JSON.stringify({ ...meta, version: version + 1 }), String(SYSTEMS.length), ...systems.map((s) => JSON.stringify(s))];
    const reply = (await client.sendCommand(['EVALSHA', sha, String(keys.length), ...keys, ...args])) as unknown[];
    return Number(reply[0]) === 1;
  };
  const parse = (values: Array<string | null>) => {
    const meta = JSON.parse(values[0] ?? '{}') as Record<string, unknown> & { version?: number; wall_ms?: number };
    const systems = values.slice(1).map((raw) => JSON.parse(raw ?? '{}') as Record<string, unknown>);
    return { meta, systems };
  };

  const server = createServer((req, res) => {
    const match = /^\/api\/pet\/([A-Za-z0-9_-]{1,64})\/(state|interact)/.exec(req.url ?? '');
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    const [, id = '', route] = match;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const keys = keysOf(id);
        for (;;) {
          const { meta, systems } = parse(await load(keys));
          const version = meta.version ?? 0;
          const now = Date.now();
          let write = false;
          if (route === 'interact') {
            const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { action?: string };
            const stats = systems[4] ?? {};
            const action = body.action ?? 'feed';
            stats[action] = Number(stats[action] ?? 0) + 1;
            write = true;
          } else {
            // Like the service at TIME_SCALE=1: write only when a whole minute has passed.
            write = Math.floor(now / 60_000) > Math.floor((meta.wall_ms ?? 0) / 60_000);
          }
          if (write) {
            meta['wall_ms'] = now;
            meta['world_ms'] = now;
            if (!(await save(keys, version, meta, systems))) continue;
          }
          const body = JSON.stringify({ device_id: id, meta, internal_state: systems });
          res.writeHead(200, { 'content-type': 'application/json' }).end(body);
          return;
        }
      })().catch(() => res.writeHead(503).end());
    });
  });
  server.listen(port, '127.0.0.1');
}

// ── orchestration ──

function spawnServer(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 300; i += 1) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} did not answer`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function startOurs(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  // Rate limits off: the load comes from one address, 32 connections deep (issue #5).
  const limitsOff = { RATE_LIMIT_PER_PET: '0', RATE_LIMIT_PER_CLIENT: '0' };
  const child = spawnServer([SERVER_ENTRY], { PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...limitsOff, ...env });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/health`);
  return { url, child };
}

async function startBaseline(redisUrl: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawnServer(['--import', 'tsx', fileURLToPath(import.meta.url), '--baseline-server', redisUrl, String(port)], {});
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/api/pet/warm/state`);
  return { url, child };
}

function randomPet(): string {
  return `bench-${Math.floor(Math.random() * PETS)}`;
}

type Kind = 'state' | 'interact' | 'catchup';

async function load(url: string, kind: Kind, seconds: number): Promise<Measure> {
  const method = kind === 'state' ? 'GET' : 'POST';
  const body = kind === 'interact' ? JSON.stringify({ action: 'feed' }) : kind === 'catchup' ? JSON.stringify({ hours: 24 }) : undefined;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method,
        ...(body ? { body, headers: { 'content-type': 'application/json' } } : {}),
        setupRequest: (request) => ({ ...request, path: `/api/pet/${randomPet()}/${kind}` }),
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.average,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

async function measure(url: string, kind: Kind): Promise<Measure> {
  await load(url, kind, WARMUP_S);
  return load(url, kind, DURATION_S);
}

async function seed(url: string): Promise<void> {
  for (let start = 0; start < PETS; start += 50) {
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        fetch(`${url}/api/pet/bench-${start + i}/interact`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"action":"greet"}',
        }).then((response) => response.arrayBuffer()),
      ),
    );
  }
}

/** Redis commands per request for `count` sequential requests of `kind`, from INFO commandstats. */
async function commandsPerRequest(redisUrl: string, url: string, kind: Kind, count: number): Promise<{ perRequest: number; detail: string }> {
  const client = createClient({ url: redisUrl });
  await client.connect();
  try {
    await client.sendCommand(['CONFIG', 'RESETSTAT']);
    for (let i = 0; i < count; i += 1) {
      const response = await fetch(`${url}/api/pet/bench-${i % PETS}/${kind}`, {
        method: kind === 'state' ? 'GET' : 'POST',
        ...(kind === 'state' ? {} : { headers: { 'content-type': 'application/json' }, body: kind === 'interact' ? '{"action":"play"}' : '{"hours":24}' }),
      });
      await response.arrayBuffer();
    }
    const info = String(await client.sendCommand(['INFO', 'commandstats']));
    const counts: Record<string, number> = {};
    for (const match of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
      const [, name = '', calls = '0'] = match;
      // Commands run inside the Lua script are counted too: keep only what clients sent.
      if (['mget', 'evalsha', 'eval', 'get', 'set', 'multi', 'exec', 'watch'].includes(name)) counts[name] = Number(calls);
    }
    const sent = (counts['mget'] ?? 0) + (counts['evalsha'] ?? 0) + (counts['eval'] ?? 0);
    const detail = Object.entries(counts)
      .filter(([name]) => ['mget', 'evalsha', 'eval'].includes(name))
      .map(([name, calls]) => `${name.toUpperCase()} ${calls}`)
      .join(', ');
    return { perRequest: sent / count, detail };
  } finally {
    await client.quit();
  }
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const row = (name: string, m: Measure) =>
  `| ${name} | ${fmt(m.rps)} | ${fmt(m.p50, 1)} | ${fmt(m.p99, 1)} | ${fmt(m.mean, 2)} | ${m.non2xx + m.errors} |`;
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');

export default async function bench(): Promise<{ title: string; markdown: string }> {
  ensureServerBuilt();
  const redis = await startRedisServer();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pet-life-bench-'));
  const children: ChildProcess[] = [];
  try {
    // File storage.
    const file = await startOurs({ DATA_DIR: dataDir, STORAGE: 'file' });
    children.push(file.child);
    await seed(file.url);
    const fileState = await measure(file.url, 'state');
    const fileInteract = await measure(file.url, 'interact');
    await stopChild(file.child);

    // Redis: ours, then the bare baseline on the same pets, alternating per case.
    const ours = await startOurs({ REDIS_URL: redis.url });
    children.push(ours.child);
    await seed(ours.url);
    const baseline = await startBaseline(redis.url);
    children.push(baseline.child);

    const oursState = await measure(ours.url, 'state');
    const baseState = await measure(baseline.url, 'state');
    const baseInteract = await measure(baseline.url, 'interact');
    const oursInteract = await measure(ours.url, 'interact');
    const oursCatchup = await measure(ours.url, 'catchup');
    const oursState2 = await measure(ours.url, 'state');

    const commands = {
      state: await commandsPerRequest(redis.url, ours.url, 'state', 500),
      interact: await commandsPerRequest(redis.url, ours.url, 'interact', 500),
      catchup: await commandsPerRequest(redis.url, ours.url, 'catchup', 200),
      baseInteract: await commandsPerRequest(redis.url, baseline.url, 'interact', 500),
    };

    const stateRps = oursState.rps / baseState.rps;
    const stateP99 = oursState.p99 / baseState.p99;
    const interactRps = oursInteract.rps / baseInteract.rps;
    const interactP99 = oursInteract.p99 / baseInteract.p99;
    const stateRef = oursState2.mean <= oursState.mean ? oursState2 : oursState;
    const catchupCost = oursCatchup.mean / stateRef.mean;
    const catchupVsInteract = oursCatchup.mean / oursInteract.mean;

    const markdown = [
      `autocannon, ${CONNECTIONS} connections, ${DURATION_S} s per case after a ${WARMUP_S} s warm-up, ${PETS} pets picked at random per request;`,
      'servers are separate processes on 127.0.0.1 (ours: `node dist/src/main.js`, LOG_LEVEL=info; Redis: a throwaway `redis-server`).',
      '',
      '| case | req/s | p50 ms | p99 ms | mean ms | non-2xx |',
      '|---|---:|---:|---:|---:|---:|',
      row('file: GET state', fileState),
      row('file: POST interact', fileInteract),
      row('redis: GET state — pet-life', oursState),
      row('redis: GET state — bare node:http', baseState),
      row('redis: POST interact — pet-life', oursInteract),
      row('redis: POST interact — bare node:http', baseInteract),
      row('redis: POST catchup 24 h — pet-life', oursCatchup),
      row('redis: GET state again — pet-life', oursState2),
      '',
      '| target | measured | |',
      '|---|---:|---|',
      `| GET state throughput vs bare (≥ 0.8) | ${fmt(stateRps, 2)} | ${verdict(stateRps >= 0.8)} |`,
      `| GET state p99 vs bare (≤ 1.5×) | ${fmt(stateP99, 2)}× | ${verdict(stateP99 <= 1.5)} |`,
      `| POST interact throughput vs bare (≥ 0.8) | ${fmt(interactRps, 2)} | ${verdict(interactRps >= 0.8)} |`,
      `| POST interact p99 vs bare (≤ 1.5×) | ${fmt(interactP99, 2)}× | ${verdict(interactP99 <= 1.5)} |`,
      `| catchup 24 h mean latency vs GET state (≤ 1.2×) | ${fmt(catchupCost, 2)}× | ${verdict(catchupCost <= 1.2)} |`,
      `| catchup 24 h mean latency vs POST interact (same storage work: 1 read + 1 write) | ${fmt(catchupVsInteract, 2)}× | ${verdict(catchupVsInteract <= 1.2)} |`,
      `| Redis commands per POST interact (2) | ${fmt(commands.interact.perRequest, 2)} (${commands.interact.detail}) | ${verdict(commands.interact.perRequest <= 2)} |`,
      `| Redis commands per POST catchup (2) | ${fmt(commands.catchup.perRequest, 2)} (${commands.catchup.detail}) | ${verdict(commands.catchup.perRequest <= 2)} |`,
      `| Redis commands per GET state (1 when no minute passed, 2 when it did) | ${fmt(commands.state.perRequest, 2)} (${commands.state.detail}) | ${verdict(commands.state.perRequest <= 2)} |`,
      `| bare baseline, commands per POST interact | ${fmt(commands.baseInteract.perRequest, 2)} (${commands.baseInteract.detail}) | |`,
      '',
      'Commands per request come from `INFO commandstats` over sequential requests (no conflicts); the',
      "script's own SET/GET calls inside EVALSHA are not client round trips and are left out.",
    ].join('\n');
    return { title: 'HTTP: pet-life vs a bare node:http handler on the same Redis work', markdown };
  } finally {
    await Promise.all(children.map(stopChild));
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--baseline-server') {
  const [redisUrl = '', port = '0'] = process.argv.slice(3);
  await runBaselineServer(redisUrl, Number(port));
}
