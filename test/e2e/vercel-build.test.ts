/**
 * Vercel's own build on a fresh clone (docs/deploy.md): `git clone` of this repository's HEAD into a
 * temp folder, a local `.vercel/project.json` (no account, no token), then the pinned Vercel CLI's
 * `vercel build` with no Vercel network access (its install step, `npm ci`, prefers the npm cache). The
 * Build Output must hold the web page and its assets as static files and the app as one Node
 * function. Requests are then resolved the way the routes in `.vercel/output/config.json` say —
 * a static file if one matches, else the rewrite to the function — and the built function (from
 * `.vercel/output/functions`, with its traced node_modules) is served the way Vercel's Node
 * launcher serves a default export with a `fetch` method: node:http request in, Web Request to
 * `fetch`, Web Response back out. Only committed files are built: commit before running it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedisUrl } from '../helpers/redis.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const VERCEL_BIN = path.join(ROOT, 'node_modules/.bin/vercel');
const BUILD_TIMEOUT_MS = 300_000;

interface Route {
  src?: string;
  dest?: string;
  status?: number;
  handle?: string;
  check?: boolean;
}

let work = '';
let output = '';
let functionUrl = '';
let launcher: ChildProcess | undefined;
const timings: Record<string, number> = {};

/** Serves the built handler like the Node launcher (launcherType "Nodejs", a `fetch` default export). */
const LAUNCHER = `
import { createServer } from 'node:http';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
let listener = await import(pathToFileURL(process.argv[1]).href);
for (let i = 0; i < 5 && listener.default; i++) listener = listener.default;
if (typeof listener.fetch !== 'function') throw new Error('the handler has no fetch method');
const server = createServer(async (req, res) => {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const request = new Request(new URL(req.url ?? '/', 'http://' + (req.headers.host ?? 'localhost')), {
    method: req.method, headers, body: hasBody ? Readable.toWeb(req) : undefined, duplex: 'half',
  });
  const response = await listener.fetch(request);
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (response.body) for await (const chunk of response.body) res.write(chunk);
  res.end();
});
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
`;

function timed<T>(name: string, run: () => T): T {
  const started = performance.now();
  try {
    return run();
  } finally {
    timings[name] = Math.round(performance.now() - started);
  }
}

beforeAll(async () => {
  // No silent skip: without the pinned CLI this fails (npm ci installs it as a dev dependency).
  expect(existsSync(VERCEL_BIN), `${VERCEL_BIN} (run npm ci)`).toBe(true);
  work = mkdtempSync(path.join(tmpdir(), 'pet-life-vercel-build-'));
  const clone = path.join(work, 'repo');
  const head = execFileSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  timed('clone', () => {
    execFileSync('git', ['clone', '-q', '--no-checkout', ROOT, clone]);
    execFileSync('git', ['-C', clone, 'checkout', '-q', head]);
  });
  execFileSync('mkdir', ['-p', path.join(clone, '.vercel')]);
  writeFileSync(
    path.join(clone, '.vercel/project.json'),
    JSON.stringify({ projectId: 'prj_offline_test', orgId: 'team_offline_test', settings: {} }),
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Its install step (npm ci) takes packages from the npm cache; only what is missing there is fetched.
    npm_config_prefer_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    VERCEL_TELEMETRY_DISABLED: '1',
  };
  for (const name of ['VERCEL_TOKEN', 'VERCEL_ORG_ID', 'VERCEL_PROJECT_ID', 'VERCEL', 'VERCEL_ENV']) delete env[name];
  timed('vercel build', () => {
    try {
      execFileSync(VERCEL_BIN, ['build', '--yes'], { cwd: clone, env, stdio: 'pipe', timeout: BUILD_TIMEOUT_MS, encoding: 'utf8' });
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string };
      throw new Error(`vercel build failed:\n${(failed.stdout ?? '').slice(-4000)}\n${(failed.stderr ?? '').slice(-4000)}`);
    }
  });
  output = path.join(clone, '.vercel/output');

  const func = path.join(output, 'functions/api/index.func');
  const vc = JSON.parse(readFileSync(path.join(func, '.vc-config.json'), 'utf8')) as { handler: string };
  const storage: Record<string, string> = testRedisUrl ? { REDIS_URL: testRedisUrl } : { STORAGE: 'memory' };
  launcher = spawn(process.execPath, ['--input-type=module', '-e', LAUNCHER, path.join(func, vc.handler)], {
    cwd: func,
    env: { PATH: process.env['PATH'] ?? '', VERCEL: '1', LOG_LEVEL: 'silent', ...storage },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const started = performance.now();
  functionUrl = await new Promise<string>((resolve, reject) => {
    let stderr = '';
    launcher?.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    launcher?.stdout?.on('data', (chunk: Buffer) => {
      const match = /listening (\d+)/.exec(chunk.toString());
      if (match) resolve(`http://127.0.0.1:${match[1]}`);
    });
    launcher?.on('exit', (code) => reject(new Error(`the function exited (${code}): ${stderr}`)));
  });
  timings['function start'] = Math.round(performance.now() - started);
}, BUILD_TIMEOUT_MS + 60_000);

// Removing the clone's node_modules (tens of thousands of files) can outlast the default hook
// timeout on a loaded machine.
afterAll(() => {
  launcher?.kill();
  const removing = performance.now();
  if (work) rmSync(work, { recursive: true, force: true });
  timings['clean up'] = Math.round(performance.now() - removing);
  console.log(`vercel-build timings (ms): ${JSON.stringify(timings)}`);
}, 240_000);

function routes(): Route[] {
  return (JSON.parse(readFileSync(path.join(output, 'config.json'), 'utf8')) as { routes: Route[] }).routes;
}

function staticFile(urlPath: string): string | undefined {
  const file = path.join(output, 'static', decodeURIComponent(urlPath));
  return existsSync(file) && statSync(file).isFile() ? file : undefined;
}

/**
 * Where Vercel's routing sends `urlPath` per config.json: the filesystem phase (a static file),
 * then the first route that matches; a rewrite to the function keeps the request's own URL.
 */
async function request(urlPath: string): Promise<{ from: 'static' | 'function'; status: number; type: string; body: string }> {
  const list = routes();
  const fsIndex = list.findIndex((route) => route.handle === 'filesystem');
  for (const route of list.slice(0, fsIndex)) {
    if (route.src && new RegExp(route.src).test(urlPath)) throw new Error(`unexpected route before filesystem: ${route.src}`);
  }
  const file = staticFile(urlPath === '/' ? '/index.html' : urlPath);
  if (file) {
    const type = file.endsWith('.html') ? 'text/html' : file.endsWith('.js') ? 'text/javascript' : 'other';
    return { from: 'static', status: 200, type, body: readFileSync(file, 'utf8') };
  }
  const rewrite = list.slice(fsIndex + 1).find((route) => route.src && new RegExp(route.src).test(urlPath));
  expect(rewrite?.dest, `a route for ${urlPath}`).toBe('/api');
  const response = await fetch(`${functionUrl}${urlPath}`);
  return { from: 'function', status: response.status, type: response.headers.get('content-type') ?? '', body: await response.text() };
}

describe('vercel build on a fresh clone', () => {
  it('writes the page and its assets as static files and the app as one Node function', () => {
    expect(routes()[0]).toEqual({ handle: 'filesystem' });
    expect(staticFile('/index.html')).toBeDefined();
    expect(staticFile('/docs/assets/swagger-ui-bundle.js')).toBeDefined();
    const vc = JSON.parse(readFileSync(path.join(output, 'functions/api/index.func/.vc-config.json'), 'utf8'));
    expect(vc).toMatchObject({ handler: 'api/index.js', launcherType: 'Nodejs', maxDuration: 60, supportsCancellation: true });
    expect(vc.runtime).toMatch(/^nodejs\d+\.x$/);
    // The function is the bundle (npm run build, issue #16): no package is traced into it.
    const func = path.join(output, 'functions/api/index.func');
    expect(existsSync(path.join(func, 'dist/vercel/server.js'))).toBe(true);
    expect(existsSync(path.join(func, 'node_modules/zod'))).toBe(false);
  });

  it('serves / and the page assets it names from static files', async () => {
    const page = await request('/');
    expect(page).toMatchObject({ from: 'static', status: 200 });
    const assets = [...page.body.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((match) => match[1] as string);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) expect(await request(asset)).toMatchObject({ from: 'static', status: 200 });
  });

  it('serves the PWA files (manifest, service worker, icons) from static files at the root', async () => {
    const page = await request('/');
    expect(page.body).toContain('<link rel="manifest" href="/manifest.webmanifest">');
    const manifest = JSON.parse((await request('/manifest.webmanifest')).body) as { icons: Array<{ src: string }> };
    expect(manifest.icons.length).toBeGreaterThan(0);
    for (const file of ['/manifest.webmanifest', '/sw.js', ...manifest.icons.map((icon) => icon.src)]) {
      expect(await request(file), file).toMatchObject({ from: 'static', status: 200 });
    }
  });

  it('serves /docs from the function and its assets from static files', async () => {
    const docs = await request('/docs');
    expect(docs).toMatchObject({ from: 'function', status: 200 });
    expect(docs.type).toContain('text/html');
    for (const asset of docs.body.match(/\/docs\/assets\/[\w.-]+/g) ?? []) {
      expect(await request(asset), asset).toMatchObject({ from: 'static', status: 200 });
    }
  });

  it('serves /openapi.json and a pet route from the function', async () => {
    const spec = await request('/openapi.json');
    expect(spec).toMatchObject({ from: 'function', status: 200 });
    expect(JSON.parse(spec.body)).toHaveProperty('openapi');
    const id = `vercel_build_${Date.now()}`;
    const state = await request(`/api/pet/${id}/state`);
    expect(state, state.body).toMatchObject({ from: 'function', status: 200 });
    expect(JSON.parse(state.body)).toMatchObject({ device_id: id });
  });
});
