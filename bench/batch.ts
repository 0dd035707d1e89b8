/**
 * Batch benchmark (docs/design.md §11), on a throwaway redis-server and the built server
 * (dist/src/main.js, STORAGE=redis) as a child process, over loopback HTTP with keep-alive:
 * - 100 GET states as ONE `POST /api/batch` vs 100 sequential `GET /api/pet/{id}/state` (target:
 *   the batch ≥ 20× faster) and vs the same 100 GETs sent concurrently;
 * - 100 feeds (one per pet) as one batch vs 100 sequential and 100 concurrent `POST …/interact`.
 * Each case is the wall time from the first request sent to the last answer read. The cases run in
 * interleaved rounds (the machine is a shared, noisy VM); each ratio is taken within a round and
 * the median over rounds is reported with its min–max. The storage round trips of a batch are the
 * server's own count (its request log line, `round_trips`).
 *
 * `npx tsx bench/run.ts batch` runs it alone.
 */
import os from 'node:os';
import { Writable } from 'node:stream';
import { loadConfig } from '../src/config.js';
import { createApp } from '../src/http/index.js';
import { createLogger } from '../src/log.js';
import { systemClock } from '../src/service/index.js';
import { createRedisStorage } from '../src/storage/redis.js';
import { startRedisServer } from '../test/helpers/redis-process.js';
import { startServerProcess } from '../test/helpers/server-process.js';
import type { BenchSection } from './run.js';

const PETS = 100;
const ROUNDS = 15;

type Case = 'batch' | 'sequential' | 'concurrent';
type Kind = 'state' | 'feed';

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const spread = (values: readonly number[], digits: number) =>
  `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;

const IN_PROCESS_ROUNDS = 15;

/** The batch of 100 states against 100 sequential ones through `app.request` (no sockets, no client), on the same Redis. */
async function inProcessRatios(redisUrl: string): Promise<{ batch: string; sequential: string; ratio: string }> {
  const storage = createRedisStorage({ url: redisUrl });
  const log = createLogger({ level: 'warn', destination: new Writable({ write: (_chunk, _encoding, done) => done() }) });
  const config = loadConfig({ STORAGE: 'redis', REDIS_URL: redisUrl, RATE_LIMIT_PER_PET: '0', RATE_LIMIT_PER_CLIENT: '0' });
  const app = createApp({ config, storage, clock: systemClock, log });
  try {
    const pets = Array.from({ length: PETS }, (_, i) => `bench-inproc-${i}`);
    const body = JSON.stringify({ operations: pets.map((id) => ({ op: 'state', device_id: id })) });
    const batch = async () => {
      const response = await app.request('/api/batch', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (response.status !== 200) throw new Error(`in-process batch: ${response.status}`);
      await response.text();
    };
    const sequential = async () => {
      for (const id of pets) {
        const response = await app.request(`/api/pet/${id}/state`);
        if (response.status !== 200) throw new Error(`in-process GET: ${response.status}`);
        await response.text();
      }
    };
    const timed = async (run: () => Promise<void>) => {
      const started = performance.now();
      await run();
      return performance.now() - started;
    };
    for (let i = 0; i < 3; i += 1) {
      await batch();
      await sequential();
    }
    const batches: number[] = [];
    const sequentials: number[] = [];
    for (let round = 0; round < IN_PROCESS_ROUNDS; round += 1) {
      batches.push(await timed(batch));
      sequentials.push(await timed(sequential));
    }
    return {
      batch: spread(batches, 1),
      sequential: spread(sequentials, 1),
      ratio: median(batches.map((ms, i) => (sequentials[i] as number) / ms)).toFixed(1),
    };
  } finally {
    await storage.close();
  }
}

export default async function batchBench(): Promise<BenchSection> {
  const loadBefore = os.loadavg()[0]?.toFixed(1);
  const redis = await startRedisServer();
  const server = await startServerProcess({
    env: { STORAGE: 'redis', REDIS_URL: redis.url, RATE_LIMIT_PER_PET: '0', RATE_LIMIT_PER_CLIENT: '0', LOG_LEVEL: 'info' },
  });
  try {
    const base = server.url;
    const pets = Array.from({ length: PETS }, (_, i) => `bench-batch-${i}`);

    /** Sends a request and reads its whole answer; throws on anything but 200. */
    const send = async (path: string, init?: RequestInit): Promise<unknown> => {
      const response = await fetch(`${base}${path}`, init);
      const body: unknown = await response.json();
      if (response.status !== 200) throw new Error(`${path}: ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
      return body;
    };
    const post = (body: unknown): RequestInit => ({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const single = (kind: Kind, id: string) =>
      kind === 'state' ? send(`/api/pet/${id}/state`) : send(`/api/pet/${id}/interact`, post({ action: 'feed' }));
    const batch = async (kind: Kind): Promise<void> => {
      const operations = pets.map((id) =>
        kind === 'state' ? { op: 'state', device_id: id } : { op: 'interact', device_id: id, action: 'feed' },
      );
      const answer = (await send('/api/batch', post({ operations }))) as { results: Array<{ status: number }> };
      const failed = answer.results.filter((result) => result.status !== 200);
      if (answer.results.length !== PETS || failed.length > 0) throw new Error(`batch: ${failed.length} operations failed`);
    };
    const run = async (kind: Kind, how: Case): Promise<number> => {
      const started = performance.now();
      if (how === 'batch') await batch(kind);
      else if (how === 'sequential') for (const id of pets) await single(kind, id);
      else await Promise.all(pets.map((id) => single(kind, id)));
      return performance.now() - started;
    };
    const batchLines = () => server.logs.filter((entry) => entry['path'] === '/api/batch');
    /** The storage round trips of the batch request after the `seen` first ones, as the server logged them (its stdout may lag). */
    const batchTrips = async (seen: number): Promise<number> => {
      for (let waited = 0; batchLines().length <= seen && waited < 2000; waited += 10)
        await new Promise((resolve) => setTimeout(resolve, 10));
      return Number(batchLines()[seen]?.['round_trips'] ?? Number.NaN);
    };

    // Warm-up: the pets exist, the scripts are loaded, the JIT has seen every path.
    await batch('state');
    for (const how of ['sequential', 'concurrent', 'batch'] as const) for (const kind of ['state', 'feed'] as const) await run(kind, how);

    const times: Record<Kind, Record<Case, number[]>> = {
      state: { batch: [], sequential: [], concurrent: [] },
      feed: { batch: [], sequential: [], concurrent: [] },
    };
    const trips: Record<Kind, number[]> = { state: [], feed: [] };
    for (let round = 0; round < ROUNDS; round += 1) {
      // Rotate the order, so that no case always follows the same one.
      const order: Case[] = (['batch', 'sequential', 'concurrent'] as const).map((_, i, all) => all[(i + round) % all.length] as Case);
      for (const kind of ['state', 'feed'] as const) {
        for (const how of order) {
          const seen = batchLines().length;
          times[kind][how].push(await run(kind, how));
          if (how === 'batch') trips[kind].push(await batchTrips(seen));
        }
      }
    }

    const rows = (['state', 'feed'] as const).map((kind) => {
      const t = times[kind];
      const overSequential = t.batch.map((ms, i) => (t.sequential[i] as number) / ms);
      const overConcurrent = t.batch.map((ms, i) => (t.concurrent[i] as number) / ms);
      const label = kind === 'state' ? '100 GET states' : '100 feeds (one per pet)';
      const fastest = (values: readonly number[]) => Math.min(...values);
      const best = `${(fastest(t.sequential) / fastest(t.batch)).toFixed(1)}× / ${(fastest(t.concurrent) / fastest(t.batch)).toFixed(1)}×`;
      return {
        kind,
        overSequential,
        line: `| ${label} | ${spread(t.batch, 1)} | ${spread(t.sequential, 1)} | ${spread(t.concurrent, 1)} | ${spread(overSequential, 1)}× | ${spread(overConcurrent, 1)}× | ${best} | ${[...new Set(trips[kind])].join(', ')} |`,
      };
    });
    const stateRatio = median(rows[0]?.overSequential ?? []);
    const inProcess = await inProcessRatios(redis.url);
    const markdown = [
      `${ROUNDS} interleaved rounds; each figure is the median (min–max) over the rounds, ms of wall time from the first request sent to the last answer read,`,
      'loopback HTTP with keep-alive to the built server (STORAGE=redis, rate limits off) on a throwaway redis-server.',
      'A batch is one `POST /api/batch` of 100 operations on 100 pets; "sequential" sends the 100 single requests one after another,',
      '"concurrent" all at once. Round trips: the server\'s own count for the batch request (its log line).',
      `Load average while it ran: ${loadBefore} before, ${os.loadavg()[0]?.toFixed(1)} after (1 min; other work on the machine makes the spread).`,
      '',
      '| 100 operations | batch ms | sequential ms | concurrent ms | batch vs sequential | batch vs concurrent | fastest runs: vs sequential / vs concurrent | batch round trips |',
      '|---|---|---|---|---|---|---|---|',
      ...rows.map((row) => row.line),
      '',
      `Target: the batch of 100 GET states ≥ 20× faster than 100 sequential GETs — measured ${stateRatio.toFixed(1)}× (${stateRatio >= 20 ? 'met' : 'not met'}).`,
      '',
      `Diagnostic, the server's own work without sockets (the app in this process, \`app.request\`, same Redis, ${IN_PROCESS_ROUNDS} rounds, median (min–max) ms):`,
      `100 GET states as one batch ${inProcess.batch}, one after another ${inProcess.sequential}: ${inProcess.ratio}× (median of the per-round ratios).`,
      'A batch of states costs 1 round trip when no simulated minute has passed since the pets were last saved (nothing to save), 2 otherwise (one pipelined',
      'load, one pipelined compare-and-set write); a batch of feeds always 2.',
    ].join('\n');
    return { title: 'Batch API (issue #16)', markdown };
  } finally {
    await server.stop();
    await redis.stop();
  }
}
