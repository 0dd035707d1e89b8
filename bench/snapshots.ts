/**
 * Snapshots benchmark (docs/design.md §11), on 127.0.0.1:
 * 1. GET state throughput on Redis: pet-life (snapshots on, the default on Redis TCP) against a bare
 *    node:http handler doing the naive storage work per request — one MGET of every key of the pet
 *    and one compare-and-set (the same CAS_SCRIPT, EVALSHA) — targets ≥ 1.2× its throughput and a
 *    p99 ≤ 1.0× its p99, by doing less I/O; pet-life with SNAPSHOTS=off beside, as information.
 *    Measured with bench/http.ts's machinery: autocannon, interleaved rounds, per-round ratios.
 * 2. Redis commands per watched pet per day, over one simulated day at TIME_SCALE=1440 (60 s of wall
 *    time), four servers side by side, each on its own redis-server, commands counted with MONITOR
 *    (client commands vs those run inside scripts): polling GET state every 10 s with snapshots off
 *    and on; push (one SSE subscription) with snapshots off and on.
 *
 * `npm run bench -- snapshots` runs it alone.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createClient } from '@redis/client';
import { CAS_SCRIPT } from '../src/storage/index.js';
import { casArguments } from '../src/storage/scripts/index.js';
import { loadKeyList } from '../src/storage/keys.js';
import { startRedisServer } from '../test/helpers/redis-process.js';
import { ensureServerBuilt } from '../test/helpers/server-process.js';
import {
  countCommands,
  detail,
  openSse,
  post,
  sleep,
  startServer as startEventsServer,
  total,
  type CommandCount,
  type Server as EventsServer,
} from './events.js';
import {
  CONNECTIONS,
  PETS,
  ROUNDS,
  WARMUP_S,
  WINDOW_S,
  fmt,
  fmtSpread,
  interleaved,
  perRound,
  row,
  seed,
  startOurs,
  startServer,
  summarize,
  type Measure,
  type Spread,
} from './http.js';
import { stopChild } from './proc.js';

const DAY_TIME_SCALE = 1440;
const POLL_SIMULATED_S = 10;
const DAY_S = 86_400;

// ── the naive baseline (runs in a child process) ──

/** Bare node:http: every request MGETs every key of the pet, then compare-and-sets it (one EVALSHA of CAS_SCRIPT). */
async function runNaiveServer(redisUrl: string, port: number): Promise<void> {
  const client = createClient({ url: redisUrl, RESP: 2 });
  client.on('error', () => {});
  await client.connect();
  const sha = String(await client.sendCommand(['SCRIPT', 'LOAD', CAS_SCRIPT]));
  const server = createServer((req, res) => {
    const match = /^\/api\/pet\/([A-Za-z0-9_-]{1,64})\/(state|interact)/.exec(req.url ?? '');
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    const id = match[1] ?? '';
    req.resume();
    req.on('end', () => {
      void (async () => {
        for (;;) {
          const values = (await client.sendCommand(['MGET', ...loadKeyList(id)])) as (string | null)[];
          const stored = values[0] === null || values[0] === undefined ? null : (JSON.parse(values[0]) as Record<string, unknown>);
          const version = Number(stored?.['version'] ?? 0);
          const now = Date.now();
          const meta = {
            pet_name: 'naive',
            timezone: 'UTC',
            created_at: new Date(now).toISOString(),
            ...stored,
            world_ms: now,
            wall_ms: now,
            version: version + 1,
          };
          const names = ['rhythm', 'energy', 'satiety', 'mood', 'stats'] as const;
          const systems = Object.fromEntries(names.map((name, i) => [name, JSON.parse(values[i + 1] ?? '{}') as Record<string, unknown>]));
          const { keys, args } = casArguments(id, { expectedVersion: version, meta, systems }, undefined, now);
          const reply = (await client.sendCommand(['EVALSHA', sha, String(keys.length), ...keys, ...args])) as unknown[];
          if (Number(reply[0]) !== 1) continue;
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ device_id: id, meta, internal_state: systems }));
          return;
        }
      })().catch(() => res.writeHead(503).end());
    });
  });
  server.listen(port, '127.0.0.1');
}

// ── 1. GET state throughput ──

interface Throughput {
  ours: Measure[];
  off: Measure[];
  naive: Measure[];
  commands: { ours: string; off: string; naive: string };
}

/** Client commands (MGET, EVALSHA, EVAL, PING) per request over `count` sequential GET state, from INFO commandstats. */
async function commandsPerGet(redisUrl: string, url: string, pets: string, count: number): Promise<string> {
  const admin = createClient({ url: redisUrl, RESP: 2 });
  await admin.connect();
  try {
    await admin.sendCommand(['CONFIG', 'RESETSTAT']);
    for (let i = 0; i < count; i += 1) await (await fetch(`${url}/api/pet/${pets}-${i % PETS}/state`)).arrayBuffer();
    const info = String(await admin.sendCommand(['INFO', 'commandstats']));
    const counts: Record<string, number> = {};
    for (const match of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
      const [, name = '', calls = '0'] = match;
      if (['mget', 'evalsha', 'eval', 'ping'].includes(name)) counts[name] = Number(calls);
    }
    const sent = Object.values(counts).reduce((sum, n) => sum + n, 0);
    // Inside the scripts MGET is counted too; EVALSHA/EVAL are the client's calls and MGET is one only for the naive handler.
    return `${fmt(sent / count, 2)} (${detail(counts)}; MGET here counts the naive handler's own and the reads inside scripts)`;
  } finally {
    await admin.quit();
  }
}

async function throughput(children: ChildProcess[]): Promise<Throughput> {
  const redis = await startRedisServer();
  try {
    // Each on pets of its own: the naive handler writes on every request, which would invalidate
    // pet-life's snapshots of shared pets.
    const ours = await startOurs(children, { REDIS_URL: redis.url }, 'snap');
    const off = await startOurs(children, { REDIS_URL: redis.url, SNAPSHOTS: 'off' }, 'nosnap');
    const argsFor = (port: number) => ['--import', 'tsx', fileURLToPath(import.meta.url), '--naive-server', redis.url, String(port)];
    const naive = await startServer(children, argsFor, {}, '/api/pet/warm/state', 'naive');
    await Promise.all([seed(ours), seed(off), seed(naive)]);
    const [oursWindows = [], offWindows = [], naiveWindows = []] = await interleaved([
      { server: ours, kind: 'state' },
      { server: off, kind: 'state' },
      { server: naive, kind: 'state' },
    ]);
    const commands = {
      ours: await commandsPerGet(redis.url, ours.url, ours.pets, 500),
      off: await commandsPerGet(redis.url, off.url, off.pets, 500),
      naive: await commandsPerGet(redis.url, naive.url, naive.pets, 500),
    };
    return { ours: oursWindows, off: offWindows, naive: naiveWindows, commands };
  } finally {
    await Promise.all(children.splice(0).map(stopChild));
    await redis.stop();
  }
}

// ── 2. Redis commands per watched pet per day ──

interface Watched {
  name: string;
  count: CommandCount;
  /** GETs made (polling), or frames received (push). */
  done: number;
}

async function commandsPerDay(children: ChildProcess[]): Promise<{ wallSeconds: number; runs: Watched[] }> {
  const scale = { STORAGE: 'redis', TIME_SCALE: String(DAY_TIME_SCALE) };
  const cases = [
    { name: `polling every ${POLL_SIMULATED_S} s, SNAPSHOTS=off`, snapshots: 'off', push: false },
    { name: `polling every ${POLL_SIMULATED_S} s, snapshots on`, snapshots: 'on', push: false },
    { name: 'push (one SSE subscription), SNAPSHOTS=off', snapshots: 'off', push: true },
    { name: 'push + snapshots (one SSE subscription, snapshots on)', snapshots: 'on', push: true },
  ] as const;
  const redises = await Promise.all(cases.map(() => startRedisServer()));
  try {
    const servers: EventsServer[] = [];
    for (const [index, each] of cases.entries()) {
      servers.push(await startEventsServer(children, { ...scale, REDIS_URL: redises[index]?.url ?? '', SNAPSHOTS: each.snapshots }));
    }
    const pet = 'bench-watched';
    for (const server of servers) {
      if ((await post(server, '/api/pets', { device_id: pet })) !== 201) throw new Error('could not create the watched pet');
    }
    const wallDayMs = (DAY_S * 1000) / DAY_TIME_SCALE;
    const pollEveryMs = (POLL_SIMULATED_S * 1000) / DAY_TIME_SCALE;
    const stops = await Promise.all(redises.map((redis) => countCommands(redis.url, redis.port)));
    const done = cases.map(() => 0);
    const started = performance.now();
    const streams = await Promise.all(
      cases.map((each, index) =>
        each.push
          ? openSse(servers[index] as EventsServer, pet, {
              onFrame: () => {
                done[index] = (done[index] ?? 0) + 1;
              },
            })
          : null,
      ),
    );
    const poll = async (index: number): Promise<void> => {
      const server = servers[index] as EventsServer;
      for (let polls = 0; ; polls += 1) {
        const elapsed = performance.now() - started;
        if (elapsed >= wallDayMs) return;
        const due = polls * pollEveryMs - elapsed;
        if (due > 0) await sleep(due);
        const response = await fetch(`${server.url}/api/pet/${pet}/state`);
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`GET state: HTTP ${response.status}`);
        done[index] = polls + 1;
      }
    };
    await Promise.all(cases.map((each, index) => (each.push ? sleep(wallDayMs) : poll(index))));
    const wallSeconds = (performance.now() - started) / 1000;
    for (const stream of streams) stream?.close();
    await sleep(300);
    const counts = await Promise.all(stops.map((stop) => stop()));
    return {
      wallSeconds,
      runs: cases.map((each, index) => ({ name: each.name, count: counts[index] as CommandCount, done: done[index] ?? 0 })),
    };
  } finally {
    await Promise.all(children.splice(0).map(stopChild));
    await Promise.all(redises.map((redis) => redis.stop()));
  }
}

// ── the section ──

export default async function bench(): Promise<{ title: string; markdown: string }> {
  const started = performance.now();
  ensureServerBuilt();
  const children: ChildProcess[] = [];
  const get = await throughput(children);
  const day = await commandsPerDay(children);

  const rps = (m: Measure) => m.rps;
  const p99 = (m: Measure) => m.p99;
  const cpu = (m: Measure) => m.cpuUs;
  const vsNaiveRps = perRound(get.ours, get.naive, rps);
  const vsNaiveP99 = perRound(get.ours, get.naive, p99);
  const vsNaiveCpu = perRound(get.ours, get.naive, cpu);
  const vsOffRps = perRound(get.ours, get.off, rps);
  const vsOffP99 = perRound(get.ours, get.off, p99);
  const met = (spread: Spread | null, ok: (value: number) => boolean) => {
    if (spread === null) return 'n/a';
    const rounds = spread.values.filter(ok).length;
    return `${ok(spread.median) ? 'met' : '**missed**'} (met in ${rounds} of ${spread.values.length} rounds)`;
  };

  const dayFraction = (day.wallSeconds * DAY_TIME_SCALE) / DAY_S;
  const perDay = (run: Watched, polling: boolean): number => {
    const client = total(run.count.client);
    // Polling: per GET made × GETs a day; push: scaled to exactly one simulated day.
    return polling ? (client / Math.max(1, run.done)) * (DAY_S / POLL_SIMULATED_S) : client / dayFraction;
  };
  const dayRows = day.runs.map((run, index) => {
    const polling = index < 2;
    return `| ${run.name} | ${fmt(perDay(run, polling))} | ${fmt(total(run.count.client))}: ${detail(run.count.client)} | ${fmt(total(run.count.script))} | ${polling ? `${fmt(run.done)} GETs` : `${fmt(run.done)} frames`} |`;
  });
  const pushSnapshots = day.runs[3] === undefined ? Number.NaN : perDay(day.runs[3], false);

  const markdown = [
    `This section took ${fmt((performance.now() - started) / 1000)} s.`,
    '',
    '### GET state on Redis: pet-life with snapshots vs a bare handler doing the naive storage work',
    '',
    `autocannon, ${CONNECTIONS} connections, ${PETS} pets picked at random per request, each server on pets of its own on one`,
    'throwaway redis-server; servers are separate processes on 127.0.0.1 (pet-life: `node dist/src/main.js`, rate limits off).',
    '"Naive": a bare node:http handler that, for every request, MGETs every key of the pet and compare-and-sets it',
    '(EVALSHA of the same CAS_SCRIPT, meta and every system written): the storage work of a server without snapshots that',
    `writes through on every request. ${ROUNDS} interleaved rounds of ${WINDOW_S} s per server after a ${WARMUP_S} s warm-up each; figures`,
    'are medians over the rounds, ratios are taken within each round.',
    '',
    '| case | req/s | p50 ms | p99 ms | mean ms | server CPU µs/req | non-2xx |',
    '|---|---:|---:|---:|---:|---:|---:|',
    row('GET state — pet-life, snapshots on', summarize(get.ours)),
    row('GET state — pet-life, SNAPSHOTS=off', summarize(get.off)),
    row('GET state — bare node:http, MGET + compare-and-set per request', summarize(get.naive)),
    '',
    '| target | measured: median (min–max over rounds) | |',
    '|---|---:|---|',
    `| throughput vs naive (≥ 1.2×) | ${fmtSpread(vsNaiveRps)} | ${met(vsNaiveRps, (r) => r >= 1.2)} |`,
    `| p99 vs naive (≤ 1.0×) | ${fmtSpread(vsNaiveP99, 2, '×')} | ${met(vsNaiveP99, (r) => r <= 1.0)} |`,
    `| server CPU per request vs naive (information) | ${fmtSpread(vsNaiveCpu, 2, '×')} | |`,
    `| throughput, snapshots on vs off (information) | ${fmtSpread(vsOffRps)} | |`,
    `| p99, snapshots on vs off (information) | ${fmtSpread(vsOffP99, 2, '×')} | |`,
    '',
    'Redis commands per GET state (500 sequential requests, `INFO commandstats` after `CONFIG RESETSTAT`; a pet read in a new',
    'minute is brought to now and saved, so a share of GETs write):',
    '',
    `- pet-life, snapshots on: ${get.commands.ours}`,
    `- pet-life, SNAPSHOTS=off: ${get.commands.off}`,
    `- naive: ${get.commands.naive}`,
    '',
    '### Redis commands per watched pet per day: polling, push, push + snapshots',
    '',
    `Four servers side by side, each on its own redis-server, at TIME_SCALE=${DAY_TIME_SCALE} (a simulated day in ${fmt(DAY_S / DAY_TIME_SCALE)} s of wall time),`,
    `one pet each: polling GET state every ${POLL_SIMULATED_S} simulated seconds (sequential), or one SSE subscription held all day`,
    "(the hub's watch, its reads after each notification, the life-event timer bringing the pet to now at each life event).",
    'Client commands are counted with MONITOR (those not run inside a script); polling is reported as commands per GET ×',
    `${fmt(DAY_S / POLL_SIMULATED_S)} GETs a day, push scaled to one simulated day (the window was ${fmt(day.wallSeconds, 1)} s, ${fmt(dayFraction, 3)} days).`,
    'The SUBSCRIBE of the watch is one per server process, counted here in full against the one pet.',
    '',
    '| | client commands / day | measured client commands | commands inside scripts | done |',
    '|---|---:|---:|---:|---:|',
    ...dayRows,
    '',
    `Target (docs/design.md §7, long-running server): ≤ 300 per watched pet per day with push + snapshots — ${
      pushSnapshots <= 300 ? 'met' : '**missed**'
    } (${fmt(pushSnapshots)}).`,
  ].join('\n');
  return { title: 'Snapshots: GET state vs the naive storage work, Redis commands per watched pet', markdown };
}

if (process.argv[2] === '--naive-server') {
  const [redisUrl = '', port = '0'] = process.argv.slice(3);
  await runNaiveServer(redisUrl, Number(port));
}
