/**
 * Snapshots across processes (docs/design.md §11): two built servers on one Redis, each holding the
 * pets it serves (SNAPSHOTS on, the default on Redis TCP). A change through one is in the very next
 * read through the other, every time; and a server that only reads an unchanged pet sends Redis
 * no read for it.
 */
import { createClient } from '@redis/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { StateDocument } from '../../src/service/index.js';
import { LOAD_TEST_ENV } from '../helpers/load.js';
import { describeWithRedis, testRedisUrl, uniqueId } from '../helpers/redis.js';
import { startRedisServer } from '../helpers/redis-process.js';
import { startServersPerTest, type ServerProcess } from '../helpers/server-process.js';

const start = startServersPerTest();

async function call(server: ServerProcess | undefined, method: string, path: string, body?: unknown): Promise<StateDocument> {
  const response = await fetch(`${server?.url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as StateDocument;
}

describeWithRedis('snapshots across two server processes on one Redis', () => {
  const admin = createClient({ url: testRedisUrl ?? '' });
  beforeAll(async () => {
    await admin.connect();
  });
  afterAll(async () => {
    await admin.quit();
  });

  it('a change through one server is in the next read through the other, 200 times in a row', async () => {
    // Limits off: 200 changes to one pet in a minute are this test's subject, not a stranger's burst.
    const env = { ...LOAD_TEST_ENV, REDIS_URL: testRedisUrl ?? '' };
    const [a, b] = await Promise.all([start(env), start(env)]);
    expect(a?.logs.some((line) => line['snapshotBytes'] === 32 * 1024 * 1024)).toBe(true);
    const id = uniqueId('e2e-snap');
    await call(a, 'GET', `/api/pet/${id}/state`);
    await call(b, 'GET', `/api/pet/${id}/state`);
    let stale = 0;
    for (let i = 1; i <= 200; i += 1) {
      const [writer, reader] = i % 2 === 0 ? [a, b] : [b, a];
      const changed = await call(writer, 'POST', `/api/pet/${id}/interact`, { action: 'greet' });
      const read = await call(reader, 'GET', `/api/pet/${id}/state`);
      if (read.version !== changed.version || read.stats.greet !== i) stale += 1;
    }
    expect(stale).toBe(0);
  }, 60_000);

  it('reads of an unchanged pet in the same minute send Redis no read (INFO commandstats, a Redis of its own)', async () => {
    const redis = await startRedisServer();
    const counter = createClient({ url: redis.url });
    await counter.connect();
    try {
      const server = await start({ ...LOAD_TEST_ENV, REDIS_URL: redis.url });
      const id = uniqueId('e2e-quiet');
      await call(server, 'GET', `/api/pet/${id}/state`); // creates the pet, and holds it
      const calls = async (): Promise<Record<string, number>> => {
        const info = String(await counter.sendCommand(['INFO', 'commandstats']));
        return Object.fromEntries([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1], Number(m[2])]));
      };
      const before = await calls();
      const started = Date.now();
      for (let i = 0; i < 20; i += 1) await call(server, 'GET', `/api/pet/${id}/state`);
      const after = await calls();
      const moved = (name: string): number => (after[name] ?? 0) - (before[name] ?? 0);
      expect(Date.now() - started).toBeLessThan(60_000);
      // No load at all (a load is a script call reading with MGET); at most one save, if a minute
      // boundary fell within the 20 reads (a tick passed: the pet is brought to now and saved).
      expect(moved('mget')).toBe(0);
      expect(moved('evalsha') + moved('eval')).toBeLessThanOrEqual(1);
    } finally {
      await counter.quit();
      await redis.stop();
    }
  });
});
