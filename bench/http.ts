/**
 * HTTP benchmark (docs/design.md §7), every figure measured in one run on 127.0.0.1 with autocannon:
 * - GET state and POST interact on file storage and on Redis (a throwaway redis-server);
 * - beside a bare node:http handler doing the same Redis work per request (one MGET of the pet's
 *   keys; one EVALSHA of the same compare-and-set script when it writes): throughput ratio
 *   (target ≥ 0.8) and p99 ratio (target ≤ 1.5×);
 * - beside, as a diagnostic only, our real pet service behind a hand-written node:http handler
 *   (no Hono): it splits the gap into the service's own work and the HTTP framework's;
 * - POST catchup {hours: 24} against a GET state doing the same storage work (target ≤ 1.2×): on
 *   a second server at TIME_SCALE=1000 every GET state crosses simulated minutes, so it loads and
 *   saves like catch-up does; against the plain GET state (one read) as information;
 * - Redis commands per request from INFO commandstats (target 2 for a change).
 * Servers run as child processes (the built dist/src/main.js, and this file with
 * `--baseline-server`, `--service-server` or `--floor-server`), so the load generator does not share their event
 * loop.
 *
 * The machine may be noisy (a shared 2-core VM: the same case measured twice in a row differed
 * widely in req/s), so compared servers are measured in interleaved rounds, each ratio is taken
 * within one round, and the median over rounds is reported with its min–max. Beside req/s, each
 * window reports the server process's CPU time per request (/proc/<pid>/stat): at saturation it
 * bounds throughput, and it usually varies less than req/s.
 *
 * `npm run bench -- http` runs it alone. With HTTP_BENCH_PART=get-state it runs only the Redis GET
 * state rounds (pet-life, and bare node:http), printed and not written to docs/benchmarks.md; with
 * HTTP_BENCH_BEFORE=<folder of another built checkout> that checkout's dist/src/main.js is measured
 * in the same rounds, for a before/after of a change on this machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { createClient } from '@redis/client';
import type { Action } from '../src/engine/index.js';
import { CAS_SCRIPT, petKeys } from '../src/storage/index.js';
import { freePort, startRedisServer } from '../test/helpers/redis-process.js';
import { ensureServerBuilt, PROJECT_ROOT, SERVER_ENTRY } from '../test/helpers/server-process.js';
import { cpuSeconds, stopChild } from './proc.js';

export const WARMUP_S = 2;
/** One measured window of a server in a round (and of each file-storage case). */
export const WINDOW_S = 2;
export const ROUNDS = 6;
export const CONNECTIONS = 32;
export const PETS = 1000;
/** Simulated ms per wall ms on the server whose every GET state catches up and saves. */
const SCALED_TIME_SCALE = 1000;
const SYSTEMS = ['rhythm', 'energy', 'satiety', 'mood', 'stats'] as const;

export interface Measure {
  rps: number;
  p50: number;
  p99: number;
  mean: number;
  non2xx: number;
  errors: number;
  /** Server CPU time (user + system) per completed request, µs; null where /proc is missing. */
  cpuUs: number | null;
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
  const save = async (
    id: string,
    keys: string[],
    version: number,
    meta: Record<string, unknown>,
    systems: Array<Record<string, unknown>>,
  ) => {
    const args = [
      String(version),
      '0',
      JSON.stringify({ ...meta, version: version + 1 }),
      String(SYSTEMS.length),
      ...systems.map((s) => JSON.stringify(s)),
    ];
    // As casArguments: new version, now, the extras bound; KEYS name the extras index too (untouched without extras).
    args.push(String(version + 1), String(Date.now()), '200');
    const casKeys = [...keys, petKeys(id).extrasIndex];
    const reply = (await client.sendCommand(['EVALSHA', sha, String(casKeys.length), ...casKeys, ...args])) as unknown[];
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
            if (!(await save(id, keys, version, meta, systems))) continue;
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

// ── the floor: node:http answering a fixed body (runs in a child process) ──

/**
 * What no server of a GET state can go below on this machine: node:http answering a fixed body of
 * a state document's size (1.5 KB) with the headers pet-life sends (security, CORS, request id,
 * Cache-Control, ETag, Server-Timing), no storage and no work (DESIGN §7, the request-path targets).
 */
async function runFloorServer(port: number): Promise<void> {
  const { SECURITY_HEADERS } = await import('../src/http/request-frame.js');
  const body = JSON.stringify({ device_id: 'floor', padding: 'x'.repeat(1450) });
  const headers: Record<string, string> = {
    ...Object.fromEntries(SECURITY_HEADERS),
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'X-Request-Id, Idempotent-Replayed, Retry-After, RateLimit, RateLimit-Policy, WWW-Authenticate, ETag',
    'Cache-Control': 'private, no-cache',
    ETag: '"floorfloorfloorfloorfl"',
    'Content-Type': 'application/json',
  };
  createServer((req, res) => {
    req.resume();
    res.writeHead(200, { ...headers, 'X-Request-Id': randomUUID(), 'Server-Timing': 'total;dur=0.1' }).end(body);
  }).listen(port, '127.0.0.1');
}

// ── our pet service on a bare node:http handler (runs in a child process; a diagnostic) ──

/**
 * The service exactly as `node dist/src/main.js` runs it (the built modules, the same storage
 * driver, logger and perform call, one pino line per request, the same headers), minus Hono and
 * its node adapter: what it costs above the bare baseline is the service's own work; what ours
 * costs above it is the HTTP framework's.
 */
async function runServiceServer(redisUrl: string, port: number): Promise<void> {
  const built = (file: string) => pathToFileURL(path.join(PROJECT_ROOT, 'dist', 'src', file)).href;
  const { createRedisStorage } = (await import(built('storage/redis.js'))) as typeof import('../src/storage/redis.js');
  const { createPetService, interactOperation, stateOperation, systemClock } = (await import(
    built('service/index.js')
  )) as typeof import('../src/service/index.js');
  const { SECURITY_HEADERS } = (await import(built('http/request-frame.js'))) as typeof import('../src/http/request-frame.js');
  const { createLogger } = (await import(built('log.js'))) as typeof import('../src/log.js');
  const { PetLifeError } = (await import(built('errors.js'))) as typeof import('../src/errors.js');

  // Buffered and flushed every second, like src/main.ts; the lines go to the ignored stdout.
  const log = createLogger({ level: 'info', sync: false });
  setInterval(() => log.flush(), 1000).unref();
  const storage = createRedisStorage({ url: redisUrl, log });
  const service = createPetService({ storage, clock: systemClock, timeScale: 1 });
  // What the request frame adds to every answer with the default CORS_ORIGINS=*.
  const frameHeaders: Record<string, string> = Object.fromEntries(SECURITY_HEADERS);
  frameHeaders['Access-Control-Allow-Origin'] = '*';
  frameHeaders['Access-Control-Expose-Headers'] =
    'X-Request-Id, Idempotent-Replayed, Retry-After, RateLimit, RateLimit-Policy, WWW-Authenticate';

  const server = createServer((req, res) => {
    const started = performance.now();
    const match = /^\/api\/pet\/([A-Za-z0-9_-]{1,64})\/(state|interact)$/.exec(req.url ?? '');
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    const [, id = '', route = ''] = match;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const requestId = randomUUID();
        let status = 200;
        let body: string;
        let roundTrips = 0;
        try {
          // interactOperation refuses an unknown action itself, as the route's schema would.
          const action = () => (JSON.parse(Buffer.concat(chunks).toString() || '{}') as { action?: Action }).action ?? ('' as Action);
          const operation = route === 'interact' ? interactOperation(action(), 'zh') : stateOperation('zh');
          const answer = await service.perform(id, operation, {
            bearer: null,
            client: null,
            idempotency: null,
            render: (document) => document,
          });
          roundTrips = answer.roundTrips;
          body = JSON.stringify(answer.value.body);
        } catch (error) {
          // Enough to see a failure in the non-2xx column; src/http/errors.ts has the full mapping.
          const code = error instanceof PetLifeError ? error.code : 'internal';
          status = code.startsWith('invalid_') ? 400 : 503;
          body = JSON.stringify({ error: { code, message: error instanceof Error ? error.message : String(error) } });
        }
        res.writeHead(status, {
          ...frameHeaders,
          'X-Request-Id': requestId,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        });
        res.end(body);
        const line = {
          method: req.method,
          path: `/api/pet/${id}/${route}`,
          route: `/api/pet/:device_id/${route}`,
          device: id,
          status,
          duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
          backend: storage.name,
          round_trips: roundTrips,
          request_id: requestId,
        };
        if (status >= 500) log.warn(line, 'request');
        else log.info(line, 'request');
      })();
    });
  });
  server.listen(port, '127.0.0.1');
}

// ── orchestration ──

/** A server under load: where it listens, its process (for CPU time), the pets it is driven on. */
export interface Server {
  url: string;
  child: ChildProcess;
  /** Pets are `<pets>-0` … `<pets>-(PETS-1)`. */
  pets: string;
  /** Kinds of request already warmed up on this server. */
  warmed: Set<Kind>;
}

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

/** Starts a server process on a free port, recorded in `children` at once so that `finally` stops it even if it never answers. */
export async function startServer(
  children: ChildProcess[],
  argsFor: (port: number) => string[],
  env: Record<string, string>,
  ready: string,
  pets: string,
): Promise<Server> {
  const port = await freePort();
  const child = spawnServer(argsFor(port), { PORT: String(port), ...env });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}${ready}`);
  return { url, child, pets, warmed: new Set() };
}

export function startOurs(children: ChildProcess[], env: Record<string, string>, pets = 'bench'): Promise<Server> {
  // Rate limits off: the load comes from one address, 32 connections deep (docs/reliability.md).
  const limitsOff = { RATE_LIMIT_PER_PET: '0', RATE_LIMIT_PER_CLIENT: '0' };
  return startServer(children, () => [SERVER_ENTRY], { HOST: '127.0.0.1', LOG_LEVEL: 'info', ...limitsOff, ...env }, '/health', pets);
}

/** This file as a server: `--baseline-server` (bare node:http) or `--service-server` (our service on bare node:http). */
function startThisFile(
  children: ChildProcess[],
  mode: '--baseline-server' | '--service-server' | '--floor-server',
  redisUrl: string,
): Promise<Server> {
  const argsFor = (port: number) => ['--import', 'tsx', fileURLToPath(import.meta.url), mode, redisUrl, String(port)];
  return startServer(children, argsFor, {}, '/api/pet/warm/state', 'bench');
}

type Kind = 'state' | 'interact' | 'catchup';

/** Seconds of load generated so far (warm-ups included), for the time budget line. */
let loadSeconds = 0;

async function load(server: Server, kind: Kind, seconds: number): Promise<Measure> {
  const method = kind === 'state' ? 'GET' : 'POST';
  const body = kind === 'interact' ? JSON.stringify({ action: 'feed' }) : kind === 'catchup' ? JSON.stringify({ hours: 24 }) : undefined;
  loadSeconds += seconds;
  const cpuBefore = cpuSeconds(server.child.pid);
  const result = await autocannon({
    url: server.url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method,
        ...(body ? { body, headers: { 'content-type': 'application/json' } } : {}),
        setupRequest: (request) => ({ ...request, path: `/api/pet/${server.pets}-${Math.floor(Math.random() * PETS)}/${kind}` }),
      },
    ],
  });
  const cpuAfter = cpuSeconds(server.child.pid);
  const cpuUs =
    cpuBefore !== null && cpuAfter !== null && result.requests.total > 0 ? ((cpuAfter - cpuBefore) * 1e6) / result.requests.total : null;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.average,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    cpuUs,
  };
}

async function warmUp(server: Server, kind: Kind): Promise<void> {
  if (server.warmed.has(kind)) return;
  await load(server, kind, WARMUP_S);
  server.warmed.add(kind);
}

/** One warm-up and one window: for the file-storage rows, where a single measurement will do. */
async function measureOnce(server: Server, kind: Kind): Promise<Measure> {
  await warmUp(server, kind);
  return load(server, kind, WINDOW_S);
}

/** A server and the request it is driven with, in a comparison. */
interface Entrant {
  server: Server;
  kind: Kind;
}

/**
 * Measures the entrants in ROUNDS rounds of one WINDOW_S window each, the order reversed every
 * other round (A B, B A, A B …) so that neither side always runs first after the other's load;
 * returns each entrant's windows, round by round, in the order given.
 */
export async function interleaved(entrants: readonly Entrant[]): Promise<Measure[][]> {
  for (const { server, kind } of entrants) await warmUp(server, kind);
  const windows: Measure[][] = entrants.map(() => []);
  for (let round = 0; round < ROUNDS; round += 1) {
    const order = entrants.map((_, index) => index);
    if (round % 2 === 1) order.reverse();
    for (const index of order) {
      const entrant = entrants[index];
      if (entrant) windows[index]?.push(await load(entrant.server, entrant.kind, WINDOW_S));
    }
  }
  return windows;
}

export async function seed(server: Server): Promise<void> {
  for (let start = 0; start < PETS; start += 50) {
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        fetch(`${server.url}/api/pet/${server.pets}-${start + i}/interact`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"action":"greet"}',
        }).then((response) => response.arrayBuffer()),
      ),
    );
  }
}

/** Redis commands per request for `count` sequential requests of `kind`, from INFO commandstats. */
async function commandsPerRequest(
  redisUrl: string,
  server: Server,
  kind: Kind,
  count: number,
): Promise<{ perRequest: number; detail: string }> {
  const client = createClient({ url: redisUrl });
  await client.connect();
  try {
    await client.sendCommand(['CONFIG', 'RESETSTAT']);
    for (let i = 0; i < count; i += 1) {
      const response = await fetch(`${server.url}/api/pet/${server.pets}-${i % PETS}/${kind}`, {
        method: kind === 'state' ? 'GET' : 'POST',
        ...(kind === 'state'
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: kind === 'interact' ? '{"action":"play"}' : '{"hours":24}' }),
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

// ── summaries ──

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? NaN) : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

/** A case over its rounds: the median of each figure; failures summed; CPU n/a if any window lacks it. */
export function summarize(windows: readonly Measure[]): Measure {
  const cpu = windows.map((m) => m.cpuUs);
  return {
    rps: median(windows.map((m) => m.rps)),
    p50: median(windows.map((m) => m.p50)),
    p99: median(windows.map((m) => m.p99)),
    mean: median(windows.map((m) => m.mean)),
    non2xx: windows.reduce((sum, m) => sum + m.non2xx, 0),
    errors: windows.reduce((sum, m) => sum + m.errors, 0),
    cpuUs: cpu.every((value) => value !== null) ? median(cpu as number[]) : null,
  };
}

/** A figure over the rounds: its median and range. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Round by round. */
  values: number[];
}

/**
 * `combine(a, b)` of each round's windows (a ratio, a difference), taken within the round so that
 * both sides saw the same machine; null when a figure is missing (CPU without /proc).
 */
export function perRound(
  a: readonly Measure[],
  b: readonly Measure[],
  pick: (m: Measure) => number | null,
  combine = (x: number, y: number) => x / y,
): Spread | null {
  const values: number[] = [];
  for (const [round, windowA] of a.entries()) {
    const windowB = b[round];
    const x = pick(windowA);
    const y = windowB === undefined ? null : pick(windowB);
    if (x === null || y === null) return null;
    values.push(combine(x, y));
  }
  if (values.length === 0) return null;
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), values };
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const fmtCpu = (us: number | null) => (us === null ? 'n/a' : fmt(us));
export const fmtSpread = (spread: Spread | null, digits = 2, unit = '') =>
  spread === null ? 'n/a' : `${fmt(spread.median, digits)}${unit} (${fmt(spread.min, digits)}–${fmt(spread.max, digits)})`;
export const row = (name: string, m: Measure) =>
  `| ${name} | ${fmt(m.rps)} | ${fmt(m.p50, 1)} | ${fmt(m.p99, 1)} | ${fmt(m.mean, 2)} | ${fmtCpu(m.cpuUs)} | ${m.non2xx + m.errors} |`;
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
const rps = (m: Measure) => m.rps;
const p99 = (m: Measure) => m.p99;
const mean = (m: Measure) => m.mean;
const cpu = (m: Measure) => m.cpuUs;

/** HTTP_BENCH_PART=get-state: the Redis GET state rounds only, optionally against an earlier build. */
async function getStatePart(): Promise<{ title: string; markdown: string }> {
  const started = performance.now();
  ensureServerBuilt();
  const before = process.env['HTTP_BENCH_BEFORE'];
  const redis = await startRedisServer();
  const children: ChildProcess[] = [];
  try {
    const ours = await startOurs(children, { REDIS_URL: redis.url });
    await seed(ours);
    const entrants: Entrant[] = [{ server: ours, kind: 'state' }];
    if (before !== undefined) {
      const limitsOff = { RATE_LIMIT_PER_PET: '0', RATE_LIMIT_PER_CLIENT: '0' };
      const env = { HOST: '127.0.0.1', LOG_LEVEL: 'info', REDIS_URL: redis.url, ...limitsOff };
      const earlier = await startServer(children, () => [path.join(before, 'dist', 'src', 'main.js')], env, '/health', 'bench');
      entrants.push({ server: earlier, kind: 'state' });
    }
    entrants.push({ server: await startThisFile(children, '--floor-server', redis.url), kind: 'state' });
    entrants.push({ server: await startThisFile(children, '--baseline-server', redis.url), kind: 'state' });
    const windows = await interleaved(entrants);
    const oursWindows = windows[0] ?? [];
    const floorWindows = windows.at(-2) ?? [];
    const bareWindows = windows.at(-1) ?? [];
    const beforeWindows = before === undefined ? null : (windows[1] ?? []);
    const lines = [
      `HTTP_BENCH_PART=get-state: ${ROUNDS} interleaved rounds of ${WINDOW_S} s per server, ${CONNECTIONS} connections, ${PETS} pets, Redis;`,
      `took ${fmt((performance.now() - started) / 1000)} s.`,
      '',
      '| case | req/s | p50 ms | p99 ms | mean ms | server CPU µs/req | non-2xx |',
      '|---|---:|---:|---:|---:|---:|---:|',
      row('redis: GET state — pet-life (this checkout)', summarize(oursWindows)),
      ...(beforeWindows === null ? [] : [row(`redis: GET state — pet-life (${before})`, summarize(beforeWindows))]),
      row('redis: GET state — naive (bare node:http, MGET per request)', summarize(bareWindows)),
      row('floor: node:http, a fixed 1.5 KB body, the same headers', summarize(floorWindows)),
      '',
      '| per round: median (min–max) | value | target |',
      '|---|---:|---|',
      `| throughput vs naive | ${fmtSpread(perRound(oursWindows, bareWindows, rps))} | ≥ 1.2 |`,
      `| p99 vs naive | ${fmtSpread(perRound(oursWindows, bareWindows, p99))} | ≤ 1.0 |`,
      `| server CPU vs naive | ${fmtSpread(perRound(oursWindows, bareWindows, cpu), 2, '×')} | < 1 |`,
      `| server CPU vs floor | ${fmtSpread(perRound(oursWindows, floorWindows, cpu), 2, '×')} | ≤ 2.0 |`,
      ...(beforeWindows === null
        ? []
        : [
            `| throughput, before vs bare | ${fmtSpread(perRound(beforeWindows, bareWindows, rps))} |`,
            `| throughput, this ÷ before | ${fmtSpread(perRound(oursWindows, beforeWindows, rps))} |`,
            `| server CPU µs/request, before − this | ${fmtSpread(
              perRound(beforeWindows, oursWindows, cpu, (x, y) => x - y),
              0,
              ' µs',
            )} |`,
          ]),
    ];
    return { title: 'HTTP: GET state on Redis only (HTTP_BENCH_PART=get-state)', markdown: lines.join('\n') };
  } finally {
    await Promise.all(children.map(stopChild));
    await redis.stop();
  }
}

export default async function bench(): Promise<{ title: string; markdown: string }> {
  if (process.env['HTTP_BENCH_PART'] === 'get-state') return getStatePart();
  if (process.env['HTTP_BENCH_PART'] !== undefined) throw new Error('HTTP_BENCH_PART must be get-state (or unset)');
  const started = performance.now();
  ensureServerBuilt();
  const redis = await startRedisServer();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pet-life-bench-'));
  const children: ChildProcess[] = [];
  try {
    // File storage: single measurements.
    const file = await startOurs(children, { DATA_DIR: dataDir, STORAGE: 'file' });
    await seed(file);
    const fileState = await measureOnce(file, 'state');
    const fileInteract = await measureOnce(file, 'interact');
    await stopChild(file.child);

    // Redis: ours, our service on bare node:http, and the bare baseline, on the same pets.
    const ours = await startOurs(children, { REDIS_URL: redis.url });
    await seed(ours);
    const service = await startThisFile(children, '--service-server', redis.url);
    const bare = await startThisFile(children, '--baseline-server', redis.url);

    const [oursState = [], serviceState = [], bareState = []] = await interleaved([
      { server: ours, kind: 'state' },
      { server: service, kind: 'state' },
      { server: bare, kind: 'state' },
    ]);
    const [oursInteract = [], serviceInteract = [], bareInteract = []] = await interleaved([
      { server: ours, kind: 'interact' },
      { server: service, kind: 'interact' },
      { server: bare, kind: 'interact' },
    ]);
    // Catch-up against a plain GET state (within a minute: one read), as information.
    const [oursPlainState = [], oursCatchup = []] = await interleaved([
      { server: ours, kind: 'state' },
      { server: ours, kind: 'catchup' },
    ]);

    // A second instance on the same Redis, at TIME_SCALE=1000: a pet read every few hundred ms
    // has crossed several simulated minutes, so its GET state loads, advances and saves (MGET +
    // EVALSHA), the storage work of a catch-up. Snapshots off: with them both would skip the
    // MGET of a held pet, and the comparison is about the read + compare-and-set.
    const scaled = await startOurs(children, { REDIS_URL: redis.url, TIME_SCALE: String(SCALED_TIME_SCALE), SNAPSHOTS: 'off' }, 'scaled');
    await seed(scaled);
    const [scaledState = [], scaledCatchup = []] = await interleaved([
      { server: scaled, kind: 'state' },
      { server: scaled, kind: 'catchup' },
    ]);

    const commands = {
      state: await commandsPerRequest(redis.url, ours, 'state', 500),
      interact: await commandsPerRequest(redis.url, ours, 'interact', 500),
      catchup: await commandsPerRequest(redis.url, ours, 'catchup', 200),
      scaledState: await commandsPerRequest(redis.url, scaled, 'state', 500),
      serviceInteract: await commandsPerRequest(redis.url, service, 'interact', 500),
      bareInteract: await commandsPerRequest(redis.url, bare, 'interact', 500),
    };

    const stateRps = perRound(oursState, bareState, rps);
    const stateP99 = perRound(oursState, bareState, p99);
    const stateCpu = perRound(oursState, bareState, cpu);
    const interactRps = perRound(oursInteract, bareInteract, rps);
    const interactP99 = perRound(oursInteract, bareInteract, p99);
    const interactCpu = perRound(oursInteract, bareInteract, cpu);
    const catchupVsPlain = perRound(oursCatchup, oursPlainState, mean);
    const catchupVsPlainCpu = perRound(oursCatchup, oursPlainState, cpu);
    const catchupVsSaving = perRound(scaledCatchup, scaledState, mean);
    const catchupVsSavingCpu = perRound(scaledCatchup, scaledState, cpu);
    /** The verdict of the median, with how many rounds agree (a split says how close the call is). */
    const met = (spread: Spread | null, ok: (value: number) => boolean) => {
      if (spread === null) return '';
      const rounds = spread.values.filter(ok).length;
      return `${verdict(ok(spread.median))} (met in ${rounds} of ${spread.values.length} rounds)`;
    };
    const twoCommands = Math.abs(commands.scaledState.perRequest - 2) < 0.01;

    /** The diagnostic split of one kind: CPU per request above bare, the service's part and the framework's. */
    const split = (oursWindows: Measure[], serviceWindows: Measure[], bareWindows: Measure[]) => {
      const serviceWork = perRound(serviceWindows, bareWindows, cpu, (x, y) => x - y);
      const framework = perRound(oursWindows, serviceWindows, cpu, (x, y) => x - y);
      const share = (part: Spread | null) => {
        if (part === null || serviceWork === null || framework === null) return 'n/a';
        const gap = serviceWork.median + framework.median;
        return `${fmtSpread(part, 0, ' µs')}; ${fmt((100 * part.median) / gap)} % of the gap`;
      };
      return {
        cpu: [summarize(bareWindows), summarize(serviceWindows), summarize(oursWindows)].map((m) => fmtCpu(m.cpuUs)).join(' / '),
        serviceWork: share(serviceWork),
        framework: share(framework),
        serviceVsBare: fmtSpread(perRound(serviceWindows, bareWindows, rps)),
        oursVsService: fmtSpread(perRound(oursWindows, serviceWindows, rps)),
      };
    };
    // How much one server's figures moved between its own rounds: what a single window would risk.
    const cases = [
      oursState,
      serviceState,
      bareState,
      oursInteract,
      serviceInteract,
      bareInteract,
      oursPlainState,
      oursCatchup,
      scaledState,
      scaledCatchup,
    ];
    const swing = (pick: (m: Measure) => number | null) => {
      const swings = cases
        .map((windows) => windows.map(pick))
        .filter((values): values is number[] => values.every((value) => value !== null));
      if (swings.length < cases.length) return 'n/a';
      const ratios = swings.map((values) => Math.max(...values) / Math.min(...values));
      return `up to ${fmt(Math.max(...ratios), 2)}× (median ${fmt(median(ratios), 2)}×)`;
    };
    const stateSplit = split(oursState, serviceState, bareState);
    const interactSplit = split(oursInteract, serviceInteract, bareInteract);

    const markdown = [
      `autocannon, ${CONNECTIONS} connections, ${PETS} pets picked at random per request; servers are separate processes on 127.0.0.1`,
      '(ours: `node dist/src/main.js`, LOG_LEVEL=info, rate limits off; Redis: a throwaway `redis-server`).',
      `Redis rows: the compared servers are measured in ${ROUNDS} interleaved rounds of ${WINDOW_S} s per server (order A B, B A, A B …)`,
      `after one ${WARMUP_S} s warm-up per server and kind; each figure is the median over the rounds. File rows: one ${WINDOW_S} s window`,
      `after a ${WARMUP_S} s warm-up. Server CPU is the server process's user + system time over the window (/proc/<pid>/stat)`,
      'divided by the requests completed in it.',
      `This section took ${fmt((performance.now() - started) / 1000)} s: ${fmt(loadSeconds)} s of load, plus start-up, seeding and the sequential command counts.`,
      '',
      '| case | req/s | p50 ms | p99 ms | mean ms | server CPU µs/req | non-2xx |',
      '|---|---:|---:|---:|---:|---:|---:|',
      row('file: GET state — pet-life', fileState),
      row('file: POST interact — pet-life', fileInteract),
      row('redis: GET state — pet-life', summarize(oursState)),
      row('redis: GET state — pet service on bare node:http (diagnostic)', summarize(serviceState)),
      row('redis: GET state — bare node:http', summarize(bareState)),
      row('redis: POST interact — pet-life', summarize(oursInteract)),
      row('redis: POST interact — pet service on bare node:http (diagnostic)', summarize(serviceInteract)),
      row('redis: POST interact — bare node:http', summarize(bareInteract)),
      row('redis: GET state, paired with catch-up (1 read within a minute) — pet-life', summarize(oursPlainState)),
      row('redis: POST catchup 24 h — pet-life', summarize(oursCatchup)),
      row(`redis: GET state (read + save) — pet-life at TIME_SCALE=${SCALED_TIME_SCALE}`, summarize(scaledState)),
      row(`redis: POST catchup 24 h — pet-life at TIME_SCALE=${SCALED_TIME_SCALE}`, summarize(scaledCatchup)),
      '',
      `Between the ${ROUNDS} rounds of one Redis case (max ÷ min), req/s moved ${swing(rps)}; server CPU µs/request moved ${swing(cpu)}.`,
      '',
      '| target | measured: median (min–max over rounds) | server CPU µs/request, first ÷ second: median (min–max) | |',
      '|---|---:|---:|---|',
      `| GET state throughput vs bare (≥ 0.8) | ${fmtSpread(stateRps)} | ${fmtSpread(stateCpu, 2, '×')} | ${met(stateRps, (r) => r >= 0.8)} |`,
      `| GET state p99 vs bare (≤ 1.5×) | ${fmtSpread(stateP99, 2, '×')} | | ${met(stateP99, (r) => r <= 1.5)} |`,
      `| POST interact throughput vs bare (≥ 0.8) | ${fmtSpread(interactRps)} | ${fmtSpread(interactCpu, 2, '×')} | ${met(interactRps, (r) => r >= 0.8)} |`,
      `| POST interact p99 vs bare (≤ 1.5×) | ${fmtSpread(interactP99, 2, '×')} | | ${met(interactP99, (r) => r <= 1.5)} |`,
      `| catchup 24 h mean latency vs a state request doing the same storage work, TIME_SCALE=${SCALED_TIME_SCALE} (≤ 1.2×) | ${fmtSpread(catchupVsSaving, 2, '×')} | ${fmtSpread(catchupVsSavingCpu, 2, '×')} | ${met(catchupVsSaving, (r) => r <= 1.2)} |`,
      `| catchup 24 h mean latency vs a plain GET state (1 read; information) | ${fmtSpread(catchupVsPlain, 2, '×')} | ${fmtSpread(catchupVsPlainCpu, 2, '×')} | |`,
      `| Redis commands per POST interact (2) | ${fmt(commands.interact.perRequest, 2)} (${commands.interact.detail}) | | ${verdict(commands.interact.perRequest <= 2)} |`,
      `| Redis commands per POST catchup (2) | ${fmt(commands.catchup.perRequest, 2)} (${commands.catchup.detail}) | | ${verdict(commands.catchup.perRequest <= 2)} |`,
      `| Redis commands per GET state (1 when no minute passed, 2 when it did) | ${fmt(commands.state.perRequest, 2)} (${commands.state.detail}) | | ${verdict(commands.state.perRequest <= 2)} |`,
      `| Redis commands per GET state at TIME_SCALE=${SCALED_TIME_SCALE} (2: the same storage work as catch-up) | ${fmt(commands.scaledState.perRequest, 2)} (${commands.scaledState.detail}) | | ${twoCommands ? 'as intended' : '**not 2: the comparison above is not like for like**'} |`,
      `| pet service on bare node:http (diagnostic), commands per POST interact | ${fmt(commands.serviceInteract.perRequest, 2)} (${commands.serviceInteract.detail}) | | |`,
      `| bare baseline, commands per POST interact | ${fmt(commands.bareInteract.perRequest, 2)} (${commands.bareInteract.detail}) | | |`,
      '',
      '| diagnosis, not a target: where the gap to bare node:http goes | GET state | POST interact |',
      '|---|---:|---:|',
      `| server CPU µs/request: bare / pet service on bare node:http / pet-life | ${stateSplit.cpu} | ${interactSplit.cpu} |`,
      `| service's own work (decode, engine, document, headers, log line): service on node:http − bare | ${stateSplit.serviceWork} | ${interactSplit.serviceWork} |`,
      `| HTTP framework (Hono + @hono/node-server, validation, middleware): pet-life − service on node:http | ${stateSplit.framework} | ${interactSplit.framework} |`,
      `| throughput: service on node:http ÷ bare | ${stateSplit.serviceVsBare} | ${interactSplit.serviceVsBare} |`,
      `| throughput: pet-life ÷ service on node:http | ${stateSplit.oursVsService} | ${interactSplit.oursVsService} |`,
      '',
      'Ratios and differences are taken within each round (the sides measured seconds apart, on the same machine state),',
      "and the median over the rounds is shown with the min–max. The verdict is the median's, with how many rounds",
      "met the target: short windows, many rounds and per-round ratios keep other tenants' load from landing on one side only. Req/s swings with whatever else",
      'the machine runs (the line under the first table says by how much in this run). Server CPU per request is the',
      'cost side of throughput: where the server process is the bottleneck, a CPU ratio r puts the throughput ratio near',
      '1/r. It is usually steadier than req/s, but not immune: contention inflates it, and a server answering fewer',
      'requests per event-loop turn pays more per request. On 2 cores the load generator and Redis share the CPUs with',
      'the server, so the measured throughput ratio can sit above or below 1/r.',
      '',
      '"Pet service on bare node:http" is a diagnostic, not a target: this file with `--service-server`, the built',
      'PetService (createRedisStorage, createPetService, perform with stateOperation / interactOperation) behind a',
      'hand-written node:http handler with the same headers and one pino line per request, without Hono. What it costs',
      "above bare is the service's own work; what pet-life costs above it is the HTTP framework.",
      '',
      `The catch-up target compares like with like: at TIME_SCALE=1 a GET state within the same minute only reads (one`,
      `MGET), while catch-up always reads and saves. A second pet-life server at TIME_SCALE=${SCALED_TIME_SCALE} with SNAPSHOTS=off (pets \`scaled-<n>\`, same`,
      'Redis) makes every GET state of a pet read a few times a second cross several simulated minutes, so it advances',
      'and saves with compare-and-set (MGET + EVALSHA, checked above); its GET state and POST catchup are interleaved',
      'the same way. The plain-GET comparison is kept as information.',
      '',
      'Commands per request come from `INFO commandstats` over sequential requests (no conflicts); the',
      "script's own SET/GET calls inside EVALSHA are not client round trips and are left out. At TIME_SCALE=1 every",
      "pet's world clock keeps the wall clock's phase within the minute (creation, catch-up by whole hours and the",
      "baseline's writes all keep it), so the plain GET state row reads 1.00 or 2.00 depending on whether a wall-clock",
      'minute turned since the pets were last saved: all pets cross a simulated minute at the same moment.',
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
} else if (process.argv[2] === '--service-server') {
  const [redisUrl = '', port = '0'] = process.argv.slice(3);
  await runServiceServer(redisUrl, Number(port));
} else if (process.argv[2] === '--floor-server') {
  const [, port = '0'] = process.argv.slice(3);
  await runFloorServer(Number(port));
}
