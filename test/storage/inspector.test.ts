/**
 * StorageDriver.inspector (docs/cli.md, the operator CLI): listPets, describePet, and on Redis the
 * server clock and the scripts, on memory, Redis TCP and Upstash REST (a local fake on a real Redis).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStorage, type StorageDriver } from '../../src/storage/index.js';
import { createRedisClusterStorage } from '../../src/storage/redis-cluster.js';
import { createRedisStorage } from '../../src/storage/redis.js';
import { createUpstashStorage } from '../../src/storage/upstash.js';
import { describeWithRedis, testRedisUrl, uniqueId } from '../helpers/redis.js';
import { describeWithCluster, testClusterNodes } from '../helpers/redis-cluster.js';
import { startUpstashFake, type UpstashFake } from '../helpers/upstash-fake.js';

const meta = (name: string) => ({
  version: 1,
  pet_name: name,
  timezone: 'UTC',
  created_at: new Date(0).toISOString(),
  world_ms: 0,
  wall_ms: 0,
});

/** `life_<id>:<name>`, or on a cluster `life_{<id>}:<name>`. */
type KeyOf = (id: string, name: string) => string;
const plainKey: KeyOf = (id, name) => `life_${id}:${name}`;

async function exercise(storage: StorageDriver, a: string, b: string, key: KeyOf = plainKey): Promise<void> {
  await storage.replace(a, {
    meta: meta('A'),
    systems: { stats: { feed: 1, play: 0, greet: 0 } },
    extras: [{ name: 'idem:abc', value: '{}', ttlMs: 60_000 }],
    events: [{ type: 'created', pet_time: '1970-01-01T00:00:00Z', at: '1970-01-01T00:00:00Z', data: {} }],
  });
  await storage.replace(b, { meta: meta('B'), systems: {}, ttlMs: 3_600_000 });
  await storage.hit('ratelimit', '127.0.0.1', 60_000); // a global record: never listed as a pet
  const inspector = storage.inspector;
  if (!inspector) throw new Error('no inspector');
  const ids = await inspector.listPets({ limit: 100_000 });
  expect(ids).toEqual(expect.arrayContaining([a, b]));
  expect(ids.every((id) => !id.includes('~'))).toBe(true);
  expect(await inspector.listPets({ limit: 1 })).toHaveLength(1);

  const keys = await inspector.describePet(a);
  const names = keys.map((stored) => stored.key);
  expect(names).toEqual(expect.arrayContaining([key(a, 'meta'), key(a, 'stats'), key(a, 'idem:abc'), key(a, 'events')]));
  expect(keys.find((stored) => stored.key === key(a, 'idem:abc'))?.ttlMs).toBeGreaterThan(50_000);
  expect(keys.find((stored) => stored.key === key(a, 'meta'))).toMatchObject({ type: 'string', ttlMs: null });
  expect(keys.find((stored) => stored.key === key(a, 'events'))).toMatchObject({ type: 'stream', entries: 1 });
  expect((await inspector.describePet(b)).every((key) => (key.ttlMs ?? 0) > 3_000_000)).toBe(true);
  expect(await inspector.describePet('nobody')).toEqual([]);
}

describe('inspector on memory', () => {
  it('lists pets and describes their keys', async () => {
    const storage = createMemoryStorage();
    await exercise(storage, 'pet-a', 'pet-b');
    expect(storage.inspector?.serverTimeMs).toBeUndefined();
  });
});

describeWithRedis('inspector on Redis and Upstash REST', () => {
  const url = testRedisUrl ?? '';
  let fake: UpstashFake;
  beforeAll(async () => {
    fake = await startUpstashFake({ redisUrl: url });
  });
  afterAll(async () => {
    await fake.close();
  });

  for (const kind of ['redis', 'upstash'] as const) {
    it(`${kind}: lists pets, describes keys, reads TIME and SCRIPT EXISTS`, async () => {
      const storage = kind === 'redis' ? createRedisStorage({ url }) : createUpstashStorage({ url: fake.url, token: fake.token });
      const a = uniqueId(`insp-${kind}-a`);
      const b = uniqueId(`insp-${kind}-b`);
      try {
        await exercise(storage, a, b);
        const time = await storage.inspector?.serverTimeMs?.();
        expect(Math.abs((time ?? 0) - Date.now())).toBeLessThan(5_000);
        const scripts = (await storage.inspector?.scripts?.()) ?? [];
        // SNAPSHOT_LOAD_SCRIPT is listed only by a driver with snapshots (none here).
        expect(scripts.map((script) => script.name)).toEqual(['CAS_SCRIPT', 'HIT_SCRIPT', 'LOAD_COUNTED_SCRIPT']);
        expect(scripts.find((script) => script.name === 'CAS_SCRIPT')?.loaded).toBe(true);
      } finally {
        await storage.remove(a);
        await storage.remove(b);
        await storage.close();
      }
    });
  }
});

describeWithCluster('inspector on Redis Cluster', () => {
  it('lists pets on every master, describes keys, reads TIME and SCRIPT EXISTS', async () => {
    const storage = createRedisClusterStorage({ nodes: testClusterNodes ?? '' });
    const a = uniqueId('insp-cluster-a');
    const b = uniqueId('insp-cluster-b');
    try {
      await exercise(storage, a, b, (id, name) => `life_{${id}}:${name}`);
      const time = await storage.inspector?.serverTimeMs?.();
      expect(Math.abs((time ?? 0) - Date.now())).toBeLessThan(5_000);
      const scripts = (await storage.inspector?.scripts?.()) ?? [];
      expect(scripts.every((script) => script.loaded)).toBe(true);
    } finally {
      await storage.remove(a);
      await storage.remove(b);
      await storage.close();
    }
  });
});
