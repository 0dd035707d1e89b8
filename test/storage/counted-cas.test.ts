/**
 * COUNTED_CAS_SCRIPT (docs/design.md §15): the rate-limit counters of a request counted in its
 * compare-and-set, which writes only when no enforced counter is over its limit.
 */
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageUnavailableError } from '../../src/errors.js';
import { DEFAULT_SNAPSHOT_BYTES } from '../../src/storage/index.js';
import { extraKey, petKeys } from '../../src/storage/keys.js';
import { createRedisStorage } from '../../src/storage/redis.js';
import { createScriptRunner, luaScript } from '../../src/storage/script-runner.js';
import {
  CAS_SCRIPT,
  COUNTED_CAS_SCRIPT,
  casArguments,
  countedCasArguments,
  parseCasReply,
  parseCountedCasReply,
} from '../../src/storage/scripts/index.js';
import { describeWithRedis, testRedisUrl, uniqueId } from '../helpers/redis.js';
import { metaFor, sampleSystems } from './contract.js';

const COUNTED = luaScript(COUNTED_CAS_SCRIPT);

describe('counted compare-and-set arguments (no server)', () => {
  it('needs one whole, non-negative limit per hit', () => {
    const cas = casArguments('p', { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() }, undefined, 0);
    const hits = [{ purpose: 'rl', subject: 'p', windowMs: 1000 }];
    expect(() => countedCasArguments(cas, { hits, limits: [] })).toThrow(RangeError);
    expect(() => countedCasArguments(cas, { hits, limits: [-1] })).toThrow(RangeError);
    expect(() => countedCasArguments(cas, { hits: [{ purpose: 'rl', subject: 'p', windowMs: 0 }], limits: [1] })).toThrow();
    const counted = countedCasArguments(cas, { hits: [{ ...hits[0], weight: 3 } as (typeof hits)[0]], limits: [5] });
    expect(counted.keys).toEqual([...cas.keys, 'life_~rl:p']);
    expect(counted.args).toEqual([...cas.args, '1000', '3', '5', '1']);
  });

  it('rejects a reply of another shape', () => {
    expect(() => parseCountedCasReply([[1, 1000], { ok: 1 }], 'p', 2)).toThrow(/counted compare-and-set/);
    expect(() => parseCountedCasReply('OK', 'p', 0)).toThrow(/counted compare-and-set/);
  });
});

describeWithRedis('COUNTED_CAS_SCRIPT on the test Redis', () => {
  const client = createClient({ url: testRedisUrl ?? 'redis://127.0.0.1:6379', RESP: 2 });
  const id = uniqueId('counted-cas');
  const counters = [`life_~rl:${id}:a`, `life_~rl:${id}:b`];
  const runner = createScriptRunner({
    evalsha: (sha1, keys, args) => client.sendCommand(['EVALSHA', sha1, String(keys.length), ...keys, ...args]),
    eval: (text, keys, args) => client.sendCommand(['EVAL', text, String(keys.length), ...keys, ...args]),
    pipeline: (commands) => Promise.all(commands.map((command) => client.sendCommand([...command.args]))),
    isNoScript: (error) => error instanceof Error && error.message.startsWith('NOSCRIPT'),
  });
  const hits = [
    { purpose: 'rl', subject: `${id}:a`, windowMs: 10_000, weight: 2 },
    { purpose: 'rl', subject: `${id}:b`, windowMs: 10_000 },
  ];
  /** A counted save at `expectedVersion` writing version `version`, with an extra record. */
  const save = async (expectedVersion: number, version: number, limits: number[]) => {
    const cas = casArguments(
      id,
      {
        expectedVersion,
        meta: metaFor(version),
        systems: sampleSystems(),
        extras: [{ name: 'idem:x', value: 'v', ttlMs: 60_000 }],
        ttlMs: 120_000,
      },
      undefined,
      Date.now(),
    );
    const { keys, args } = countedCasArguments(cas, { hits, limits });
    return parseCountedCasReply(await runner.call(COUNTED, keys, args), id, hits.length);
  };
  const storedVersion = async () =>
    JSON.parse(((await client.sendCommand(['GET', petKeys(id).meta])) as string | null) ?? '{"version":0}').version;

  beforeAll(async () => {
    client.on('error', () => undefined);
    await client.connect();
  });
  afterAll(async () => {
    await client.sendCommand(['DEL', ...counters]);
    const keys = (await client.sendCommand(['KEYS', `life_${id}*`])) as string[];
    if (keys.length > 0) await client.sendCommand(['DEL', ...keys]);
    await client.quit();
  });

  it('counts each hit by its weight, then saves as CAS_SCRIPT does (TTL and extras included)', async () => {
    const first = await save(0, 1, [4, 0]);
    expect(first.hits.map((hit) => hit.count)).toEqual([2, 1]);
    expect(first.hits.every((hit) => hit.resetInMs > 0 && hit.resetInMs <= 10_000)).toBe(true);
    expect(first.result).toMatchObject({ ok: true, version: 1 });
    expect(await storedVersion()).toBe(1);
    expect(await client.sendCommand(['GET', extraKey(id, 'idem:x')])).toBe('v');
    const pttl = Number(await client.sendCommand(['PTTL', petKeys(id).meta]));
    expect(pttl).toBeGreaterThan(60_000);
    expect(Number(await client.sendCommand(['PTTL', counters[0] as string]))).toBeGreaterThan(0);
  });

  it('a conflict counts too and carries the stored pet', async () => {
    const stale = await save(0, 1, [100, 100]);
    expect(stale.hits.map((hit) => hit.count)).toEqual([4, 2]);
    expect(stale.result).toMatchObject({ ok: false, version: 1 });
    expect(stale.result?.ok === false && stale.result.record?.version).toBe(1);
  });

  it('over an enforced limit: counted, nothing written; a counter not enforced refuses nothing', async () => {
    // a is at 4; weight 2 takes it to 6, over 5.
    const refused = await save(1, 2, [5, 0]);
    expect(refused.hits.map((hit) => hit.count)).toEqual([6, 3]);
    expect(refused.result).toBeNull();
    expect(await storedVersion()).toBe(1);
    // b at 4 is over 1 but not enforced (0); a at 8 is within 8.
    const passed = await save(1, 2, [8, 0]);
    expect(passed.hits.map((hit) => hit.count)).toEqual([8, 4]);
    expect(passed.result).toMatchObject({ ok: true, version: 2 });
    expect(await storedVersion()).toBe(2);
    // Exactly at the limit passes; one over refuses (b's limit 5, now at 5).
    expect((await save(2, 3, [0, 5])).result).toMatchObject({ ok: true, version: 3 });
    expect((await save(3, 4, [0, 5])).result).toBeNull();
    expect(await storedVersion()).toBe(3);
  });

  it('the plain CAS_SCRIPT sees what the counted one wrote', async () => {
    const cas = casArguments(id, { expectedVersion: 3, meta: metaFor(4), systems: sampleSystems() }, undefined, Date.now());
    expect(parseCasReply(await runner.call(luaScript(CAS_SCRIPT), cas.keys, cas.args), id)).toMatchObject({ ok: true, version: 4 });
  });
});

describeWithRedis('saveCounted and loadHeld of the Redis driver with snapshots', () => {
  const url = testRedisUrl ?? 'redis://127.0.0.1:6379';
  const id = uniqueId('save-counted');
  const hits = [{ purpose: 'rl', subject: id, windowMs: 10_000 }];

  it('holds what it wrote, holds nothing new when a limit refused, and WAITs in the same round trip', async () => {
    const driver = createRedisStorage({ url, snapshotBytes: DEFAULT_SNAPSHOT_BYTES });
    const waiting = createRedisStorage({ url, snapshotBytes: DEFAULT_SNAPSHOT_BYTES, waitReplicas: 1, waitTimeoutMs: 100 });
    try {
      expect(await driver.loadHeld?.(id)).toBeUndefined();
      expect(await driver.load(id)).toBeNull();
      expect(await driver.loadHeld?.(id)).toBeNull(); // held as absent
      const first = await driver.saveCounted?.(
        id,
        { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() },
        { hits, limits: [1] },
      );
      expect(first).toMatchObject({ result: { ok: true, version: 1 }, hits: [{ count: 1 }] });
      expect((await driver.loadHeld?.(id))?.version).toBe(1);
      const before = driver.roundTrips();
      const refused = await driver.saveCounted?.(
        id,
        { expectedVersion: 1, meta: metaFor(2), systems: sampleSystems() },
        { hits, limits: [1] },
      );
      expect(refused).toMatchObject({ result: null, hits: [{ count: 2 }] });
      expect(driver.roundTrips() - before).toBe(1); // no barrier: nothing was written
      expect((await driver.loadHeld?.(id))?.version).toBe(1);
      // No replica acknowledges: a 503 that says the change may be applied, after one round trip.
      const trips = waiting.roundTrips();
      const saving = waiting.saveCounted?.(id, { expectedVersion: 1, meta: metaFor(2), systems: sampleSystems() }, { hits, limits: [0] });
      await expect(saving).rejects.toBeInstanceOf(StorageUnavailableError);
      expect(waiting.roundTrips() - trips).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 20)); // the other connection's invalidation reaches us
      expect((await driver.load(id))?.version).toBe(2);
    } finally {
      await driver.remove(id);
      await driver.close();
      await waiting.close();
    }
  });
});
