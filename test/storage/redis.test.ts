import net from 'node:net';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorruptStateError, StorageUnavailableError } from '../../src/errors.js';
import type { StorageDriver } from '../../src/storage/index.js';
import { createRedisStorage } from '../../src/storage/redis.js';
import { describeWithRedis, testRedisUrl } from '../helpers/redis.js';
import { startRedisMonitor } from '../helpers/redis-monitor.js';
import { freePort, startRedisServer } from '../helpers/redis-process.js';
import { describeStorageContract, metaFor, petId, sampleSystems } from './contract.js';

/** This file's own database on the test Redis, so SCAN sees only its keys. */
const DB = 11;
const url = (): string => {
  const parsed = new URL(testRedisUrl ?? 'redis://127.0.0.1:6379');
  parsed.pathname = `/${DB}`;
  return parsed.toString();
};

const newAdmin = () => createClient({ url: url(), RESP: 2 });
type Admin = ReturnType<typeof newAdmin>;
async function connectAdmin(): Promise<Admin> {
  const admin = newAdmin();
  admin.on('error', () => undefined);
  await admin.connect();
  return admin;
}

async function scanAll(admin: Admin, pattern = '*'): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = (await admin.sendCommand(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000'])) as [string, string[]];
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys.sort();
}

describeWithRedis('redis (TCP)', () => {
  let admin: Admin;
  beforeAll(async () => {
    admin = await connectAdmin();
    await admin.sendCommand(['FLUSHDB']);
  });
  afterAll(async () => {
    await admin?.close();
  });

  // Every case twice: snapshots off (RESP 2, every load a round trip) and on (RESP 3, CLIENT
  // TRACKING, loads of held pets answered from memory), as a server runs with SNAPSHOTS=off|on.
  describeStorageContract('redis', () => ({
    eventTrim: 'approximate',
    watch: true,
    create: (options) => createRedisStorage({ url: url(), ...options }),
    listKeys: () => scanAll(admin),
    pttl: async (id, name) => Number(await admin.sendCommand(['PTTL', `life_${id}:${name}`])),
    rawWrite: async (id, name, value) => {
      await admin.sendCommand(['SET', `life_${id}:${name}`, value]);
    },
    advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  }));

  describeStorageContract('redis with snapshots', () => ({
    eventTrim: 'approximate',
    watch: true,
    snapshots: true,
    create: (options) => createRedisStorage({ url: url(), snapshotBytes: 1 << 20, ...options }),
    listKeys: () => scanAll(admin),
    pttl: async (id, name) => Number(await admin.sendCommand(['PTTL', `life_${id}:${name}`])),
    rawWrite: async (id, name, value) => {
      await admin.sendCommand(['SET', `life_${id}:${name}`, value]);
      // A raw write has no writer's barrier (docs/design.md §11): the admin's reply can reach this
      // process before the invalidation Redis pushed on the driver's own connection, so give that
      // push time to arrive, as the real time between two requests does.
      await new Promise((resolve) => setTimeout(resolve, 25));
    },
    advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  }));

  describe('redis storage', () => {
    let driver: StorageDriver;
    beforeAll(() => {
      driver = createRedisStorage({ url: url() });
    });
    afterAll(async () => {
      await driver.close();
    });

    it('REDIS_WAIT_REPLICAS: the compare-and-set and WAIT in one round trip; without the replicas it is a 503 that says the change may be applied', async () => {
      // The test Redis has no replica: WAIT 1 answers 0 after its timeout.
      const waiting = createRedisStorage({ url: url(), waitReplicas: 1, waitTimeoutMs: 100 });
      try {
        const id = petId('wait');
        const before = waiting.roundTrips();
        const saving = waiting.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() });
        await expect(saving).rejects.toBeInstanceOf(StorageUnavailableError);
        await expect(saving).rejects.toThrow(/may be applied.*0 acknowledged/);
        expect(waiting.roundTrips() - before).toBe(1);
        expect((await driver.load(id))?.version).toBe(1);
        // A conflict waits for nothing.
        expect(await waiting.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {} })).toMatchObject({ ok: false, version: 1 });
      } finally {
        await waiting.close();
      }
    });

    it('indexes extras in life_<id>:extras within the same script: expired entries dropped, the index expiring with its last entry', async () => {
      const id = petId('index');
      const index = `life_${id}:extras`;
      await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {}, extras: [{ name: 'idem:01', value: 'a', ttlMs: 200 }] });
      expect(await admin.sendCommand(['ZRANGE', index, '0', '-1'])).toEqual([`life_${id}:idem:01`]);
      const left = Number(await admin.sendCommand(['PTTL', index]));
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(200);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await driver.save(id, {
        expectedVersion: 1,
        meta: metaFor(2),
        systems: {},
        extras: [{ name: 'idem:02', value: 'b', ttlMs: 60_000 }],
      });
      expect(await admin.sendCommand(['ZRANGE', index, '0', '-1'])).toEqual([`life_${id}:idem:02`]);
      expect(Number(await admin.sendCommand(['PTTL', index]))).toBeGreaterThan(59_000);
      // A save without extras leaves the index alone; remove takes it with the pet.
      await driver.save(id, { expectedVersion: 2, meta: metaFor(3), systems: {} });
      expect(Number(await admin.sendCommand(['ZCARD', index]))).toBe(1);
      await driver.remove(id);
      expect(await scanAll(admin, `life_${id}*`)).toEqual([]);
    });

    it('keeps the event log in the stream life_<id>:events, with the pet TTL of each save, and announces on life_~events', async () => {
      const id = petId('stream');
      const stream = `life_${id}:events`;
      const listener = admin.duplicate();
      listener.on('error', () => undefined);
      await listener.connect();
      const heard: string[] = [];
      await listener.subscribe('life_~events', (message) => heard.push(message));
      try {
        const draft = { type: 'created', pet_time: '2026-11-25T16:00:00.000+08:00', at: '2026-11-25T08:00:00.000Z', data: {} };
        const saved = await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {}, events: [draft], ttlMs: 60_000 });
        expect(await admin.sendCommand(['TYPE', stream])).toBe('stream');
        expect(Number(await admin.sendCommand(['XLEN', stream]))).toBe(1);
        const entries = (await admin.sendCommand(['XRANGE', stream, '-', '+'])) as [string, string[]][];
        expect(entries).toEqual([[saved.ok ? saved.eventIds[0] : '', ['e', JSON.stringify(draft)]]]);
        const left = Number(await admin.sendCommand(['PTTL', stream]));
        expect(left).toBeGreaterThan(59_000);
        expect(left).toBeLessThanOrEqual(60_000);
        // A save without events refreshes the log's TTL with the others, and without a TTL persists it.
        await driver.save(id, { expectedVersion: 1, meta: metaFor(2), systems: {}, ttlMs: null });
        expect(Number(await admin.sendCommand(['PTTL', stream]))).toBe(-1);
        for (let i = 0; i < 50 && !heard.includes(id); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
        // Other test files share the server (PUBLISH ignores databases): only this pet's count.
        expect(heard.filter((message) => message === id)).toEqual([id]);
      } finally {
        await listener.close();
      }
    });

    it('opens one subscriber connection per driver, on the first watch, and closes it with the driver', async () => {
      // Subscribers on this file's database (other files share the server).
      const clients = async (): Promise<number> =>
        String(await admin.sendCommand(['CLIENT', 'LIST', 'TYPE', 'pubsub']))
          .split('\n')
          .filter((line) => line.includes(` db=${DB} `)).length;
      const watcher = createRedisStorage({ url: url() });
      await watcher.ping();
      const before = await clients();
      const watch = watcher.watch?.bind(watcher);
      if (watch === undefined) throw new Error('watch missing');
      const stops = await Promise.all([watch(() => undefined), watch(() => undefined), watch(() => undefined)]);
      expect(await clients()).toBe(before + 1);
      await Promise.all(stops.map((stop) => stop()));
      await watcher.close();
      for (let i = 0; i < 50 && (await clients()) > before; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await clients()).toBe(before);
      await expect(watch(() => undefined)).rejects.toBeInstanceOf(StorageUnavailableError);
    });

    it('writes exactly the seed keys, each value compact JSON', async () => {
      const id = petId('layout');
      await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() });
      expect(await scanAll(admin, `life_${id}*`)).toEqual(
        ['energy', 'meta', 'mood', 'rhythm', 'satiety', 'stats'].map((name) => `life_${id}:${name}`),
      );
      for (const key of await scanAll(admin, `life_${id}*`)) {
        const value = String(await admin.sendCommand(['GET', key]));
        expect(value).toBe(JSON.stringify(JSON.parse(value)));
      }
      expect(await admin.sendCommand(['GET', `life_${id}:rhythm`])).toBe(JSON.stringify(sampleSystems().rhythm));
      // Every key the service writes matches life_*.
      expect((await scanAll(admin)).every((key) => key.startsWith('life_'))).toBe(true);
    });

    it('loads state written by the Python server (rhythm and energy, no meta) as version 0 and saves over it', async () => {
      const id = petId('python');
      // The seed's samples (docs/life-model.md §What the original server did), as redis-py wrote
      // them: SETEX with the server's 30-day TTL.
      const rhythm =
        '{"internal_phase":0.041009875020171324,"last_calibration":1762100299.762366,"last_update":1762100299.762366,"external_phase":4.877646764119466e-06,"phase_difference":-0.041524047973070584}';
      const energy =
        '{"energy":99.15729479437536,"last_update":1762100299.76237,"consumption_rate":0.8427052056246336,"recovery_rate":0.0,"circadian_value":0.6274153621648515}';
      await admin.sendCommand(['SET', `life_${id}:rhythm`, rhythm, 'EX', '2592000']);
      await admin.sendCommand(['SET', `life_${id}:energy`, energy, 'EX', '2592000']);
      const record = await driver.load(id);
      expect(record?.version).toBe(0);
      expect(record?.meta).toBeNull();
      expect(record?.systems.rhythm).toEqual(JSON.parse(rhythm));
      expect(record?.systems.energy?.['energy']).toBe(99.15729479437536);
      const saved = await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: { rhythm: { internal_phase: 0.5 } } });
      expect(saved).toEqual({ ok: true, version: 1, keys: 2, eventIds: [] });
      expect((await driver.load(id))?.systems.energy).toEqual(JSON.parse(energy));
      // No TTL configured: the Python server's 30-day expiry is gone from every key.
      for (const name of ['meta', 'rhythm', 'energy']) {
        expect(Number(await admin.sendCommand(['PTTL', `life_${id}:${name}`]))).toBe(-1);
      }
    });

    it('falls back to EVAL once when the server has no script cached', async () => {
      const id = petId('noscript');
      await admin.sendCommand(['SCRIPT', 'FLUSH']);
      let before = driver.roundTrips();
      expect((await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() })).ok).toBe(true);
      expect(driver.roundTrips() - before).toBe(2); // EVALSHA → NOSCRIPT → EVAL
      before = driver.roundTrips();
      expect((await driver.save(id, { expectedVersion: 1, meta: metaFor(2), systems: {} })).ok).toBe(true);
      expect(driver.roundTrips() - before).toBe(1);
    });

    it('counts a load with hits in one EVALSHA (EVAL once on NOSCRIPT), under life_~<purpose>:<subject>', async () => {
      const id = petId('counted');
      const subject = `2001:db8::${Math.floor(Math.random() * 0xffff).toString(16)}`;
      await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() });
      await admin.sendCommand(['SCRIPT', 'FLUSH']);
      let before = driver.roundTrips();
      const first = await driver.loadCounted(id, { hits: [{ purpose: 'ratelimit', subject, windowMs: 60_000 }] });
      expect(driver.roundTrips() - before).toBe(2); // EVALSHA → NOSCRIPT → EVAL
      expect(first.hits).toMatchObject([{ count: 1 }]);
      expect(first.record).toEqual(await driver.load(id));
      before = driver.roundTrips();
      expect((await driver.loadCounted(id, { hits: [{ purpose: 'ratelimit', subject, windowMs: 60_000 }] })).hits).toMatchObject([
        { count: 2 },
      ]);
      expect(driver.roundTrips() - before).toBe(1);
      expect(await admin.sendCommand(['GET', `life_~ratelimit:${subject}`])).toBe('2');
      const left = Number(await admin.sendCommand(['PTTL', `life_~ratelimit:${subject}`]));
      expect(left).toBeGreaterThan(50_000);
      expect(left).toBeLessThanOrEqual(60_000);
    });

    it('gives a counter found without an expiry a window, and counts even when the pet is corrupt', async () => {
      const id = petId('counted-corrupt');
      const subject = `no-ttl-${id}`;
      await admin.sendCommand(['SET', `life_~ratelimit:${subject}`, '7']);
      await admin.sendCommand(['SET', `life_${id}:meta`, '{"pet_name":"no version"}']);
      await expect(driver.loadCounted(id, { hits: [{ purpose: 'ratelimit', subject, windowMs: 5000 }] })).rejects.toBeInstanceOf(
        CorruptStateError,
      );
      expect(await admin.sendCommand(['GET', `life_~ratelimit:${subject}`])).toBe('8');
      const left = Number(await admin.sendCommand(['PTTL', `life_~ratelimit:${subject}`]));
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(5000);
    });

    it('reports a stored meta that is not ours as corrupt, on load and on save', async () => {
      const id = petId('corrupt');
      await admin.sendCommand(['SET', `life_${id}:meta`, '{"pet_name":"no version"}']);
      await expect(driver.load(id)).rejects.toBeInstanceOf(CorruptStateError);
      await expect(driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {} })).rejects.toBeInstanceOf(CorruptStateError);
    });

    it('redacts the password in target', () => {
      const secret = createRedisStorage({ url: 'rediss://default:s3cr3t@example.upstash.io:6379' });
      expect(secret.target).toBe('rediss://default:***@example.upstash.io:6379');
      expect(driver.target).toMatch(/^redis:\/\/127\.0\.0\.1:\d+\/11$/);
    });
  });
});

describe('redis storage when Redis is down', () => {
  it('fails fast with StorageUnavailableError on a closed port', async () => {
    const port = await freePort();
    const driver = createRedisStorage({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 500 });
    const started = Date.now();
    await expect(driver.load(petId('down'))).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(driver.save(petId('down'), { expectedVersion: 0, meta: metaFor(1), systems: {} })).rejects.toBeInstanceOf(
      StorageUnavailableError,
    );
    await expect(driver.ping()).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(Date.now() - started).toBeLessThan(1500);
    await driver.close();
  });

  it('gives up within the deadline on a server that accepts but never answers', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const { port } = silent.address() as net.AddressInfo;
    const driver = createRedisStorage({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 300 });
    const started = Date.now();
    const error = await driver.load(petId('silent')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect(Date.now() - started).toBeLessThan(1500);
    await driver.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });
});

// Needs the redis-server binary, which a configured test Redis implies.
describeWithRedis('redis pipelines (loadMany, saveMany)', () => {
  it('pipelines loadMany and saveMany: one MGET per pet and one script call per hit or save, EVAL re-sent only for NOSCRIPT replies', async () => {
    const marker = petId('pipe');
    const ids = [0, 1, 2].map((n) => `${marker}-${n}`);
    const hits = [{ purpose: 'ratelimit', subject: marker, windowMs: 60_000, weight: 2 }];
    // A server of its own: SCRIPT FLUSH and the exact counts must not meet other files' scripts.
    const server = await startRedisServer();
    const driver = createRedisStorage({ url: server.url });
    const monitor = await startRedisMonitor(server.url);
    try {
      let before = driver.roundTrips();
      const first = await driver.loadMany(
        ids.map((id) => ({ petId: id })),
        { hits },
      );
      expect(driver.roundTrips() - before).toBe(2); // the pipeline, then EVAL of the one NOSCRIPT hit
      expect(first).toEqual({ records: ids.map(() => ({ ok: true, record: null })), hits: [expect.objectContaining({ count: 2 })] });
      before = driver.roundTrips();
      const request = { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() };
      const saved = await driver.saveMany(ids.map((id) => ({ petId: id, request })));
      expect(saved.map((result) => result.ok)).toEqual([true, true, true]);
      expect(driver.roundTrips() - before).toBe(2); // EVALSHA ×3 → NOSCRIPT ×3 → EVAL ×3 in one more pipeline
      before = driver.roundTrips();
      await driver.saveMany(ids.map((id) => ({ petId: id, request: { expectedVersion: 1, meta: metaFor(2), systems: {} } })));
      const second = await driver.loadMany(
        ids.map((id) => ({ petId: id })),
        { hits },
      );
      expect(driver.roundTrips() - before).toBe(2); // one each, now that the server knows both scripts
      expect(second.records.map((result) => result.ok && result.record?.version)).toEqual([2, 2, 2]);
      expect(second.hits).toMatchObject([{ count: 4 }]);
      await monitor.settle();
      expect(monitor.countByName(marker)).toEqual({ EVALSHA: 1 + 3 + 3 + 1, EVAL: 1 + 3, MGET: 3 + 3 });
    } finally {
      await monitor.stop();
      await driver.close();
      await server.stop();
    }
  });
});

describeWithRedis('redis storage across a server restart', () => {
  it('fails fast while the server is stopped and recovers once it is back', async () => {
    const server = await startRedisServer();
    const driver = createRedisStorage({ url: server.url, connectTimeoutMs: 500 });
    try {
      const id = petId('restart');
      expect((await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() })).ok).toBe(true);
      await server.stop();
      const started = Date.now();
      await expect(driver.load(id)).rejects.toBeInstanceOf(StorageUnavailableError);
      expect(Date.now() - started).toBeLessThan(2000);
      await server.restart();
      // The client reconnects with backoff (≤ 2 s); a no-persistence server comes back empty.
      let record: unknown;
      for (let attempt = 0; attempt < 40 && record === undefined; attempt += 1) {
        record = await driver.load(id).catch(() => undefined);
        if (record === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(record).toBeNull();
      expect((await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {} })).ok).toBe(true);
    } finally {
      await driver.close();
      await server.stop();
    }
  }, 20_000);
});

describe('redis storage close', () => {
  it('returns at once while a connection attempt hangs', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const { port } = silent.address() as net.AddressInfo;
    const driver = createRedisStorage({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 5000 });
    const pending = driver.ping().catch((caught: unknown) => caught);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await driver.close();
    expect(Date.now() - started).toBeLessThan(500);
    expect(await pending).toBeInstanceOf(StorageUnavailableError);
    await expect(driver.load(petId('closed'))).rejects.toBeInstanceOf(StorageUnavailableError);
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });
});
