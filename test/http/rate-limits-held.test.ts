/**
 * Rate limits on a pet held in a snapshot (docs/design.md §15): with Redis and snapshots, a change
 * of a held pet counts its rate-limit counters in the compare-and-set script, not in a load before
 * it. The answers must be those of the memory driver, which counts in the load: the same statuses,
 * the same RateLimit headers, strangers refused by access still counted, and a request over the
 * limit changing nothing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createApp } from '../../src/http/index.js';
import { createSilentLogger } from '../../src/log.js';
import { createManualClock } from '../../src/service/index.js';
import { DEFAULT_SNAPSHOT_BYTES, createMemoryStorage, type StorageDriver } from '../../src/storage/index.js';
import { createRedisStorage } from '../../src/storage/redis.js';
import { describeWithRedis, testRedisUrl, uniqueId } from '../helpers/redis.js';
import { jsonRequest, readJson, T0 } from './support.js';

const LIMITS = { TRUST_PROXY: 'true', RATE_LIMIT_PER_PET: '6', RATE_LIMIT_PER_CLIENT: '9', RATE_LIMIT_WINDOW_SECONDS: '60' };

interface Seen {
  step: string;
  status: number;
  ratelimit: string | null;
  policy: string | null;
  retryAfter: string | null;
}

/** The same requests, in order, against an app over `storage`: what each answered, and the pet's feeds as stored. */
async function scenario(storage: StorageDriver, petId: string, env: Record<string, string>): Promise<{ seen: Seen[]; versions: number[] }> {
  const app = createApp({ config: loadConfig({ ...env, ...LIMITS }), storage, clock: createManualClock(T0), log: createSilentLogger() });
  const seen: Seen[] = [];
  const versions: number[] = [];
  // Client counters are global keys: addresses of this run only.
  const net = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
  const send = async (step: string, path: string, init: RequestInit = {}, client = '1') => {
    const headers = new Headers(init.headers);
    headers.set('X-Forwarded-For', `${net}.${client}`);
    const response = await app.request(`/api/pet/${petId}${path}`, { ...init, headers });
    seen.push({
      step,
      status: response.status,
      ratelimit: response.headers.get('ratelimit'),
      policy: response.headers.get('ratelimit-policy'),
      retryAfter: response.headers.get('retry-after'),
    });
    versions.push((await storage.load(petId))?.version ?? 0);
    return response;
  };
  const feed = (bearer: string | null) =>
    jsonRequest('POST', { action: 'feed' }, bearer === null ? {} : { Authorization: `Bearer ${bearer}` });
  await send('read (creates)', '/state');
  await send('read (held)', '/state');
  const { secret } = await readJson<{ secret: string }>(await send('claim', '/claim', { method: 'POST' }));
  await send('owner feeds', '/interact', feed(secret));
  await send('a stranger feeds (refused by access)', '/interact', feed('wrong-secret'), '2');
  await send('no secret feeds (refused by access)', '/interact', feed(null), '3');
  for (let i = 0; i < 5; i += 1) await send('owner feeds', '/interact', feed(secret));
  await send('owner feeds (over its own pet bucket and its client limit)', '/interact', feed(secret));
  await send('a stranger feeds (over the shared bucket)', '/interact', feed('wrong-secret'), '2');
  await send('owner reads (over)', '/state', { headers: { Authorization: `Bearer ${secret}` } });
  await send('owner feeds from another client (over the pet limit)', '/interact', feed(secret), '4');
  return { seen, versions };
}

describeWithRedis('rate limits on a held pet (Redis, snapshots): as counted in a load', () => {
  let redis: StorageDriver;
  beforeAll(() => {
    redis = createRedisStorage({ url: testRedisUrl as string, snapshotBytes: DEFAULT_SNAPSHOT_BYTES });
  });
  afterAll(async () => {
    await redis.close();
  });

  it('answers every request as the memory driver does, and a refused change writes nothing', async () => {
    expect(redis.saveCounted).toBeDefined();
    const petId = uniqueId('held-limits');
    const memory = await scenario(createMemoryStorage(), 'held-limits', { STORAGE: 'memory' });
    let counted = 0;
    const saveCounted = redis.saveCounted?.bind(redis);
    const spied: StorageDriver = {
      ...redis,
      saveCounted: async (id, request, counters) => {
        counted += 1;
        return (saveCounted as NonNullable<typeof saveCounted>)(id, request, counters);
      },
    };
    try {
      const held = await scenario(spied, petId, { STORAGE: 'redis', REDIS_URL: testRedisUrl as string });
      expect(held.seen).toEqual(memory.seen);
      expect(held.versions).toEqual(memory.versions);
      // The owner's changes of the held pet went through the counted save, refused ones included.
      expect(counted).toBeGreaterThanOrEqual(4);
    } finally {
      await redis.remove(petId);
    }
    const statuses = memory.seen.map(({ status }) => status);
    expect(statuses).toEqual([200, 200, 201, 200, 403, 401, 200, 200, 200, 200, 200, 429, 429, 429, 429]);
    // A refused request changed nothing: the stored version stays where the last change left it.
    const last = memory.versions[10];
    expect(memory.versions.slice(11)).toEqual([last, last, last, last]);
    expect(memory.seen[11]).toMatchObject({ ratelimit: '"pet";r=0;t=60, "client";r=0;t=60', retryAfter: '60' });
  });
});
