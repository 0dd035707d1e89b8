/**
 * Realtime events benchmark (docs/design.md §9), on the built server (`node
 * dist/src/main.js`) as child processes on 127.0.0.1, each Redis a throwaway `redis-server`:
 * 1. cross-instance delivery latency on Redis: an SSE subscriber on instance A, sequential POST
 *    interact on instance B; latency = frame arrival − POST sent (target ≤ 250 ms);
 * 2. idle SSE connections on one process (file storage): RSS per connection and the CPU time of
 *    an idle window (heartbeats);
 * 3. Redis commands per watched pet per day: polling GET state every 10 s against one SSE
 *    subscription, over one simulated day at TIME_SCALE=1440 (docs/design.md §7: ≤ 300 on a long-running
 *    server).
 *
 * `npm run bench -- events` runs it alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@redis/client';
import { freePort, startRedisServer } from '../test/helpers/redis-process.js';
import { ensureServerBuilt, PROJECT_ROOT, SERVER_ENTRY } from '../test/helpers/server-process.js';
import { cpuSeconds, rssKiB, stopChild } from './proc.js';

/** Sequential interactions timed in the delivery benchmark (after WARMUP_POSTS untimed ones). */
const DELIVERY_POSTS = 200;
const WARMUP_POSTS = 10;
/** Idle SSE connections wanted on one process. */
const IDLE_CONNECTIONS = 5000;
/** Connections opened at once while connecting. */
const OPEN_BATCH = 250;
const IDLE_WINDOW_S = 30;
const BASELINE_WINDOW_S = 5;
/** The server's default heartbeat (EVENTS_HEARTBEAT_MS unset). */
const HEARTBEAT_MS = 15_000;
/** Simulated ms per wall ms in the commands-per-day benchmark: a day in 60 s. */
const DAY_TIME_SCALE = 1440;
const POLL_SIMULATED_S = 10;
const DAY_S = 86_400;

// ── processes ──

export interface Server {
  url: string;
  port: number;
  child: ChildProcess;
}

const BASE_ENV = { RATE_LIMIT_PER_PET: '0', RATE_LIMIT_PER_CLIENT: '0', LOG_LEVEL: 'warn', HOST: '127.0.0.1' };

export async function startServer(children: ChildProcess[], env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...BASE_ENV, PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i += 1) {
    try {
      const response = await fetch(`${url}/health`);
      await response.arrayBuffer();
      if (response.status < 500) break;
    } catch {
      // not listening yet
    }
    if (i > 300 || child.exitCode !== null) throw new Error(`${url} did not answer`);
    await sleep(50);
  }
  return { url, port, child };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ── an SSE client on node:http (one socket per stream, no pool) ──

interface SseFrame {
  event: string;
  data: string;
  at: number;
}

interface SseStream {
  close(): void;
}

interface SseHandlers {
  onFrame?: (frame: SseFrame) => void;
  onHeartbeat?: () => void;
}

/** Opens an SSE stream; resolves once the 200 headers arrived, rejects on any other status. */
export function openSse(server: Server, petId: string, handlers: SseHandlers = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      {
        host: '127.0.0.1',
        port: server.port,
        path: `/api/pet/${petId}/events`,
        headers: { accept: 'text/event-stream' },
        agent: false,
      },
      (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          reject(new Error(`events of ${petId}: HTTP ${response.statusCode}`));
          return;
        }
        response.setEncoding('utf8');
        let pending = '';
        response.on('data', (chunk: string) => {
          const at = performance.now();
          pending += chunk;
          let end = pending.indexOf('\n\n');
          while (end >= 0) {
            const block = pending.slice(0, end);
            pending = pending.slice(end + 2);
            end = pending.indexOf('\n\n');
            if (block.startsWith(':')) {
              handlers.onHeartbeat?.();
              continue;
            }
            let event = '';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data = line.slice(6);
            }
            if (event !== '') handlers.onFrame?.({ event, data, at });
          }
        });
        response.on('error', () => {});
        resolve({ close: () => request.destroy() });
      },
    );
    request.on('error', reject);
  });
}

export async function post(server: Server, pathname: string, body: unknown): Promise<number> {
  const response = await fetch(`${server.url}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

// ── summaries ──

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const fmt = (value: number | null, digits = 0) =>
  value === null || !Number.isFinite(value)
    ? 'n/a'
    : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');

// ── 1. cross-instance delivery on Redis ──

interface Delivery {
  latencies: number[];
  postRoundTrips: number[];
  lost: number;
}

async function delivery(children: ChildProcess[], redisUrl: string): Promise<Delivery> {
  const env = { STORAGE: 'redis', REDIS_URL: redisUrl };
  const a = await startServer(children, env);
  const b = await startServer(children, env);
  const pet = 'bench-delivery';
  if ((await post(b, '/api/pets', { device_id: pet })) !== 201) throw new Error('could not create the delivery pet');
  let waiting: ((frame: SseFrame) => void) | null = null;
  const stream = await openSse(a, pet, {
    onFrame: (frame) => {
      if (frame.event === 'interacted') waiting?.(frame);
    },
  });
  const result: Delivery = { latencies: [], postRoundTrips: [], lost: 0 };
  try {
    for (let i = 0; i < WARMUP_POSTS + DELIVERY_POSTS; i += 1) {
      const arrived = new Promise<SseFrame | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), 2000);
        waiting = (frame) => {
          clearTimeout(timer);
          resolve(frame);
        };
      });
      const sent = performance.now();
      const status = await post(b, `/api/pet/${pet}/interact`, { action: i % 2 === 0 ? 'feed' : 'play' });
      const answered = performance.now();
      if (status !== 200) throw new Error(`POST interact: HTTP ${status}`);
      const frame = await arrived;
      waiting = null;
      if (i < WARMUP_POSTS) continue;
      if (frame === null) result.lost += 1;
      else {
        result.latencies.push(frame.at - sent);
        result.postRoundTrips.push(answered - sent);
      }
    }
  } finally {
    stream.close();
    await Promise.all([stopChild(a.child), stopChild(b.child)]);
  }
  return result;
}

// ── 2. idle SSE connections ──

interface Idle {
  wanted: number;
  opened: number;
  failure: string | null;
  openSeconds: number;
  rssBeforeKiB: number | null;
  rssAfterKiB: number | null;
  rssEndKiB: number | null;
  baselineCpuPerS: number | null;
  idleCpuS: number | null;
  heartbeats: number;
  clientFdLimit: string;
}

async function idleConnections(children: ChildProcess[]): Promise<Idle> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pet-life-bench-events-'));
  const server = await startServer(children, {
    STORAGE: 'file',
    DATA_DIR: dataDir,
    EVENTS_MAX_SUBSCRIBERS: String(IDLE_CONNECTIONS * 2),
    EVENTS_MAX_PER_PET: String(IDLE_CONNECTIONS * 2),
  });
  const pid = server.child.pid;
  const streams: SseStream[] = [];
  let heartbeats = 0;
  let failure: string | null = null;
  try {
    // One pet per connection, each created first: every stream has its own hub entry and life-event timer.
    for (let start = 0; start < IDLE_CONNECTIONS; start += 50) {
      const statuses = await Promise.all(
        Array.from({ length: Math.min(50, IDLE_CONNECTIONS - start) }, (_, i) =>
          post(server, '/api/pets', { device_id: `idle-${start + i}` }),
        ),
      );
      if (statuses.some((status) => status !== 201)) throw new Error(`creating pets: HTTP ${statuses.find((s) => s !== 201)}`);
    }
    await sleep(2000);
    const rssBeforeKiB = rssKiB(pid);
    const cpuBaseline0 = cpuSeconds(pid);
    await sleep(BASELINE_WINDOW_S * 1000);
    const cpuBaseline1 = cpuSeconds(pid);

    const opening = performance.now();
    for (let start = 0; start < IDLE_CONNECTIONS && failure === null; start += OPEN_BATCH) {
      const batch = await Promise.allSettled(
        Array.from({ length: Math.min(OPEN_BATCH, IDLE_CONNECTIONS - start) }, (_, i) =>
          openSse(server, `idle-${start + i}`, {
            onHeartbeat: () => {
              heartbeats += 1;
            },
          }),
        ),
      );
      for (const outcome of batch) {
        if (outcome.status === 'fulfilled') streams.push(outcome.value);
        else failure ??= outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
      }
    }
    const openSeconds = (performance.now() - opening) / 1000;
    await sleep(3000);
    const rssAfterKiB = rssKiB(pid);
    heartbeats = 0;
    const cpu0 = cpuSeconds(pid);
    await sleep(IDLE_WINDOW_S * 1000);
    const cpu1 = cpuSeconds(pid);
    const rssEndKiB = rssKiB(pid);
    let clientFdLimit = 'n/a';
    try {
      clientFdLimit = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 'n/a';
    } catch {
      // no /proc
    }
    return {
      wanted: IDLE_CONNECTIONS,
      opened: streams.length,
      failure,
      openSeconds,
      rssBeforeKiB,
      rssAfterKiB,
      rssEndKiB,
      baselineCpuPerS: cpuBaseline0 !== null && cpuBaseline1 !== null ? (cpuBaseline1 - cpuBaseline0) / BASELINE_WINDOW_S : null,
      idleCpuS: cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null,
      heartbeats,
      clientFdLimit,
    };
  } finally {
    for (const stream of streams) stream.close();
    await stopChild(server.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ── 3. Redis commands per watched pet per day ──

export interface CommandCount {
  /** Commands sent by clients (MONITOR lines not run by a script), by name. */
  client: Record<string, number>;
  /** Commands run inside scripts (MONITOR `[0 lua]`), by name. */
  script: Record<string, number>;
  /** INFO commandstats after CONFIG RESETSTAT: every call, scripts' included, by name. */
  stats: Record<string, number>;
}

export const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0);
export const detail = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([, x], [, y]) => y - x)
    .map(([name, n]) => `${name.toUpperCase()} ${n}`)
    .join(', ') || 'none';

/** Counts the commands a Redis runs from now until the returned function is called. */
export async function countCommands(redisUrl: string, port: number): Promise<() => Promise<CommandCount>> {
  const admin = createClient({ url: redisUrl });
  admin.on('error', () => {});
  await admin.connect();
  const client: Record<string, number> = {};
  const script: Record<string, number> = {};
  const monitor = net.connect({ host: '127.0.0.1', port });
  monitor.setEncoding('utf8');
  let pending = '';
  let started: () => void = () => {};
  const ok = new Promise<void>((resolve) => {
    started = resolve;
  });
  monitor.on('data', (chunk: string) => {
    pending += chunk;
    let end = pending.indexOf('\r\n');
    while (end >= 0) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 2);
      end = pending.indexOf('\r\n');
      if (line === '+OK') started();
      const match = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line);
      if (!match) continue;
      const [, source = '', rawName = ''] = match;
      const name = rawName.toLowerCase();
      if (name === 'info' || name === 'config') continue; // this benchmark's own
      const into = source === 'lua' ? script : client;
      into[name] = (into[name] ?? 0) + 1;
    }
  });
  monitor.write('MONITOR\r\n');
  await ok;
  await admin.sendCommand(['CONFIG', 'RESETSTAT']);
  return async () => {
    const info = String(await admin.sendCommand(['INFO', 'commandstats']));
    await sleep(200); // the last MONITOR lines
    monitor.destroy();
    await admin.quit();
    const stats: Record<string, number> = {};
    for (const match of info.matchAll(/cmdstat_([\w|]+):calls=(\d+)/g)) {
      const [, name = '', calls = '0'] = match;
      if (name !== 'info' && name !== 'config' && name !== 'monitor') stats[name] = Number(calls);
    }
    return { client, script, stats };
  };
}

interface Day {
  wallSeconds: number;
  polls: number;
  polling: CommandCount;
  push: CommandCount;
  pushFrames: string[];
}

async function commandsPerDay(children: ChildProcess[]): Promise<Day> {
  const pollRedis = await startRedisServer();
  const pushRedis = await startRedisServer();
  try {
    const scale = { STORAGE: 'redis', TIME_SCALE: String(DAY_TIME_SCALE) };
    const pollServer = await startServer(children, { ...scale, REDIS_URL: pollRedis.url });
    const pushServer = await startServer(children, { ...scale, REDIS_URL: pushRedis.url });
    const pet = 'bench-day';
    if ((await post(pollServer, '/api/pets', { device_id: pet })) !== 201) throw new Error('could not create the polled pet');
    if ((await post(pushServer, '/api/pets', { device_id: pet })) !== 201) throw new Error('could not create the watched pet');
    const wallDayMs = (DAY_S * 1000) / DAY_TIME_SCALE;
    const pollEveryMs = (POLL_SIMULATED_S * 1000) / DAY_TIME_SCALE;

    const stopPolling = await countCommands(pollRedis.url, pollRedis.port);
    const stopPush = await countCommands(pushRedis.url, pushRedis.port);
    const started = performance.now();
    // (b) push: one SSE subscription held for the whole simulated day.
    const pushFrames: string[] = [];
    const stream = await openSse(pushServer, pet, { onFrame: (frame) => pushFrames.push(frame.event) });
    // (a) polling: GET state every 10 simulated seconds, on its own server and Redis, at the same time.
    let polls = 0;
    for (;;) {
      const elapsed = performance.now() - started;
      if (elapsed >= wallDayMs) break;
      const due = polls * pollEveryMs - elapsed;
      if (due > 0) await sleep(due);
      const response = await fetch(`${pollServer.url}/api/pet/${pet}/state`);
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`GET state: HTTP ${response.status}`);
      polls += 1;
    }
    const wallSeconds = (performance.now() - started) / 1000;
    stream.close();
    await sleep(300);
    const polling = await stopPolling();
    const push = await stopPush();
    return { wallSeconds, polls, polling, push, pushFrames };
  } finally {
    await pollRedis.stop();
    await pushRedis.stop();
  }
}

// ── the section ──

export default async function bench(): Promise<{ title: string; markdown: string }> {
  const started = performance.now();
  ensureServerBuilt();
  const children: ChildProcess[] = [];
  const redis = await startRedisServer();
  try {
    const deliveryResult = await delivery(children, redis.url);
    await redis.stop();
    const idle = await idleConnections(children);
    const day = await commandsPerDay(children);

    const { latencies, postRoundTrips } = deliveryResult;
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const max = Math.max(...latencies);
    const afterAnswer = latencies.map((latency, i) => latency - (postRoundTrips[i] ?? 0));

    const perConnKiB =
      idle.rssBeforeKiB !== null && idle.rssAfterKiB !== null && idle.opened > 0
        ? (idle.rssAfterKiB - idle.rssBeforeKiB) / idle.opened
        : null;
    const idleCpuPerS = idle.idleCpuS !== null ? idle.idleCpuS / IDLE_WINDOW_S : null;
    const expectedHeartbeats = Math.floor((idle.opened * IDLE_WINDOW_S * 1000) / HEARTBEAT_MS);
    const heartbeatCpuUs =
      idle.idleCpuS !== null && idle.heartbeats > 0
        ? ((idle.idleCpuS - (idle.baselineCpuPerS ?? 0) * IDLE_WINDOW_S) * 1e6) / idle.heartbeats
        : null;

    const dayFraction = (day.wallSeconds * DAY_TIME_SCALE) / DAY_S;
    const pollClient = total(day.polling.client);
    const perGet = day.polls > 0 ? pollClient / day.polls : NaN;
    const pollingPerDay = (perGet * DAY_S) / POLL_SIMULATED_S;
    const pushClient = total(day.push.client);
    const pushPerDay = pushClient / dayFraction;
    const pushAll = total(day.push.stats);
    const pollAll = total(day.polling.stats);
    const kib = (value: number | null) => (value === null ? 'n/a' : `${fmt(value / 1024, 1)} MiB`);

    const markdown = [
      `This section took ${fmt((performance.now() - started) / 1000)} s. Servers: \`node dist/src/main.js\` child processes on 127.0.0.1, rate limits off, LOG_LEVEL=warn;`,
      'each Redis a throwaway `redis-server`. SSE clients are node:http requests in the benchmark process, one socket each.',
      '',
      `### Cross-instance delivery on Redis`,
      '',
      `Two server processes A and B (STORAGE=redis) on one redis-server; one SSE subscriber (GET /api/pet/{id}/events) on A;`,
      `${DELIVERY_POSTS} sequential POST interact on B to the same pet, after ${WARMUP_POSTS} untimed ones; each POST waits for its \`interacted\` frame on A`,
      'before the next. Latency = frame arrival on A − POST sent to B (so it includes the POST itself).',
      '',
      '| | p50 ms | p99 ms | max ms | lost (no frame in 2 s) |',
      '|---|---:|---:|---:|---:|',
      `| frame on A − POST sent to B | ${fmt(p50, 1)} | ${fmt(p99, 1)} | ${fmt(max, 1)} | ${deliveryResult.lost} |`,
      `| of which the POST round trip on B | ${fmt(percentile(postRoundTrips, 50), 1)} | ${fmt(percentile(postRoundTrips, 99), 1)} | ${fmt(Math.max(...postRoundTrips), 1)} | |`,
      `| frame on A − answer from B (negative: the frame came first) | ${fmt(percentile(afterAnswer, 50), 1)} | ${fmt(percentile(afterAnswer, 99), 1)} | ${fmt(Math.max(...afterAnswer), 1)} | |`,
      '',
      `Target (docs/design.md §9): delivery on every instance within 250 ms — ${verdict(deliveryResult.lost === 0 && max <= 250)} (max ${fmt(max, 1)} ms over ${latencies.length}).`,
      '',
      '### Idle SSE connections on one process',
      '',
      `One server process, STORAGE=file in a temp dir, EVENTS_MAX_SUBSCRIBERS and EVENTS_MAX_PER_PET=${IDLE_CONNECTIONS * 2},`,
      `EVENTS_HEARTBEAT_MS unset (the default ${HEARTBEAT_MS / 1000} s). ${fmt(IDLE_CONNECTIONS)} pets created first (POST /api/pets), then one SSE stream per pet`,
      `(each pet has its own hub entry and life-event timer), opened ${OPEN_BATCH} at a time from this process (open-files limit ${idle.clientFdLimit}).`,
      `RSS is VmRSS (/proc/<pid>/status) 2 s after the pets were created and 3 s after the last stream opened (no forced GC);`,
      `CPU is utime + stime (/proc/<pid>/stat) over a ${IDLE_WINDOW_S} s idle window, against a ${BASELINE_WINDOW_S} s window before any stream.`,
      '',
      '| | measured |',
      '|---|---:|',
      `| streams open | ${fmt(idle.opened)} of ${fmt(idle.wanted)}${idle.failure ? ` (first failure: ${idle.failure})` : ''}, in ${fmt(idle.openSeconds, 1)} s |`,
      `| server RSS before / with the streams / after the idle window | ${kib(idle.rssBeforeKiB)} / ${kib(idle.rssAfterKiB)} / ${kib(idle.rssEndKiB)} |`,
      `| memory per connection (RSS delta ÷ streams) | ${fmt(perConnKiB, 1)} KiB |`,
      `| server CPU over the ${IDLE_WINDOW_S} s idle window | ${fmt(idle.idleCpuS, 2)} s (${fmt(idleCpuPerS === null ? null : idleCpuPerS * 100, 2)} % of one core; before the streams ${fmt(idle.baselineCpuPerS === null ? null : idle.baselineCpuPerS * 100, 2)} %) |`,
      `| heartbeats received in the window (expected ≈ ${fmt(expectedHeartbeats)}) | ${fmt(idle.heartbeats)} |`,
      `| server CPU per heartbeat (window CPU − baseline, ÷ heartbeats) | ${fmt(heartbeatCpuUs, 1)} µs |`,
      '',
      '### Redis commands per watched pet per day',
      '',
      `A device showing its pet all day, over one simulated day: two servers at TIME_SCALE=${DAY_TIME_SCALE} (a day in ${fmt(DAY_S / DAY_TIME_SCALE)} s of wall time),`,
      'each on its own redis-server, one pet each, run side by side over the same window:',
      `(a) polling: GET state every ${POLL_SIMULATED_S} simulated seconds (every ${fmt((POLL_SIMULATED_S * 1000) / DAY_TIME_SCALE, 2)} ms of wall time), sequential;`,
      "(b) push: one SSE subscription held all day and nothing else: the hub's watch, its reads after each notification, and the",
      'life-event timer bringing the pet to now at each life event.',
      'Commands are counted two ways on each Redis over the window: MONITOR, split into those clients sent (round trips) and those',
      'run inside scripts (`[0 lua]`); and `INFO commandstats` after `CONFIG RESETSTAT` (every call, scripts included).',
      `The window was ${fmt(day.wallSeconds, 1)} s (${fmt(dayFraction, 3)} simulated days); (a) completed ${fmt(day.polls)} GETs, and is reported as`,
      `${fmt(DAY_S / POLL_SIMULATED_S)} × the measured commands per GET; (b) is scaled to exactly one simulated day.`,
      '',
      '| | client commands / day | measured client commands (MONITOR) | commands inside scripts | INFO commandstats (all calls) |',
      '|---|---:|---:|---:|---:|',
      `| (a) polling every ${POLL_SIMULATED_S} s | ${fmt(pollingPerDay)} (${fmt(perGet, 3)} per GET) | ${fmt(pollClient)}: ${detail(day.polling.client)} | ${fmt(total(day.polling.script))}: ${detail(day.polling.script)} | ${fmt(pollAll)} |`,
      `| (b) push (one SSE subscription) | ${fmt(pushPerDay)} | ${fmt(pushClient)}: ${detail(day.push.client)} | ${fmt(total(day.push.script))}: ${detail(day.push.script)} | ${fmt(pushAll)} |`,
      '',
      `Events pushed to the subscriber during the day: ${day.pushFrames.length === 0 ? 'none' : day.pushFrames.join(', ')}.`,
      `Target (docs/design.md §7, long-running server): ≤ 300 client commands per watched pet per day — ${verdict(pushPerDay <= 300)} (${fmt(pushPerDay)}; polling ${fmt(pollingPerDay)}, ${fmt(pollingPerDay / pushPerDay, 0)}× more).`,
      "The watch's SUBSCRIBE is one per server process, shared by every watched pet; here it is counted in full against one pet.",
    ].join('\n');
    return { title: 'Events: cross-instance delivery, idle SSE connections, Redis commands per watched pet', markdown };
  } finally {
    await Promise.all(children.map(stopChild));
    await redis.stop();
  }
}
