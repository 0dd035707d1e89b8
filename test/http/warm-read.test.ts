/**
 * The warm read (docs/design.md §15): a GET state of a pet this process holds in a snapshot, whose
 * stored values and simulated minute are those of the answer already made, is that answer again
 * without a load — the same bytes and headers as the normal path. It is never served when the pet
 * changed on another instance, for another language, past the minute, when access would refuse,
 * or with rate limits on. Two apps on two Redis drivers with snapshots, on a Redis of this file's own.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { StorageDriver } from '../../src/storage/index.js';
import { createRedisStorage } from '../../src/storage/redis.js';
import { describeWithRedis, uniqueId } from '../helpers/redis.js';
import { startRedisServer, type RedisProcess } from '../helpers/redis-process.js';
import { createManualClock, type ManualClock } from '../../src/service/index.js';
import { createTestApp, jsonRequest, MINUTE, T0, type TestApp } from './support.js';

/** Headers that differ between any two requests (the request id, where the time went). */
const VARYING = new Set(['x-request-id', 'server-timing']);

/** A driver that counts its loads (a warm read makes none; the normal path makes one, held or not). */
interface CountingDriver extends StorageDriver {
  loads(): number;
}

describeWithRedis('the warm read on Redis with snapshots', () => {
  let server: RedisProcess;
  const drivers: StorageDriver[] = [];
  const open = (): CountingDriver => {
    const driver = createRedisStorage({ url: server.url, snapshotBytes: 1 << 22 });
    drivers.push(driver);
    let loads = 0;
    return {
      ...driver,
      load: (petId, options) => {
        loads += 1;
        return driver.load(petId, options);
      },
      loadCounted: (petId, options) => {
        loads += 1;
        return driver.loadCounted(petId, options);
      },
      loads: () => loads,
    };
  };
  const appOn = (clock: ManualClock, env: Record<string, string> = {}): TestApp<CountingDriver> =>
    createTestApp({ storage: open(), clock, env });

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await Promise.all(drivers.map((driver) => driver.close()));
    await server?.stop();
  });

  /** Status, body and headers but the varying ones, and whether the request loaded the pet. */
  const read = async (test: TestApp<CountingDriver>, path: string, headers: Record<string, string> = {}) => {
    const before = test.storage.loads();
    const response = await test.app.request(path, { headers });
    const kept = [...response.headers].filter(([name]) => !VARYING.has(name));
    return { status: response.status, text: await response.text(), headers: kept, loaded: test.storage.loads() - before };
  };

  it('answers the same bytes and headers as the normal path, without a load', async () => {
    const clock = createManualClock(T0 + 30_000);
    const a = appOn(clock);
    const path = `/api/pet/${uniqueId('same')}/state`;
    expect((await read(a, path)).status).toBe(200); // creates the pet
    const normal = await read(a, path); // the normal path, from the snapshot: caches the answer
    expect(normal.loaded).toBe(1);
    const warm = await read(a, path);
    expect(warm.loaded).toBe(0);
    expect(warm).toEqual({ ...normal, loaded: 0 });
    expect(warm.headers.map(([name]) => name)).toEqual(expect.arrayContaining(['etag', 'cache-control', 'x-content-type-options']));
    // Its 304 too.
    const etag = new Map(warm.headers).get('etag') as string;
    const revalidated = await read(a, path, { 'If-None-Match': etag });
    expect([revalidated.status, revalidated.text, revalidated.loaded]).toEqual([304, '', 0]);
    // The log line and the metrics count it as any other request.
    const line = a.logs.filter((entry) => entry['msg'] === 'request').at(-1);
    expect(line).toMatchObject({ status: 304, round_trips: 0, route: '/api/pet/:device_id/state' });
  });

  it('is never served once the pet changed on another instance: the next read here shows the change, every time', async () => {
    const clock = createManualClock(T0 + 30_000);
    const a = appOn(clock);
    const b = appOn(clock);
    const id = uniqueId('changed');
    const path = `/api/pet/${id}/state`;
    await read(a, path);
    await read(a, path);
    expect((await read(a, path)).loaded).toBe(0);
    for (let greets = 1; greets <= 30; greets += 1) {
      const changed = await b.app.request(`/api/pet/${id}/interact`, jsonRequest('POST', { action: 'greet' }));
      expect(changed.status).toBe(200);
      const seen = await read(a, path);
      expect(seen.loaded).toBe(1);
      expect((JSON.parse(seen.text) as { stats: { greet: number } }).stats.greet).toBe(greets);
      // Then warm again, with the new answer: once a read from the snapshot has cached it (the
      // read that saw the change loaded it from Redis, whose values are not the held array).
      expect((await read(a, path)).text).toBe(seen.text);
      const warm = await read(a, path);
      expect([warm.loaded, warm.text]).toEqual([0, seen.text]);
    }
  });

  it('is not served for another language, nor past the minute', async () => {
    const clock = createManualClock(T0 + 30_000);
    const a = appOn(clock);
    const path = `/api/pet/${uniqueId('lang')}/state`;
    await read(a, path);
    await read(a, path);
    const zh = await read(a, path);
    expect(zh.loaded).toBe(0);
    const en = await read(a, `${path}?lang=en`);
    expect(en.loaded).toBe(1);
    expect(en.text).not.toBe(zh.text);
    expect((await read(a, `${path}?lang=en`)).loaded).toBe(0);
    // Within the simulated minute (TIME_SCALE 1): still warm; at the next tick the normal path runs.
    clock.advance(20_000);
    expect((await read(a, path)).loaded).toBe(0);
    clock.advance(10_000);
    const later = await read(a, path);
    expect(later.loaded).toBe(1);
    expect(later.text).not.toBe(zh.text);
    expect(JSON.parse(later.text)).toMatchObject({ pet_time: expect.any(String) });
    // That read saved the tick; the next one caches the new minute's answer, then it is warm again.
    clock.advance(MINUTE / 2);
    expect((await read(a, path)).loaded).toBe(1);
    expect((await read(a, path)).loaded).toBe(0);
  });

  it('is not served when access would refuse (a claimed pet when reads require the secret), nor with rate limits on', async () => {
    const clock = createManualClock(T0 + 30_000);
    const guarded = appOn(clock, { READS_REQUIRE_AUTH: 'true' });
    const id = uniqueId('claimed');
    const path = `/api/pet/${id}/state`;
    await read(guarded, path);
    await read(guarded, path);
    expect((await read(guarded, path)).loaded).toBe(0); // unclaimed: open to all
    const claim = await guarded.app.request(`/api/pet/${id}/claim`, { method: 'POST' });
    expect(claim.status).toBe(201);
    const { secret } = (await claim.json()) as { secret: string };
    for (let i = 0; i < 3; i += 1) {
      const refused = await read(guarded, path);
      expect([refused.status, refused.loaded]).toEqual([401, 1]);
      expect((await read(guarded, path, { Authorization: 'Bearer wrong-secret' })).status).toBe(403);
      const owner = await read(guarded, path, { Authorization: `Bearer ${secret}` });
      expect([owner.status, owner.loaded]).toEqual([200, 1]);
    }
    // Reads open to all (the default): the claimed pet is served warm, as the normal path would.
    const open = appOn(clock);
    await read(open, path);
    const normal = await read(open, path);
    const warm = await read(open, path);
    expect([normal.status, warm.status, warm.loaded]).toEqual([200, 200, 0]);
    expect(warm.text).toBe(normal.text);

    const limited = appOn(clock, { RATE_LIMIT_PER_PET: '1000', RATE_LIMIT_PER_CLIENT: '0' });
    for (let i = 0; i < 3; i += 1) {
      const counted = await read(limited, path);
      expect([counted.status, counted.loaded]).toEqual([200, 1]);
      expect(new Map(counted.headers).get('ratelimit')).toBeDefined();
    }
  });
});
