import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageUnavailableError } from '../../src/errors.js';
import type { StorageDriver } from '../../src/storage/index.js';
import { createUpstashStorage } from '../../src/storage/upstash.js';
import { describeWithRedis, testRedisUrl } from '../helpers/redis.js';
import { startRedisServer } from '../helpers/redis-process.js';
import { startUpstashFake, type UpstashFake } from '../helpers/upstash-fake.js';
import { describeStorageContract, metaFor, petId, sampleSystems, storedValues } from './contract.js';

/** This file's own database on the test Redis, behind the fake REST server. */
const DB = 12;
const url = (): string => {
  const parsed = new URL(testRedisUrl ?? 'redis://127.0.0.1:6379');
  parsed.pathname = `/${DB}`;
  return parsed.toString();
};

type Admin = ReturnType<typeof createClient>;

describeWithRedis('upstash (REST, through a local fake backed by Redis)', () => {
  let admin: Admin;
  let fake: UpstashFake;
  beforeAll(async () => {
    admin = createClient({ url: url(), RESP: 2 });
    admin.on('error', () => undefined);
    await admin.connect();
    await admin.sendCommand(['FLUSHDB']);
    fake = await startUpstashFake({ redisUrl: url() });
  });
  afterAll(async () => {
    await fake?.close();
    await admin?.close();
  });

  describeStorageContract('upstash', () => ({
    eventTrim: 'approximate',
    watch: false,
    create: (options) => createUpstashStorage({ url: fake.url, token: fake.token, ...options }),
    async listKeys() {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = (await admin.sendCommand(['SCAN', cursor, 'COUNT', '1000'])) as [string, string[]];
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      return keys.sort();
    },
    pttl: async (id, name) => Number(await admin.sendCommand(['PTTL', `life_${id}:${name}`])),
    rawWrite: async (id, name, value) => {
      await admin.sendCommand(['SET', `life_${id}:${name}`, value]);
    },
    advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  }));

  describe('upstash storage', () => {
    let driver: StorageDriver;
    beforeAll(() => {
      driver = createUpstashStorage({ url: fake.url, token: fake.token });
    });

    it('sends one HTTP request per load and per save, and counts them as round trips', async () => {
      const id = petId('http');
      await driver.save(petId('warm-up'), { expectedVersion: 0, meta: metaFor(1), systems: {} });
      const requests = fake.requests();
      const trips = driver.roundTrips();
      await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() });
      await driver.load(id, { extras: ['idem:01'] });
      expect(fake.requests() - requests).toBe(2);
      expect(driver.roundTrips() - trips).toBe(2);
      expect(fake.log.slice(-2).map((command) => command[0]?.toLowerCase())).toEqual(['evalsha', 'mget']);
    });

    it('sends one HTTP request (EVALSHA) per counted load, values byte for byte', async () => {
      const id = petId('counted');
      const systems = { stats: { feed: 1, play: 0, greet: 0 }, mood: { note: '12345678901234567890', emoji: '🐱' } };
      await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems });
      const hits = [{ purpose: 'ratelimit', subject: `2001:db8::${id.length}:${id}`, windowMs: 60_000 }];
      await driver.loadCounted(petId('warm-up'), { hits });
      const requests = fake.requests();
      const trips = driver.roundTrips();
      const result = await driver.loadCounted(id, { extras: ['idem:01'], hits });
      expect(fake.requests() - requests).toBe(1);
      expect(driver.roundTrips() - trips).toBe(1);
      expect(fake.log.at(-1)?.[0]?.toLowerCase()).toBe('evalsha');
      expect(result.hits).toMatchObject([{ count: 2 }]);
      expect(result.record).toEqual({
        version: 1,
        meta: metaFor(1),
        systems,
        extras: { 'idem:01': null },
        raw: storedValues(metaFor(1), systems),
      });
      expect(result.record).toEqual(await driver.load(id, { extras: ['idem:01'] }));
    });

    it('returns stored values byte for byte (no automatic JSON parsing)', async () => {
      const id = petId('bytes');
      // A value automatic deserialization would mangle: a big numeric string inside a JSON object.
      const systems = { stats: { feed: 1, play: 0, greet: 0 }, mood: { note: '12345678901234567890', emoji: '🐱' } };
      await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems });
      expect((await driver.load(id))?.systems).toEqual(systems);
      expect(await admin.sendCommand(['GET', `life_${id}:mood`])).toBe(JSON.stringify(systems.mood));
    });

    it('appends events through EVAL (XADD, PUBLISH in the script) and reads them with one XRANGE request', async () => {
      const id = petId('events');
      const listener = admin.duplicate();
      listener.on('error', () => undefined);
      await listener.connect();
      const heard: string[] = [];
      await listener.subscribe('life_~events', (message) => heard.push(message));
      try {
        const draft = {
          type: 'interacted',
          pet_time: '2026-11-25T16:00:00.000+08:00',
          at: '2026-11-25T08:00:00.000Z',
          data: { action: 'feed' },
        };
        const saved = await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {}, events: [draft, draft] });
        if (!saved.ok) throw new Error('save failed');
        const requests = fake.requests();
        const events = await driver.readEvents(id, { after: saved.eventIds[0] as string });
        expect(fake.requests() - requests).toBe(1);
        expect(fake.log.at(-1)?.slice(0, 3)).toEqual(['XRANGE', `life_${id}:events`, `(${saved.eventIds[0]}`]);
        expect(events).toEqual([{ id: saved.eventIds[1], device_id: id, ...draft }]);
        for (let i = 0; i < 50 && !heard.includes(id); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
        // Other test files share the server (PUBLISH ignores databases): only this pet's count.
        expect(heard.filter((message) => message === id)).toEqual([id]);
      } finally {
        await listener.close();
      }
    });

    it('keeps the token out of target', () => {
      const secret = createUpstashStorage({ url: 'https://eu1-fine-cat-12345.upstash.io', token: 'AX_secret_token' });
      expect(secret.target).toBe('https://eu1-fine-cat-12345.upstash.io');
      expect(JSON.stringify(secret)).not.toContain('AX_secret_token');
    });

    it('reports a wrong token as unavailable storage', async () => {
      const wrong = createUpstashStorage({ url: fake.url, token: 'wrong' });
      await expect(wrong.load(petId('x'))).rejects.toBeInstanceOf(StorageUnavailableError);
    });
  });
});

describe('upstash storage when the REST endpoint is down', () => {
  it('fails with StorageUnavailableError within its deadline', async () => {
    const driver = createUpstashStorage({ url: 'http://127.0.0.1:9', token: 't', timeoutMs: 1000, readRetries: 1 });
    const started = Date.now();
    await expect(driver.load(petId('down'))).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(driver.save(petId('down'), { expectedVersion: 0, meta: metaFor(1), systems: {} })).rejects.toBeInstanceOf(
      StorageUnavailableError,
    );
    expect(Date.now() - started).toBeLessThan(2500);
  });
});

// Opt-in: a real Upstash database. Never runs without both variables (so never in CI by default).
const realUrl = process.env['UPSTASH_REDIS_REST_URL'];
const realToken = process.env['UPSTASH_REDIS_REST_TOKEN'];
if (!realUrl || !realToken) {
  console.warn('skipping the real-Upstash contract: UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN are not set');
}
(realUrl && realToken ? describe : describe.skip)('upstash (real database, opt-in)', () => {
  const created: StorageDriver[] = [];
  const ids = new Set<string>();
  afterAll(async () => {
    // Remove what this run wrote: the pets (by id prefix) and nothing else.
    const cleaner = created[0];
    if (cleaner) for (const id of ids) await cleaner.remove(id).catch(() => undefined);
  });
  it('round-trips a pet with one request per load and per save, and refuses a stale version', async () => {
    const driver = createUpstashStorage({ url: realUrl ?? '', token: realToken ?? '' });
    created.push(driver);
    const id = petId('real-upstash');
    ids.add(id);
    await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() });
    const before = driver.roundTrips();
    const record = await driver.load(id);
    expect(driver.roundTrips() - before).toBe(1);
    expect(record).toEqual({
      version: 1,
      meta: metaFor(1),
      systems: sampleSystems(),
      extras: {},
      raw: storedValues(metaFor(1), sampleSystems()),
    });
    // The conflict carries the pet as stored (§11), so a retry needs no read.
    expect(await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {} })).toEqual({ ok: false, version: 1, record });
    const hit = await driver.hit('ratelimit', `test-${id}`, 5000);
    expect(hit.count).toBe(1);
  });
});

describeWithRedis('upstash pipelines (loadMany, saveMany)', () => {
  it('sends one /pipeline request per loadMany and per saveMany, and one more only for NOSCRIPT replies', async () => {
    const ids = [0, 1, 2].map((n) => petId(`pipe-${n}`));
    const hits = [{ purpose: 'ratelimit', subject: `pipe-${ids[0]}`, windowMs: 60_000, weight: 3 }];
    // A Redis of its own (empty script cache, exact request counts), behind a fake of its own.
    const server = await startRedisServer();
    const fake = await startUpstashFake({ redisUrl: server.url });
    const driver = createUpstashStorage({ url: fake.url, token: fake.token });
    try {
      let requests = fake.requests();
      const request = { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() };
      expect((await driver.saveMany(ids.map((id) => ({ petId: id, request })))).map((result) => result.ok)).toEqual([true, true, true]);
      expect(fake.requests() - requests).toBe(2); // EVALSHA ×3 → NOSCRIPT → EVAL ×3, one request each
      expect(fake.log.slice(-6).map((command) => command[0]?.toLowerCase())).toEqual([
        'evalsha',
        'evalsha',
        'evalsha',
        'eval',
        'eval',
        'eval',
      ]);
      requests = fake.requests();
      const trips = driver.roundTrips();
      const many = await driver.loadMany(
        ids.map((id) => ({ petId: id, extras: ['idem:01'] })),
        { hits },
      );
      await driver.saveMany(ids.map((id) => ({ petId: id, request: { expectedVersion: 1, meta: metaFor(2), systems: {} } })));
      // HIT_SCRIPT was flushed too: its one EVALSHA is re-sent as EVAL, alone; then one request per saveMany.
      expect(fake.requests() - requests).toBe(3);
      expect(driver.roundTrips() - trips).toBe(3);
      expect(many.hits).toMatchObject([{ count: 3 }]);
      expect(many.records).toEqual(
        ids.map(() => ({
          ok: true,
          record: {
            version: 1,
            meta: metaFor(1),
            systems: sampleSystems(),
            extras: { 'idem:01': null },
            raw: storedValues(metaFor(1), sampleSystems()),
          },
        })),
      );
      requests = fake.requests();
      await driver.loadMany(
        ids.map((id) => ({ petId: id })),
        { hits },
      );
      expect(fake.requests() - requests).toBe(1);
    } finally {
      await fake.close();
      await server.stop();
    }
  });
});
