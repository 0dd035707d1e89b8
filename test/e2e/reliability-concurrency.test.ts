/**
 * Reliability (docs/reliability.md), concurrency: any number of requests, processes and instances on one pet lose no
 * acknowledged interaction. 64 concurrent clients send 2000 feeds to one pet through two
 * server processes (the built server, 127.0.0.1) sharing one Redis, then one DATA_DIR. A 503
 * is not an acknowledgement, so that request is sent again; in the end every one of the 2000 is
 * acknowledged once, and `stats.feed` must be exactly 2000. Figures go to reportFigures().
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StateDocument } from '../../src/service/index.js';
import {
  assertNotRateLimited,
  countStatuses,
  LOAD_TEST_ENV,
  reportFigures,
  runPool,
  send,
  sleep,
  summarizeLatency,
} from '../helpers/load.js';
import { describeWithRedis, testRedisUrl, uniqueId } from '../helpers/redis.js';
import { startServersPerTest, type ServerProcess } from '../helpers/server-process.js';

const FEEDS = 2000;
const CLIENTS = 64;
/** Attempts per feed before the test gives up on it (a 503 each time). */
const MAX_ATTEMPTS = 50;

const start = startServersPerTest(LOAD_TEST_ENV);

async function startServers(count: number, env: Record<string, string>): Promise<ServerProcess[]> {
  return Promise.all(Array.from({ length: count }, () => start(env)));
}

interface Acknowledged {
  /** stats.feed in the 200 answer. */
  feedCount: number;
  version: number;
  latencyMs: number;
  attempts: number;
}

interface FeedRun {
  acknowledged: Acknowledged[];
  /** Feeds that never got a 2xx (should be none), with the last answer. */
  failed: Array<{ status: number; text: string }>;
  /** 503 answers that were retried, by error code. */
  retriedByCode: Record<string, number>;
  /** Every answer's status, retries included. */
  statuses: Record<string, number>;
  elapsedMs: number;
}

/**
 * Sends `total` feeds to pet `id`, spread round-robin over `servers`, with `clients` in flight.
 * Only a 2xx counts; a 503 (storage unavailable, or too many concurrent changes) was not
 * applied and is sent again after a short pause; anything else fails the feed.
 */
async function feedConcurrently(servers: readonly ServerProcess[], id: string, total: number, clients: number): Promise<FeedRun> {
  const retriedByCode: Record<string, number> = {};
  const all: Array<{ status: number }> = [];
  const failed: FeedRun['failed'] = [];
  const started = performance.now();
  const outcomes = await runPool(total, clients, async (index): Promise<Acknowledged | null> => {
    const server = servers[index % servers.length];
    if (server === undefined) throw new Error('no server');
    let latencyMs = 0;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const result = await send(`${server.url}/api/pet/${id}/interact`, { json: { action: 'feed' }, timeoutMs: 20_000 });
      all.push(result);
      latencyMs += result.latencyMs;
      assertNotRateLimited(result);
      if (result.status >= 200 && result.status < 300) {
        const document = result.json as StateDocument;
        return { feedCount: document.stats.feed, version: document.version, latencyMs, attempts: attempt };
      }
      if (result.status !== 503 || attempt === MAX_ATTEMPTS) {
        failed.push({ status: result.status, text: result.text.slice(0, 300) });
        return null;
      }
      const code = (result.json as { error?: { code?: string } } | undefined)?.error?.code ?? 'no-json';
      retriedByCode[code] = (retriedByCode[code] ?? 0) + 1;
      await sleep(Math.random() * Math.min(100, 5 * attempt));
    }
    return null;
  });
  return {
    acknowledged: outcomes.filter((outcome): outcome is Acknowledged => outcome !== null),
    failed,
    retriedByCode,
    statuses: countStatuses(all),
    elapsedMs: performance.now() - started,
  };
}

async function stateOf(server: ServerProcess, id: string): Promise<StateDocument> {
  const result = await send(`${server.url}/api/pet/${id}/state`);
  expect(result.status, result.text).toBe(200);
  return result.json as StateDocument;
}

/** The load, the count, and the figures, the same on every backend. */
async function expectNoLostFeeds(backend: string, servers: readonly ServerProcess[]): Promise<void> {
  const [first, second] = servers;
  if (!first || !second) throw new Error('two servers expected');
  const id = uniqueId('reliable');
  const initial = await stateOf(first, id);
  expect(initial.stats.feed).toBe(0);

  const run = await feedConcurrently(servers, id, FEEDS, CLIENTS);
  expect(run.failed).toEqual([]);
  expect(run.acknowledged).toHaveLength(FEEDS);

  // Each acknowledged feed was counted exactly once: the counts the answers saw are 1…2000,
  // each once (a lost update would repeat one; a double count would skip one).
  const counts = run.acknowledged.map((ack) => ack.feedCount).sort((a, b) => a - b);
  expect(counts).toEqual(Array.from({ length: FEEDS }, (_, i) => i + 1));
  expect(new Set(run.acknowledged.map((ack) => ack.version)).size).toBe(FEEDS);

  // Both processes see the same pet, with every feed in it.
  const [viaFirst, viaSecond] = await Promise.all([stateOf(first, id), stateOf(second, id)]);
  expect(viaFirst.stats).toEqual({ feed: FEEDS, play: 0, greet: 0 });
  expect(viaSecond.stats.feed).toBe(FEEDS);

  for (const server of servers) expect(server.child.exitCode).toBeNull();
  const retried = Object.values(run.retriedByCode).reduce((sum, n) => sum + n, 0);
  reportFigures(`concurrency-${backend}`, {
    feeds: FEEDS,
    clients: CLIENTS,
    servers: servers.length,
    acknowledged: run.acknowledged.length,
    stats_feed: viaFirst.stats.feed,
    elapsed_s: Math.round(run.elapsedMs) / 1000,
    acknowledged_per_s: Math.round((FEEDS / run.elapsedMs) * 1000),
    requests_sent: FEEDS + retried,
    retried_503: run.retriedByCode,
    statuses: run.statuses,
    most_attempts: Math.max(...run.acknowledged.map((ack) => ack.attempts)),
    latency_ms: summarizeLatency(run.acknowledged.map((ack) => ack.latencyMs)),
  });
}

describeWithRedis('reliability: concurrent feeds on Redis (issue #5)', () => {
  // Snapshots on (the default on Redis TCP, §11) and off.
  for (const snapshots of ['on', 'off'] as const) {
    it(`loses no acknowledged feed: 64 clients, 2000 feeds, two server processes, one Redis → stats.feed is 2000 (SNAPSHOTS=${snapshots})`, async () => {
      const servers = await startServers(2, { REDIS_URL: testRedisUrl ?? '', SNAPSHOTS: snapshots });
      await expectNoLostFeeds(snapshots === 'on' ? 'redis' : 'redis-no-snapshots', servers);
    }, 90_000);
  }
});

describe('reliability: concurrent feeds on files (issue #5)', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pet-life-reliability-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('loses no acknowledged feed: 64 clients, 2000 feeds, two server processes, one DATA_DIR → stats.feed is 2000', async () => {
    const servers = await startServers(2, { DATA_DIR: dataDir });
    await expectNoLostFeeds('file', servers);
    // ~70 s today: most compare-and-set attempts conflict under 64-way contention on one pet
    // (docs/reliability.md, "Figures"); about 20 s once requests for one pet queue in-process.
  }, 180_000);
});
