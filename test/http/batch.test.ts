/**
 * POST /api/batch and GET /api/pets?ids= (docs/design.md §11): each operation answers what its single route
 * answers, errors per operation, and the storage round trips counted by the Redis server itself
 * (MONITOR) and by the Upstash fake (HTTP requests).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StateDocument } from '../../src/service/index.js';
import type { StorageDriver } from '../../src/storage/index.js';
import { createRedisStorage } from '../../src/storage/redis.js';
import { createUpstashStorage } from '../../src/storage/upstash.js';
import { startRedisMonitor } from '../helpers/redis-monitor.js';
import { describeWithRedis, uniqueId } from '../helpers/redis.js';
import { startRedisServer, type RedisProcess } from '../helpers/redis-process.js';
import { startUpstashFake } from '../helpers/upstash-fake.js';
import { createTestApp, HOUR, jsonRequest, MINUTE, readJson, type ErrorJson, type TestApp } from './support.js';

interface Result<B = unknown> {
  status: number;
  body: B;
}
interface BatchJson {
  results: Result[];
}

const batch = (app: TestApp<StorageDriver>['app'], operations: unknown, headers: Record<string, string> = {}) =>
  app.request('/api/batch', jsonRequest('POST', { operations }, headers));
const results = async (response: Response): Promise<Result[]> => {
  expect(response.status).toBe(200);
  return (await readJson<BatchJson>(response)).results;
};
const stateOf = (result: Result | undefined) => result?.body as StateDocument;
const codeOf = (result: Result | undefined) => (result?.body as ErrorJson | undefined)?.error.code;

describe('POST /api/batch', () => {
  it('answers every operation in order, each body exactly what its single route answers', async () => {
    const single = createTestApp();
    const batched = createTestApp();
    for (const { app } of [single, batched]) {
      await app.request('/api/pet/a/state');
      await app.request('/api/pet/b/state');
    }
    single.clock.advance(3 * HOUR);
    batched.clock.advance(3 * HOUR);
    const alone: Result[] = [];
    const requests: Array<[string, RequestInit | undefined]> = [
      ['/api/pet/a/interact?lang=en', jsonRequest('POST', { action: 'feed' })],
      ['/api/pet/b/state', undefined],
      ['/api/pet/c/state?timezone=Asia/Tokyo', undefined],
      ['/api/pet/b', jsonRequest('PATCH', { pet_name: 'Mochi' })],
    ];
    for (const [path, init] of requests) {
      const response = await single.app.request(path, init);
      alone.push({ status: response.status, body: await response.json() });
    }
    const together = await results(
      await batch(batched.app, [
        { op: 'interact', device_id: 'a', action: 'feed', lang: 'en' },
        { op: 'state', device_id: 'b' },
        { op: 'state', device_id: 'c', timezone: 'Asia/Tokyo' },
        { op: 'update', device_id: 'b', pet_name: 'Mochi' },
      ]),
    );
    // b's two operations share one save in the batch (version 2 for both), where the single routes made two.
    expect(together.slice(0, 3)).toEqual(alone.slice(0, 3));
    expect({ ...stateOf(together[3]), version: 0 }).toEqual({ ...stateOf(alone[3]), version: 0 });
    expect(stateOf(together[3]).version).toBe(2);
  });

  it('answers a malformed operation with its own 400 and runs the others; a malformed envelope is a 400 for the request', async () => {
    const { app, storage } = createTestApp();
    const answered = await results(
      await batch(app, [
        { op: 'interact', device_id: 'p', action: 'dance' },
        { op: 'interact', device_id: '../x', action: 'feed' },
        { op: 'fly', device_id: 'p' },
        { op: 'update', device_id: 'p', timezone: 'Mars/Olympus' },
        { op: 'catchup', device_id: 'p', hours: -1 },
        { op: 'interact', device_id: 'p', action: 'feed', idempotency_key: 'has space' },
        'not an object',
        { op: 'interact', device_id: 'p', action: 'feed' },
      ]),
    );
    expect(answered.map((result) => result.status)).toEqual([400, 400, 400, 400, 400, 400, 400, 200]);
    expect(answered.slice(0, 7).map(codeOf)).toEqual([
      'invalid_action',
      'invalid_device_id',
      'invalid_body',
      'invalid_timezone',
      'invalid_body',
      'invalid_idempotency_key',
      'invalid_body',
    ]);
    expect(stateOf(answered[7]).stats.feed).toBe(1);
    expect((await storage.load('p'))?.version).toBe(1);
    for (const body of [
      {},
      { operations: [] },
      { operations: 'x' },
      { operations: Array.from({ length: 101 }, () => ({ op: 'state', device_id: 'p' })) },
    ]) {
      const response = await app.request('/api/batch', jsonRequest('POST', body));
      expect(response.status).toBe(400);
      expect((await readJson<ErrorJson>(response)).error.code).toBe('invalid_body');
    }
    expect((await app.request('/api/batch', { method: 'POST', body: 'operations' })).status).toBe(415);
  });

  it('takes a body up to 8 times the limit of one request (100 operations with long keys fit), refuses more with 413', async () => {
    const { app } = createTestApp();
    const operations = Array.from({ length: 100 }, (_, i) => ({
      op: 'interact',
      device_id: `pet-${i}-${'x'.repeat(50)}`,
      action: 'feed',
      idempotency_key: `${i}-${'k'.repeat(200)}`,
    }));
    const body = JSON.stringify({ operations });
    expect(body.length).toBeGreaterThan(16 * 1024);
    const answered = await results(
      await app.request('/api/batch', { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
    );
    expect(answered.every((result) => result.status === 200)).toBe(true);
    const huge = JSON.stringify({ operations: [{ op: 'state', device_id: 'p', pad: 'x'.repeat(130 * 1024) }] });
    const refused = await app.request('/api/batch', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(huge.length) },
      body: huge,
    });
    expect(refused.status).toBe(413);
    // Every other route keeps its own limit.
    const big = JSON.stringify({ action: 'feed', pad: 'x'.repeat(17 * 1024) });
    const single = await app.request('/api/pet/p/interact', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(big.length) },
      body: big,
    });
    expect(single.status).toBe(413);
  });

  it('checks access per operation with the request’s Bearer secret (401 and 403 as results)', async () => {
    const { app } = createTestApp();
    const claim = await readJson<{ secret: string }>(await app.request('/api/pet/mine/claim', { method: 'POST' }));
    const operations = [
      { op: 'state', device_id: 'mine' },
      { op: 'interact', device_id: 'mine', action: 'feed' },
      { op: 'interact', device_id: 'open', action: 'feed' },
    ];
    const anonymous = await results(await batch(app, operations));
    expect(anonymous.map((result) => result.status)).toEqual([200, 401, 200]);
    expect(codeOf(anonymous[1])).toBe('unauthorized');
    const wrong = await results(await batch(app, operations, { authorization: 'Bearer wrong-secret' }));
    expect(wrong.map((result) => result.status)).toEqual([200, 403, 200]);
    const owner = await results(await batch(app, operations, { authorization: `Bearer ${claim.secret}` }));
    expect(owner.map((result) => result.status)).toEqual([200, 200, 200]);
    expect(stateOf(owner[1]).stats.feed).toBe(1);
  });

  it('counts each operation in the rate limits, as its single route (weights included)', async () => {
    const { app } = createTestApp({ env: { RATE_LIMIT_PER_PET: '3', RATE_LIMIT_WINDOW_SECONDS: '60' } });
    const answered = await results(
      await batch(app, [
        { op: 'state', device_id: 'p' },
        { op: 'catchup', device_id: 'p', hours: 1500 },
        { op: 'interact', device_id: 'p', action: 'feed' },
        { op: 'state', device_id: 'q' },
      ]),
    );
    expect(answered.map((result) => result.status)).toEqual([200, 200, 429, 200]);
    expect(codeOf(answered[2])).toBe('rate_limited');
  });

  it('replays an idempotency_key per operation, across the batch and the single route', async () => {
    const { app, storage } = createTestApp();
    const single = await app.request('/api/pet/p/interact', jsonRequest('POST', { action: 'feed' }, { 'idempotency-key': 'k-1' }));
    const first = await single.json();
    const answered = await results(
      await batch(app, [
        { op: 'interact', device_id: 'p', action: 'feed', idempotency_key: 'k-1' },
        { op: 'interact', device_id: 'p', action: 'play', idempotency_key: 'k-1' },
        { op: 'catchup', device_id: 'p', hours: 1, idempotency_key: 'k-2' },
      ]),
    );
    expect(answered[0]).toEqual({ status: 200, body: first });
    expect(answered[1]?.status).toBe(422);
    expect(codeOf(answered[1])).toBe('idempotency_conflict');
    const again = await results(await batch(app, [{ op: 'catchup', device_id: 'p', hours: 1, idempotency_key: 'k-2' }]));
    expect(again[0]).toEqual(answered[2]);
    expect((await storage.load('p'))?.version).toBe(2);
  });

  it('answers a corrupt pet’s operations with 500 corrupt_state and serves the other pets', async () => {
    const { app, storage, logs } = createTestApp();
    storage.rawSet('life_broken:meta', '{"version":');
    const answered = await results(
      await batch(app, [
        { op: 'state', device_id: 'broken' },
        { op: 'interact', device_id: 'fine', action: 'greet' },
      ]),
    );
    expect(answered[0]?.status).toBe(500);
    expect(answered[0]?.body).toEqual({ error: { code: 'corrupt_state', message: expect.any(String), request_id: expect.any(String) } });
    expect(answered[1]?.status).toBe(200);
    expect(logs.some((line) => line['msg'] === 'batch operation failed' && line['code'] === 'corrupt_state')).toBe(true);
  });
});

describe('GET /api/pets?ids=', () => {
  it('reads the stored pets once each, in order, and answers a 404 for a pet never stored (creating nothing)', async () => {
    const { app, storage, clock } = createTestApp();
    await app.request('/api/pet/a/state');
    await app.request('/api/pet/b/state');
    clock.advance(5 * MINUTE);
    const before = storage.roundTrips();
    const response = await app.request('/api/pets?ids=b,a,b,missing,bad.id&lang=en');
    expect(storage.roundTrips() - before).toBe(1);
    const answered = (await readJson<{ results: Array<Result & { device_id: string }> }>(response)).results;
    expect(answered.map((result) => [result.device_id, result.status])).toEqual([
      ['b', 200],
      ['a', 200],
      ['missing', 404],
      ['bad.id', 400],
    ]);
    expect(stateOf(answered[0]).version).toBe(1);
    expect(await storage.load('missing')).toBeNull();
    expect((await app.request(`/api/pets?ids=${Array.from({ length: 101 }, (_, i) => `p${i}`).join(',')}`)).status).toBe(400);
    expect((await app.request('/api/pets')).status).toBe(400);
    expect((await app.request('/api/pets?ids=')).status).toBe(400);
  });

  it('is in the OpenAPI document, with POST /api/batch', async () => {
    const { app } = createTestApp();
    const doc = await readJson<{ paths: Record<string, Record<string, unknown>> }>(await app.request('/openapi.json'));
    expect(Object.keys(doc.paths['/api/batch'] ?? {})).toEqual(['post']);
    expect(Object.keys(doc.paths['/api/pets'] ?? {}).sort()).toEqual(['get', 'post']);
  });
});

describeWithRedis('batch round trips, counted by the server', () => {
  const ids = (prefix: string) => Array.from({ length: 100 }, (_, i) => `${prefix}-${i}`);
  const states = (pets: string[]) => pets.map((id) => ({ op: 'state', device_id: id }));
  // Each test has a redis-server of its own: another file's SCRIPT FLUSH would add EVALs (and a
  // round trip) to the exact counts asserted here.
  let redis: RedisProcess;
  beforeEach(async () => {
    redis = await startRedisServer();
  });
  afterEach(async () => {
    await redis.stop();
  });

  it('Redis: a batch of 100 states is one pipelined load and one pipelined save (one when nothing is to save); GET /api/pets?ids= is one', async () => {
    const storage = createRedisStorage({ url: redis.url });
    const test = createTestApp({ storage });
    const monitor = await startRedisMonitor(redis.url);
    try {
      const marker = uniqueId('rt');
      const pets = ids(marker);
      // Created by a first batch (which also gets the scripts loaded).
      expect((await results(await batch(test.app, states(pets)))).every((result) => result.status === 200)).toBe(true);

      const count = async (run: () => Promise<unknown>) => {
        await monitor.settle();
        const before = { trips: storage.roundTrips(), seen: monitor.countByName(marker) };
        await run();
        await monitor.settle();
        const after = monitor.countByName(marker);
        const delta: Record<string, number> = {};
        for (const [name, n] of Object.entries(after)) if (n - (before.seen[name] ?? 0) > 0) delta[name] = n - (before.seen[name] ?? 0);
        return { trips: storage.roundTrips() - before.trips, commands: delta };
      };

      test.clock.advance(5 * MINUTE);
      const changed = await count(async () => {
        const answered = await results(await batch(test.app, states(pets)));
        expect(answered.every((result) => result.status === 200 && stateOf(result).version === 2)).toBe(true);
      });
      expect(changed).toEqual({ trips: 2, commands: { MGET: 100, EVALSHA: 100 } });

      const unchanged = await count(async () => {
        expect((await results(await batch(test.app, states(pets)))).every((result) => result.status === 200)).toBe(true);
      });
      expect(unchanged).toEqual({ trips: 1, commands: { MGET: 100 } });

      test.clock.advance(5 * MINUTE);
      const read = await count(async () => {
        const response = await test.app.request(`/api/pets?ids=${pets.join(',')}`);
        expect(response.status).toBe(200);
      });
      expect(read).toEqual({ trips: 1, commands: { MGET: 100 } });
    } finally {
      await monitor.stop();
      await storage.close();
    }
  });

  it('Upstash REST (the fake): the same batch is two HTTP requests, one when nothing is to save; GET /api/pets?ids= one', async () => {
    const fake = await startUpstashFake({ redisUrl: redis.url });
    const storage = createUpstashStorage({ url: fake.url, token: fake.token });
    const test = createTestApp({ storage });
    try {
      const pets = ids(uniqueId('up'));
      await results(await batch(test.app, states(pets)));
      test.clock.advance(5 * MINUTE);
      let before = fake.requests();
      await results(await batch(test.app, states(pets)));
      expect(fake.requests() - before).toBe(2);
      before = fake.requests();
      await results(await batch(test.app, states(pets)));
      expect(fake.requests() - before).toBe(1);
      test.clock.advance(5 * MINUTE);
      before = fake.requests();
      expect((await test.app.request(`/api/pets?ids=${pets.join(',')}`)).status).toBe(200);
      expect(fake.requests() - before).toBe(1);
    } finally {
      await storage.close();
      await fake.close();
    }
  });
});
