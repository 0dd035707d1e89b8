/**
 * The storage contract every driver passes (unstorage-style shared suite). Each driver's test file
 * calls describeStorageContract(name, setup) and adds its own cases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDueSetContract } from './due-set-contract.js';
import { SYSTEM_NAMES, type SystemName } from '../../src/engine/types.js';
import { CorruptStateError, InvalidInputError } from '../../src/errors.js';
import {
  MAX_EXTRAS_PER_PET,
  compareEventIds,
  isEventId,
  type PetEventDraft,
  type HitRequest,
  type JsonObject,
  type PetMeta,
  type SaveRequest,
  type SaveResult,
  type StorageDriver,
} from '../../src/storage/index.js';

export interface StorageHarness {
  /**
   * A driver on the shared store; called several times (several instances = several processes
   * or connections). `ttlMs` configures the pet TTL.
   */
  create(options?: HarnessOptions): StorageDriver | Promise<StorageDriver>;
  /**
   * How the driver trims its event log: 'exact' (memory, files: exactly the bound) or
   * 'approximate' (Redis `MAXLEN ~`: at least the bound, whole stream nodes of up to 100 entries).
   */
  eventTrim: 'exact' | 'approximate';
  /** Whether the driver has `watch` (not Upstash REST). */
  watch: boolean;
  /**
   * The driver holds snapshots (Redis TCP with SNAPSHOTS on, §11): a load of a pet it has just read
   * or saved costs 0 round trips instead of 1, and a write 2 (its PING barrier). @default false
   */
  snapshots?: boolean;
  /** Every raw key (Redis) or path relative to the data folder (files) in the store. */
  listKeys(): Promise<string[]>;
  /** Remaining TTL in ms of `life_<petId>:<name>` (name: meta, a system, an extra): -1 none, -2 absent. */
  pttl(petId: string, name: string): Promise<number>;
  /** Moves time forward by `ms` (a fake clock, or real waiting for a real server). */
  advance(ms: number): Promise<void>;
  /**
   * Stores `value` as the pet's `name` (meta or a system) behind the driver's back, as a broken
   * writer would: a JSON value as is (files put it into pet.json, so a string that is not JSON
   * becomes a JSON string there).
   */
  rawWrite(petId: string, name: 'meta' | SystemName, value: string): Promise<void>;
  cleanup?(): Promise<void>;
}

/** What a harness passes to its driver (only the options given). */
export interface HarnessOptions {
  ttlMs?: number;
  eventLogMax?: number;
}

let counter = 0;
/** A pet id unique to this run. */
export function petId(label: string): string {
  counter += 1;
  return `${label}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 7)}`;
}

export function metaFor(version: number, overrides: Partial<PetMeta> = {}): PetMeta {
  return {
    version,
    pet_name: '小糖',
    timezone: 'Asia/Shanghai',
    created_at: '2026-11-25T08:00:00.000+08:00',
    world_ms: 1_764_028_800_000 + version * 60_000,
    wall_ms: 1_764_028_800_000 + version * 60_000,
    ...overrides,
  };
}

/** PetRecord.raw for a pet stored with `meta` and `systems`: the compact JSON of each, null for a system absent. */
export function storedValues(meta: PetMeta, systems: Partial<Record<SystemName, JsonObject>>): (string | null)[] {
  return [JSON.stringify(meta), ...SYSTEM_NAMES.map((name) => (systems[name] === undefined ? null : JSON.stringify(systems[name])))];
}

/** One value per system, with the kinds of values real state has (floats, unicode, null, nesting). */
export function sampleSystems(seed = 1): Record<SystemName, JsonObject> {
  return {
    rhythm: {
      internal_phase: 0.041009875020171324 * seed,
      external_phase: 4.877646764119466e-6,
      phase_difference: -0.041524047973070584,
      last_calibration: 1762100299.762366,
      last_update: 1762100299.762366,
    },
    energy: {
      energy: 99.15729479437536,
      consumption_rate: 0.8427052056246336,
      recovery_rate: 0,
      circadian_value: 0.6274153621648515,
      sleep_pressure: 0.2,
      asleep: false,
      last_update: 1762100299.76237,
    },
    satiety: { satiety: 0.7, hunger: 30.000000000000004, last_update: 1762100299 },
    mood: {
      mood: 60,
      bond: 0.015,
      neglected: false,
      last_interaction: 1762100280,
      woken_by_play: null,
      last_event: { kind: 'fed', at: 1762100280 },
      note: '傍晚渐近，但仍有充足的能量 ●●●○○',
      last_update: 1762100299,
    },
    stats: { feed: seed, play: 0, greet: 2 },
  };
}

/**
 * A conflict as every driver answers it, `{ ok, version }`; a driver may add the pet as stored
 * (`record`, §11: the Redis drivers do), and then it must be exactly what a load returns.
 */
export async function conflictOf(driver: StorageDriver, id: string, result: SaveResult): Promise<{ ok: boolean; version: number }> {
  if (!result.ok && result.record !== undefined) expect(result.record).toEqual(await driver.load(id));
  return { ok: result.ok, version: result.version };
}

export const BAD_IDS: readonly string[] = ['a:b', '*', '../x', '', 'x'.repeat(65), 'ü', 'a b', '~x', 'a/b', 'a.b', '\u0000'];

export function describeStorageContract(name: string, setup: () => StorageHarness | Promise<StorageHarness>): void {
  describe(`storage contract: ${name}`, () => {
    let harness: StorageHarness;
    let driver: StorageDriver;
    /** Round trips of a write: 1, and with snapshots 2 (the compare-and-set, then the PING barrier). */
    let saveTrips = 1;
    const opened: StorageDriver[] = [];
    const create = async (options?: HarnessOptions): Promise<StorageDriver> => {
      const created = await harness.create(options);
      opened.push(created);
      return created;
    };

    beforeAll(async () => {
      harness = await setup();
      saveTrips = harness.snapshots === true ? 2 : 1;
      driver = await create();
      await driver.ping();
    });

    afterAll(async () => {
      await Promise.all(opened.map((d) => d.close()));
      await harness?.cleanup?.();
    });

    it('returns null for a pet never stored', async () => {
      expect(await driver.load(petId('missing'))).toBeNull();
    });

    it('round-trips every system and the meta', async () => {
      const id = petId('roundtrip');
      const systems = sampleSystems();
      const result = await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems });
      expect(result).toEqual({ ok: true, version: 1, keys: 1 + SYSTEM_NAMES.length, eventIds: [] });
      const record = await driver.load(id);
      expect(record).toEqual({ version: 1, meta: metaFor(1), systems, extras: {}, raw: storedValues(metaFor(1), systems) });
    });

    it('reads the same raw values while nothing is saved, and others after a save', async () => {
      const id = petId('raw');
      await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems(1) });
      const first = await driver.load(id);
      const again = await driver.load(id, { extras: ['idem:0a1b'] });
      expect(again?.raw).toEqual(first?.raw);
      await driver.save(id, { expectedVersion: 1, meta: metaFor(2), systems: { mood: sampleSystems(2).mood } });
      const after = await driver.load(id);
      expect(after?.raw).not.toEqual(first?.raw);
      expect(after?.raw).toEqual(storedValues(metaFor(2), { ...sampleSystems(1), mood: sampleSystems(2).mood }));
    });

    it('keeps the systems a partial save leaves out', async () => {
      const id = petId('partial');
      const systems = sampleSystems();
      await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: { rhythm: systems.rhythm, energy: systems.energy } });
      const second = await driver.save(id, { expectedVersion: 1, meta: metaFor(2), systems: { mood: systems.mood } });
      expect(second).toEqual({ ok: true, version: 2, keys: 2, eventIds: [] });
      const record = await driver.load(id);
      expect(record?.version).toBe(2);
      expect(record?.systems).toEqual({ rhythm: systems.rhythm, energy: systems.energy, mood: systems.mood });
    });

    it('reads a pet in one round trip and saves it in one', async () => {
      const id = petId('trips');
      // The first save on a server may need EVAL after NOSCRIPT; measure once the script is known.
      await driver.save(petId('warm-up'), { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() });
      let before = driver.roundTrips();
      await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() });
      expect(driver.roundTrips() - before).toBe(saveTrips);
      before = driver.roundTrips();
      await driver.load(id, { extras: ['idem:0a1b'] });
      expect(driver.roundTrips() - before).toBe(1);
      before = driver.roundTrips();
      await driver.save(id, {
        expectedVersion: 1,
        meta: metaFor(2),
        systems: sampleSystems(2),
        extras: [{ name: 'idem:0a1b', value: '{"status":200}', ttlMs: 60_000 }],
      });
      expect(driver.roundTrips() - before).toBe(saveTrips);
    });

    it('refuses a stale expected version and writes nothing', async () => {
      const id = petId('conflict');
      await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems(1) });
      const stale: SaveRequest = {
        expectedVersion: 0,
        meta: metaFor(1, { pet_name: 'intruder' }),
        systems: sampleSystems(7),
        extras: [{ name: 'idem:dead', value: 'x', ttlMs: 60_000 }],
      };
      expect(await conflictOf(driver, id, await driver.save(id, stale))).toEqual({ ok: false, version: 1 });
      expect(await conflictOf(driver, id, await driver.save(id, { ...stale, expectedVersion: 5, meta: metaFor(6) }))).toEqual({
        ok: false,
        version: 1,
      });
      const record = await driver.load(id, { extras: ['idem:dead'] });
      expect(record).toEqual({
        version: 1,
        meta: metaFor(1),
        systems: sampleSystems(1),
        extras: { 'idem:dead': null },
        raw: storedValues(metaFor(1), sampleSystems(1)),
      });
    });

    it('refuses a save whose meta.version is not expectedVersion + 1', async () => {
      await expect(driver.save(petId('badmeta'), { expectedVersion: 0, meta: metaFor(3), systems: {} })).rejects.toThrow(RangeError);
    });

    it('loses no increment among 16 concurrent writers (25 increments each)', async () => {
      const id = petId('counter');
      const drivers = [driver, await create(), await create(), await create()];
      let conflicts = 0;
      const worker = async (index: number): Promise<void> => {
        const mine = drivers[index % drivers.length] as StorageDriver;
        for (let done = 0; done < 25; ) {
          const record = await mine.load(id);
          const version = record?.version ?? 0;
          const count = Number(record?.systems.stats?.['feed'] ?? 0);
          const result = await mine.save(id, {
            expectedVersion: version,
            meta: metaFor(version + 1),
            systems: { stats: { feed: count + 1, play: 0, greet: 0 } },
          });
          if (result.ok) done += 1;
          else conflicts += 1;
          if (conflicts > 100_000) throw new Error('livelock');
        }
      };
      await Promise.all(Array.from({ length: 16 }, (_, index) => worker(index)));
      const record = await driver.load(id);
      expect(record?.systems.stats?.['feed']).toBe(400);
      expect(record?.version).toBe(400);
      console.info(`[${name}] 16 writers × 25 increments: 400 of 400 kept, ${conflicts} conflicts retried`);
    });

    it('sets no expiry when no TTL is configured', async () => {
      const id = petId('nottl');
      await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() });
      expect(await harness.pttl(id, 'meta')).toBe(-1);
      for (const system of SYSTEM_NAMES) expect(await harness.pttl(id, system)).toBe(-1);
    });

    it('expires a pet after its TTL and refreshes the TTL of every key on each save', async () => {
      const ttlMs = 600;
      const ttlDriver = await create({ ttlMs });
      const id = petId('ttl');
      const systems = sampleSystems();
      await ttlDriver.save(id, { expectedVersion: 0, meta: metaFor(1), systems });
      const first = await harness.pttl(id, 'energy');
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThanOrEqual(ttlMs);
      await harness.advance(300);
      // Writes rhythm only: energy and the others must be refreshed too.
      await ttlDriver.save(id, { expectedVersion: 1, meta: metaFor(2), systems: { rhythm: systems.rhythm } });
      expect(await harness.pttl(id, 'energy')).toBeGreaterThan(400);
      expect(await harness.pttl(id, 'meta')).toBeGreaterThan(400);
      await harness.advance(400); // 700 ms after the first save, 400 after the second
      expect((await ttlDriver.load(id))?.systems).toEqual(systems);
      await harness.advance(700);
      expect(await ttlDriver.load(id)).toBeNull();
    });

    it('clears the expiry of every key once the TTL is turned off', async () => {
      const id = petId('ttl-off');
      const systems = sampleSystems();
      await (await create({ ttlMs: 60_000 })).save(id, { expectedVersion: 0, meta: metaFor(1), systems });
      expect(await harness.pttl(id, 'stats')).toBeGreaterThan(0);
      await driver.save(id, { expectedVersion: 1, meta: metaFor(2), systems: { rhythm: systems.rhythm } });
      expect(await harness.pttl(id, 'meta')).toBe(-1);
      for (const system of SYSTEM_NAMES) expect(await harness.pttl(id, system)).toBe(-1);
    });

    it('writes extras atomically with a save, reads them in the same load, and expires them', async () => {
      const id = petId('extras');
      const result = await driver.save(id, {
        expectedVersion: 0,
        meta: metaFor(1),
        systems: { stats: { feed: 1, play: 0, greet: 0 } },
        extras: [
          { name: 'idem:00ff', value: '{"status":200,"body":"…"}', ttlMs: 300 },
          { name: 'idem:0aff', value: 'long-lived', ttlMs: 60_000 },
        ],
      });
      expect(result).toEqual({ ok: true, version: 1, keys: 4, eventIds: [] });
      const record = await driver.load(id, { extras: ['idem:00ff', 'idem:0aff', 'idem:beef'] });
      expect(record?.extras).toEqual({ 'idem:00ff': '{"status":200,"body":"…"}', 'idem:0aff': 'long-lived', 'idem:beef': null });
      const left = await harness.pttl(id, 'idem:00ff');
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(300);
      await harness.advance(450);
      const later = await driver.load(id, { extras: ['idem:00ff', 'idem:0aff'] });
      expect(later?.extras).toEqual({ 'idem:00ff': null, 'idem:0aff': 'long-lived' });
      expect(later?.version).toBe(1);
      await expect(driver.load(id, { extras: ['rhythm'] })).rejects.toThrow(TypeError);
    });

    it('counts hits per fixed window and per subject', async () => {
      const subject = `2001:db8::${Math.floor(Math.random() * 0xffff).toString(16)}`;
      const first = await driver.hit('ratelimit', subject, 400);
      expect(first.count).toBe(1);
      expect(first.resetInMs).toBeGreaterThan(0);
      expect(first.resetInMs).toBeLessThanOrEqual(400);
      expect((await driver.hit('ratelimit', subject, 400)).count).toBe(2);
      expect((await driver.hit('ratelimit', subject, 400)).count).toBe(3);
      expect((await driver.hit('ratelimit', `${subject}:1`, 400)).count).toBe(1);
      expect((await driver.hit('other', subject, 400)).count).toBe(1);
      const before = driver.roundTrips();
      // A subject like a path is just a subject (unique to this run: the drivers' suites share a server).
      expect((await driver.hit('ratelimit', `../../${petId('path')}`, 400)).count).toBe(1);
      expect(driver.roundTrips() - before).toBe(1);
      await harness.advance(550);
      expect((await driver.hit('ratelimit', subject, 400)).count).toBe(1);
    });

    it('counts hits and loads the pet in one round trip (loadCounted), the record identical to load()', async () => {
      const id = petId('counted');
      const address = `2001:db8::${Math.floor(Math.random() * 0xffff).toString(16)}`;
      await driver.save(id, {
        expectedVersion: 0,
        meta: metaFor(1),
        systems: sampleSystems(3),
        extras: [{ name: 'idem:0a1b', value: '{"status":200}', ttlMs: 60_000 }],
      });
      const hits: HitRequest[] = [
        { purpose: 'ratelimit', subject: address, windowMs: 400 },
        { purpose: 'ratelimit', subject: `${address}:${id}`, windowMs: 60_000 },
        { purpose: 'writes', subject: id, windowMs: 400 },
      ];
      const extras = ['idem:0a1b', 'idem:beef'];
      // The first script call on a server may need EVAL after NOSCRIPT; measure once it is known.
      await driver.loadCounted(petId('warm-up'), { hits: [{ purpose: 'warm-up', subject: id, windowMs: 1000 }] });
      const before = driver.roundTrips();
      const first = await driver.loadCounted(id, { extras, hits });
      expect(driver.roundTrips() - before).toBe(1);
      expect(first.record).toEqual(await driver.load(id, { extras }));
      expect(first.record).toEqual({
        version: 1,
        meta: metaFor(1),
        systems: sampleSystems(3),
        extras: { 'idem:0a1b': '{"status":200}', 'idem:beef': null },
        raw: storedValues(metaFor(1), sampleSystems(3)),
      });
      expect(first.hits.map((hit) => hit.count)).toEqual([1, 1, 1]);
      for (const [index, hit] of first.hits.entries()) {
        expect(hit.resetInMs).toBeGreaterThan(0);
        expect(hit.resetInMs).toBeLessThanOrEqual(hits[index]?.windowMs ?? 0);
      }
      const second = await driver.loadCounted(id, { extras, hits });
      expect(second.hits.map((hit) => hit.count)).toEqual([2, 2, 2]);
      expect(second.record).toEqual(first.record);
      // The same counters as hit(): the two count together.
      expect((await driver.hit('ratelimit', address, 400)).count).toBe(3);
      expect((await driver.loadCounted(id, { hits: hits.slice(0, 1) })).hits).toMatchObject([{ count: 4 }]);
      // Each window resets on its own.
      await harness.advance(550);
      const later = await driver.loadCounted(id, { hits });
      expect(later.hits.map((hit) => hit.count)).toEqual([1, 3, 1]);
      expect(later.record).toEqual(await driver.load(id));
    });

    it('counts a weighted hit by its weight, starting its window, and refuses a weight that is no positive integer', async () => {
      const id = petId('weighted');
      const subject = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}::/64`;
      const weighted: HitRequest = { purpose: 'ratelimit', subject, windowMs: 400, weight: 5 };
      const first = await driver.loadCounted(id, { hits: [weighted] });
      expect(first.hits[0]?.count).toBe(5);
      expect(first.hits[0]?.resetInMs).toBeGreaterThan(0);
      expect((await driver.loadCounted(id, { hits: [{ ...weighted, weight: 1 }] })).hits[0]?.count).toBe(6);
      expect((await driver.hit('ratelimit', subject, 400)).count).toBe(7);
      await harness.advance(550);
      expect((await driver.loadCounted(id, { hits: [weighted] })).hits[0]?.count).toBe(5);
      for (const weight of [0, -1, 1.5, Number.NaN]) {
        await expect(driver.loadCounted(id, { hits: [{ ...weighted, weight }] })).rejects.toThrow(RangeError);
      }
    });

    it('counts hits for a missing pet (record null), in order, a repeated counter twice', async () => {
      const id = petId('counted-missing');
      // Unique per run: the Redis suites share one server within the window (a random octet collided).
      const subject = `::ffff:10.0.0.1:${petId('counted-subject')}`;
      const hit: HitRequest = { purpose: 'ratelimit', subject, windowMs: 60_000 };
      const before = driver.roundTrips();
      const result = await driver.loadCounted(id, { extras: ['idem:aa'], hits: [hit, hit, { ...hit, subject: '../..' }] });
      expect(driver.roundTrips() - before).toBe(1);
      expect(result.record).toBeNull();
      expect(result.hits.map((entry) => entry.count)).toEqual([1, 2, expect.any(Number)]);
      expect((await driver.hit('ratelimit', subject, 60_000)).count).toBe(3);
      expect(await driver.load(id)).toBeNull(); // counting wrote nothing of the pet
      expect((await harness.listKeys()).filter((key) => key.includes(id))).toEqual([]);
    });

    it('loadCounted without hits is load() in one round trip', async () => {
      const id = petId('counted-none');
      await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() });
      const before = driver.roundTrips();
      const result = await driver.loadCounted(id, { hits: [] });
      expect(driver.roundTrips() - before).toBe(harness.snapshots === true ? 0 : 1);
      expect(result).toEqual({ record: await driver.load(id), hits: [] });
    });

    it('checks every hit and the pet id of loadCounted before counting anything', async () => {
      const subject = `check-${petId('subject')}`;
      const good: HitRequest = { purpose: 'ratelimit', subject, windowMs: 1000 };
      const id = petId('counted-checks');
      const cases: Array<[HitRequest, ErrorConstructor]> = [
        [{ purpose: 'Rate', subject, windowMs: 1000 }, TypeError],
        [{ purpose: 'rate:limit', subject, windowMs: 1000 }, TypeError],
        [{ purpose: 'ratelimit', subject: '', windowMs: 1000 }, TypeError],
        [{ purpose: 'ratelimit', subject: 'a\nb', windowMs: 1000 }, TypeError],
        [{ purpose: 'ratelimit', subject: 'x'.repeat(201), windowMs: 1000 }, TypeError],
        [{ purpose: 'ratelimit', subject, windowMs: 0 }, RangeError],
        [{ purpose: 'ratelimit', subject, windowMs: 1.5 }, RangeError],
      ];
      const before = await harness.listKeys();
      for (const [bad, type] of cases) {
        await expect(driver.loadCounted(id, { hits: [good, bad] }), JSON.stringify(bad)).rejects.toThrow(type);
      }
      const invalidId = await driver.loadCounted('a:b', { hits: [good] }).catch((caught: unknown) => caught);
      expect(invalidId).toBeInstanceOf(InvalidInputError);
      await expect(driver.loadCounted(id, { extras: ['rhythm'], hits: [good] })).rejects.toThrow(TypeError);
      expect(await harness.listKeys()).toEqual(before);
      expect((await driver.hit('ratelimit', subject, 1000)).count).toBe(1);
    });

    it('removes every key of a pet, extras included, and nothing else', async () => {
      const id = petId('remove');
      const other = petId('keep');
      const request: SaveRequest = {
        expectedVersion: 0,
        meta: metaFor(1),
        systems: sampleSystems(),
        extras: [{ name: 'idem:aa', value: 'x', ttlMs: 60_000 }],
      };
      await driver.save(id, request);
      await driver.save(other, request);
      await driver.remove(id);
      expect(await driver.load(id, { extras: ['idem:aa'] })).toBeNull();
      expect((await harness.listKeys()).filter((key) => key.includes(id))).toEqual([]);
      expect((await driver.load(other))?.version).toBe(1);
      await driver.remove(petId('never-stored'));
      // A removed pet starts again at version 0.
      expect((await driver.save(id, request)).ok).toBe(true);
    });

    it('rejects unsafe ids before any key or file exists', async () => {
      const before = await harness.listKeys();
      for (const bad of BAD_IDS) {
        const expectInvalid = async (promise: Promise<unknown>): Promise<void> => {
          const error = await promise.then(
            () => null,
            (caught: unknown) => caught,
          );
          expect(error, JSON.stringify(bad)).toBeInstanceOf(InvalidInputError);
          expect((error as InvalidInputError).code).toBe('invalid_device_id');
        };
        await expectInvalid(driver.load(bad));
        await expectInvalid(driver.save(bad, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() }));
        await expectInvalid(driver.remove(bad));
      }
      expect(await harness.listKeys()).toEqual(before);
    });

    it('reports anything malformed as a CorruptStateError naming the pet, with the claim_hash when the meta still yields it', async () => {
      const claimed = { ...metaFor(1), claim_hash: 'sha256:c0ffee' };
      const cases: Array<{ name: 'meta' | SystemName; value: string; claimHash: string | null; version: number | null }> = [
        { name: 'rhythm', value: '{"internal_phase":"x"}', claimHash: 'sha256:c0ffee', version: 1 },
        { name: 'energy', value: '{"energy":250}', claimHash: 'sha256:c0ffee', version: 1 },
        { name: 'mood', value: '{"last_event":{"kind":"exploded","at":1}}', claimHash: 'sha256:c0ffee', version: 1 },
        { name: 'stats', value: '{"feed":-1}', claimHash: 'sha256:c0ffee', version: 1 },
        { name: 'satiety', value: '[1,2]', claimHash: 'sha256:c0ffee', version: 1 },
        { name: 'rhythm', value: 'null', claimHash: 'sha256:c0ffee', version: 1 },
        { name: 'meta', value: JSON.stringify({ version: 3, claim_hash: 'sha256:beef' }), claimHash: 'sha256:beef', version: 3 },
        { name: 'meta', value: JSON.stringify({ ...claimed, world_ms: 'soon' }), claimHash: 'sha256:c0ffee', version: 1 },
        { name: 'meta', value: JSON.stringify({ ...claimed, claim_hash: 7 }), claimHash: null, version: 1 },
        { name: 'meta', value: '{"version":', claimHash: null, version: null },
      ];
      for (const { name: key, value, claimHash, version } of cases) {
        const id = petId('corrupt');
        await driver.save(id, { expectedVersion: 0, meta: claimed, systems: sampleSystems() });
        await harness.rawWrite(id, key, value);
        const error = await driver.load(id).catch((caught: unknown) => caught);
        expect(error, `${key}=${value}`).toBeInstanceOf(CorruptStateError);
        expect(error).toMatchObject({ code: 'corrupt_state', petId: id, claimHash, storedVersion: version });
        // The counted load reports it the same way, after counting its hits.
        const counted = await driver
          .loadCounted(id, { hits: [{ purpose: 'ratelimit', subject: id, windowMs: 60_000 }] })
          .catch((caught: unknown) => caught);
        expect(counted).toMatchObject({ code: 'corrupt_state', petId: id, claimHash });
      }
    });

    it('loads systems without meta, as the Python server wrote them', async () => {
      const id = petId('python-shape');
      const rhythm = {
        internal_phase: 0.04,
        last_calibration: 1762100299.76,
        last_update: 1762100299.76,
        external_phase: 4.8e-6,
        phase_difference: -0.04,
      };
      const energy = { energy: 99.1, last_update: 1762100299.76, consumption_rate: 0.84, recovery_rate: 0.0, circadian_value: 0.62 };
      await harness.rawWrite(id, 'rhythm', JSON.stringify(rhythm));
      await harness.rawWrite(id, 'energy', JSON.stringify(energy));
      const record = await driver.load(id);
      expect(record).toMatchObject({ version: 0, meta: null, systems: { rhythm, energy } });
    });

    it('replaces whatever is stored, corrupt or not, in one round trip; a save prepared against the old pet conflicts', async () => {
      const id = petId('replace');
      const { rhythm, stats } = sampleSystems(4);
      await driver.save(id, {
        expectedVersion: 0,
        meta: { ...metaFor(1), claim_hash: 'sha256:c0ffee' },
        systems: sampleSystems(),
        extras: [{ name: 'idem:0a', value: 'kept', ttlMs: 60_000 }],
      });
      await harness.rawWrite(id, 'meta', '{"version":');
      await harness.rawWrite(id, 'mood', '[]');
      await expect(driver.load(id)).rejects.toBeInstanceOf(CorruptStateError);
      await expect(driver.save(id, { expectedVersion: 1, meta: metaFor(2), systems: {} })).rejects.toBeInstanceOf(CorruptStateError);
      const before = driver.roundTrips();
      expect(await driver.replace(id, { meta: metaFor(5), systems: { rhythm, stats } })).toEqual({
        ok: true,
        version: 5,
        keys: 3,
        eventIds: [],
      });
      expect(driver.roundTrips() - before).toBe(saveTrips);
      // Exactly what was given: the systems left out (the corrupt mood among them) are gone; extras stay.
      expect(await driver.load(id, { extras: ['idem:0a'] })).toEqual({
        version: 5,
        meta: metaFor(5),
        systems: { rhythm, stats },
        extras: { 'idem:0a': 'kept' },
        raw: storedValues(metaFor(5), { rhythm, stats }),
      });
      expect(await conflictOf(driver, id, await driver.save(id, { expectedVersion: 1, meta: metaFor(2), systems: {} }))).toEqual({
        ok: false,
        version: 5,
      });
      expect((await driver.save(id, { expectedVersion: 5, meta: metaFor(6), systems: {} })).ok).toBe(true);
      // A replace also creates a pet never stored, and needs a positive version.
      const fresh = petId('replace-new');
      expect(await driver.replace(fresh, { meta: metaFor(1), systems: {}, ttlMs: 60_000 })).toEqual({
        ok: true,
        version: 1,
        keys: 1,
        eventIds: [],
      });
      expect(await harness.pttl(fresh, 'meta')).toBeGreaterThan(0);
      await expect(driver.replace(fresh, { meta: metaFor(0), systems: {} })).rejects.toThrow(RangeError);
      await expect(driver.replace('a:b', { meta: metaFor(1), systems: {} })).rejects.toBeInstanceOf(InvalidInputError);
    });

    it('takes a TTL per save (ttlMs: overrides the configured one; null: none), and a later save without one makes every key permanent', async () => {
      const systems = sampleSystems();
      const newborn = petId('save-ttl');
      const changed = petId('save-ttl-changed');
      for (const id of [newborn, changed]) {
        expect((await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems, ttlMs: 400 })).ok).toBe(true);
        for (const name of ['meta', ...SYSTEM_NAMES] as const) {
          const left = await harness.pttl(id, name);
          expect(left, name).toBeGreaterThan(0);
          expect(left, name).toBeLessThanOrEqual(400);
        }
      }
      // Its first change writes rhythm only: the unchanged systems lose their expiry too.
      await driver.save(changed, { expectedVersion: 1, meta: metaFor(2), systems: { rhythm: systems.rhythm } });
      for (const name of ['meta', ...SYSTEM_NAMES] as const) expect(await harness.pttl(changed, name), name).toBe(-1);
      // ttlMs: null wins over a configured TTL, a number over none.
      const ttlDriver = await create({ ttlMs: 60_000 });
      const forever = petId('save-ttl-null');
      await ttlDriver.save(forever, { expectedVersion: 0, meta: metaFor(1), systems, ttlMs: null });
      for (const name of ['meta', ...SYSTEM_NAMES] as const) expect(await harness.pttl(forever, name), name).toBe(-1);
      const short = petId('save-ttl-short');
      await ttlDriver.save(short, { expectedVersion: 0, meta: metaFor(1), systems, ttlMs: 400 });
      expect(await harness.pttl(short, 'stats')).toBeLessThanOrEqual(400);
      await harness.advance(600);
      expect(await driver.load(newborn)).toBeNull();
      expect(await driver.load(short)).toBeNull();
      expect((await driver.load(changed))?.version).toBe(2);
      expect((await driver.load(forever))?.version).toBe(1);
      for (const ttlMs of [0, -1, 1.5]) {
        await expect(driver.save(petId('bad-ttl'), { expectedVersion: 0, meta: metaFor(1), systems, ttlMs })).rejects.toThrow(RangeError);
      }
    });

    it(`keeps at most MAX_EXTRAS_PER_PET (${MAX_EXTRAS_PER_PET}) extras per pet, dropping those that expire first`, async () => {
      const id = petId('bound');
      const names = Array.from({ length: MAX_EXTRAS_PER_PET + 10 }, (_, i) => `idem:${i.toString(16).padStart(4, '0')}`);
      for (const [i, name] of names.entries()) {
        // Later records expire later (by 1 ms each), whatever the clock does meanwhile.
        const extras = [{ name, value: `answer ${i}`, ttlMs: 60_000 + i }];
        expect((await driver.save(id, { expectedVersion: i, meta: metaFor(i + 1), systems: {}, extras })).ok).toBe(true);
      }
      const record = await driver.load(id, { extras: names });
      expect(names.filter((name) => record?.extras[name] === null)).toEqual(names.slice(0, 10));
      expect(record?.extras[names.at(-1) as string]).toBe(`answer ${names.length - 1}`);
      // Rewriting a kept record does not count it twice.
      const again = [{ name: names.at(-1) as string, value: 'again', ttlMs: 120_000 }];
      await driver.save(id, { expectedVersion: names.length, meta: metaFor(names.length + 1), systems: {}, extras: again });
      const after = await driver.load(id, { extras: names });
      expect(names.filter((name) => after?.extras[name] !== null)).toHaveLength(MAX_EXTRAS_PER_PET);
      expect(after?.extras[names.at(-1) as string]).toBe('again');
    });

    describe('event log', () => {
      const draft = (type: string, data: JsonObject = {}): PetEventDraft => ({
        type,
        pet_time: '2026-11-25T16:00:00.000+08:00',
        at: '2026-11-25T08:00:00.000Z',
        data,
      });
      const increasing = (ids: readonly string[]): boolean =>
        ids.every((id, i) => i === 0 || compareEventIds(ids[i - 1] as string, id) < 0);

      it('appends events with the save, in order, with strictly increasing ids, in one round trip each', async () => {
        const id = petId('events');
        const before = driver.roundTrips();
        const first = await driver.save(id, {
          expectedVersion: 0,
          meta: metaFor(1),
          systems: sampleSystems(),
          events: [draft('created'), draft('interacted', { action: 'feed', note: '小糖' })],
        });
        expect(driver.roundTrips() - before).toBe(saveTrips);
        if (!first.ok) throw new Error('save failed');
        expect(first.eventIds).toHaveLength(2);
        expect(first.eventIds.every(isEventId)).toBe(true);
        const second = await driver.save(id, { expectedVersion: 1, meta: metaFor(2), systems: {}, events: [draft('fell_asleep')] });
        if (!second.ok) throw new Error('save failed');
        const ids = [...first.eventIds, ...second.eventIds];
        expect(increasing(ids)).toBe(true);
        const reading = driver.roundTrips();
        const events = await driver.readEvents(id);
        expect(driver.roundTrips() - reading).toBe(1);
        expect(events).toEqual([
          { id: ids[0], device_id: id, ...draft('created') },
          { id: ids[1], device_id: id, ...draft('interacted', { action: 'feed', note: '小糖' }) },
          { id: ids[2], device_id: id, ...draft('fell_asleep') },
        ]);
        // Loads are unchanged: one round trip (none from a snapshot), the same record.
        const loading = driver.roundTrips();
        expect((await driver.load(id))?.version).toBe(2);
        expect(driver.roundTrips() - loading).toBe(harness.snapshots === true ? 0 : 1);
        // A save without events appends nothing and says so.
        expect(await driver.save(id, { expectedVersion: 2, meta: metaFor(3), systems: {} })).toMatchObject({ ok: true, eventIds: [] });
        expect(await driver.readEvents(id)).toHaveLength(3);
      });

      it('reads the events after an id, at most `limit`; none for a pet without a log; RangeError for a bad id', async () => {
        const id = petId('after');
        const saved = await driver.save(id, {
          expectedVersion: 0,
          meta: metaFor(1),
          systems: {},
          events: ['a', 'b', 'c', 'd', 'e'].map((data) => draft('interacted', { data })),
        });
        if (!saved.ok) throw new Error('save failed');
        const ids = saved.eventIds;
        expect((await driver.readEvents(id, { after: ids[1] as string })).map((event) => event.id)).toEqual(ids.slice(2));
        expect((await driver.readEvents(id, { after: ids[1] as string, limit: 2 })).map((event) => event.id)).toEqual(ids.slice(2, 4));
        expect((await driver.readEvents(id, { after: null, limit: 1 })).map((event) => event.id)).toEqual(ids.slice(0, 1));
        expect(await driver.readEvents(id, { after: ids[4] as string })).toEqual([]);
        expect((await driver.readEvents(id, { after: '0-0' })).map((event) => event.id)).toEqual(ids);
        expect(await driver.readEvents(petId('no-log'))).toEqual([]);
        await expect(driver.readEvents(id, { after: 'nope' })).rejects.toThrow(RangeError);
        await expect(driver.readEvents(id, { limit: 0 })).rejects.toThrow(RangeError);
        await expect(driver.readEvents('a:b')).rejects.toBeInstanceOf(InvalidInputError);
      });

      it('appends nothing when the save conflicts', async () => {
        const id = petId('conflict-events');
        await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {}, events: [draft('created')] });
        const lost = await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {}, events: [draft('interacted')] });
        expect(await conflictOf(driver, id, lost)).toEqual({ ok: false, version: 1 });
        expect((await driver.readEvents(id)).map((event) => event.type)).toEqual(['created']);
      });

      it('appends with a replace too, and keeps the log across it', async () => {
        const id = petId('replace-events');
        await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {}, events: [draft('created')] });
        const replaced = await driver.replace(id, { meta: metaFor(7), systems: {}, events: [draft('reset')] });
        expect(replaced.eventIds).toHaveLength(1);
        const events = await driver.readEvents(id);
        expect(events.map((event) => event.type)).toEqual(['created', 'reset']);
        expect(events[1]?.id).toBe(replaced.eventIds[0]);
      });

      it('appends the events of exactly one of two racing saves', async () => {
        const id = petId('race-events');
        await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {} });
        const other = await create();
        const results = await Promise.all(
          [driver, other].map((d, i) =>
            d.save(id, { expectedVersion: 1, meta: metaFor(2), systems: {}, events: [draft('interacted', { i })] }),
          ),
        );
        expect(results.filter((result) => result.ok)).toHaveLength(1);
        const events = await driver.readEvents(id);
        expect(events).toHaveLength(1);
        const winner = results.find((result) => result.ok);
        expect(events[0]?.id).toBe(winner?.ok ? winner.eventIds[0] : undefined);
      });

      it('expires the log with the pet', async () => {
        const id = petId('expire-events');
        await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {}, events: [draft('created')], ttlMs: 150 });
        expect(await driver.readEvents(id)).toHaveLength(1);
        await harness.advance(300);
        expect(await driver.readEvents(id)).toEqual([]);
      });

      it('removes the log with the pet', async () => {
        const id = petId('remove-events');
        await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {}, events: [draft('created')] });
        await driver.remove(id);
        expect(await driver.readEvents(id)).toEqual([]);
        expect((await harness.listKeys()).filter((key) => key.includes(id))).toEqual([]);
      });

      it('rejects events that are not drafts before any I/O', async () => {
        const bad = [{ type: 'Bad Type', pet_time: 'x', at: 'y', data: {} }] as PetEventDraft[];
        await expect(driver.save(petId('bad-events'), { expectedVersion: 0, meta: metaFor(1), systems: {}, events: bad })).rejects.toThrow(
          TypeError,
        );
      });

      it('keeps the newest events up to the bound', async () => {
        const bound = 10;
        const small = await create({ eventLogMax: bound });
        const id = petId('trim');
        const all: string[] = [];
        for (let i = 0; i < 5; i += 1) {
          const events = Array.from({ length: 30 }, (_, j) => draft('interacted', { n: i * 30 + j }));
          const saved = await small.save(id, { expectedVersion: i, meta: metaFor(i + 1), systems: {}, events });
          if (!saved.ok) throw new Error('save failed');
          all.push(...saved.eventIds);
        }
        expect(increasing(all)).toBe(true);
        const kept = (await small.readEvents(id)).map((event) => event.id);
        if (harness.eventTrim === 'exact') expect(kept).toEqual(all.slice(-bound));
        else {
          expect(kept.length).toBeGreaterThanOrEqual(bound);
          expect(kept.length).toBeLessThanOrEqual(bound + 100);
          expect(kept).toEqual(all.slice(-kept.length));
        }
        // Appending after trimming carries on from the last id.
        const more = await small.save(id, { expectedVersion: 5, meta: metaFor(6), systems: {}, events: [draft('woke_up')] });
        if (!more.ok) throw new Error('save failed');
        expect(compareEventIds(all.at(-1) as string, more.eventIds[0] as string)).toBeLessThan(0);
        expect((await small.readEvents(id)).at(-1)?.type).toBe('woke_up');
      });

      it('announces saves that append events to watchers on other instances, within 250 ms', async () => {
        if (!harness.watch) {
          expect(driver.watch).toBeUndefined();
          return;
        }
        const other = await create();
        const watch = other.watch?.bind(other);
        if (watch === undefined) throw new Error('watch missing');
        const heard: { id: string; at: number }[] = [];
        const stop = await watch((id) => heard.push({ id, at: Date.now() }));
        const quiet = petId('quiet');
        const loud = petId('loud');
        await driver.save(quiet, { expectedVersion: 0, meta: metaFor(1), systems: {} });
        const start = Date.now();
        await driver.save(loud, { expectedVersion: 0, meta: metaFor(1), systems: {}, events: [draft('created')] });
        while (!heard.some((h) => h.id === loud) && Date.now() - start < 1000) await new Promise((resolve) => setTimeout(resolve, 5));
        const got = heard.find((h) => h.id === loud);
        expect(got).toBeDefined();
        expect((got?.at ?? Number.POSITIVE_INFINITY) - start).toBeLessThan(250);
        expect(heard.some((h) => h.id === quiet)).toBe(false);
        await stop();
        const count = heard.length;
        await driver.save(loud, { expectedVersion: 1, meta: metaFor(2), systems: {}, events: [draft('interacted')] });
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(heard).toHaveLength(count);
      });
    });

    describe('loadMany and saveMany (issue #16)', () => {
      it('loads several pets and counts weighted hits in one round trip, each record identical to load()', async () => {
        const stored = petId('many-a');
        const withExtra = petId('many-b');
        const missing = petId('many-c');
        await driver.save(stored, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems(1) });
        await driver.save(withExtra, {
          expectedVersion: 0,
          meta: metaFor(1),
          systems: sampleSystems(2),
          extras: [{ name: 'idem:0a1b', value: '{"status":200}', ttlMs: 60_000 }],
        });
        const subject = `2001:db8::1:${stored}`;
        const hits: HitRequest[] = [
          { purpose: 'ratelimit', subject, windowMs: 60_000, weight: 3 },
          { purpose: 'ratelimit', subject, windowMs: 60_000 },
          { purpose: 'other', subject, windowMs: 60_000 },
        ];
        // A first call may need EVAL after NOSCRIPT on a fresh server; measure the next one.
        await driver.loadMany([{ petId: petId('warm-up') }], { hits: [{ purpose: 'warm-up', subject, windowMs: 1000 }] });
        const before = driver.roundTrips();
        const many = await driver.loadMany(
          [{ petId: stored }, { petId: withExtra, extras: ['idem:0a1b', 'idem:ffff'] }, { petId: missing }],
          { hits },
        );
        expect(driver.roundTrips() - before).toBe(1);
        expect(many.records).toEqual([
          { ok: true, record: await driver.load(stored) },
          { ok: true, record: await driver.load(withExtra, { extras: ['idem:0a1b', 'idem:ffff'] }) },
          { ok: true, record: null },
        ]);
        expect(many.records[1]).toMatchObject({ record: { extras: { 'idem:0a1b': '{"status":200}', 'idem:ffff': null } } });
        expect(many.hits.map((hit) => hit.count)).toEqual([3, 4, 1]);
        for (const hit of many.hits) expect(hit.resetInMs).toBeGreaterThan(50_000);
        // The same counters as hit() and loadCounted().
        expect((await driver.hit('ratelimit', subject, 60_000)).count).toBe(5);
      });

      it('answers a corrupt pet with its own error and still reads the others and counts the hits', async () => {
        const good = petId('many-good');
        const bad = petId('many-bad');
        await driver.save(good, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems(1) });
        await harness.rawWrite(bad, 'meta', '{"version":');
        const subject = `corrupt-${bad}`;
        const many = await driver.loadMany([{ petId: bad }, { petId: good }], {
          hits: [{ purpose: 'ratelimit', subject, windowMs: 60_000 }],
        });
        expect(many.records[0]?.ok).toBe(false);
        const failed = many.records[0] as { ok: false; error: CorruptStateError };
        expect(failed.error).toBeInstanceOf(CorruptStateError);
        expect(failed.error.petId).toBe(bad);
        expect(many.records[1]).toEqual({ ok: true, record: await driver.load(good) });
        expect(many.hits).toMatchObject([{ count: 1 }]);
      });

      it('answers nothing for nothing, and checks every id, name and hit before any I/O', async () => {
        expect(await driver.loadMany([])).toEqual({ records: [], hits: [] });
        expect(await driver.saveMany([])).toEqual([]);
        const good = petId('many-checked');
        const before = driver.roundTrips();
        for (const bad of BAD_IDS) {
          await expect(driver.loadMany([{ petId: good }, { petId: bad }])).rejects.toThrow(InvalidInputError);
          await expect(driver.saveMany([{ petId: bad, request: { expectedVersion: 0, meta: metaFor(1), systems: {} } }])).rejects.toThrow(
            InvalidInputError,
          );
        }
        await expect(driver.loadMany([{ petId: good, extras: ['NOPE'] }])).rejects.toThrow(TypeError);
        await expect(driver.loadMany([{ petId: good }], { hits: [{ purpose: 'ratelimit', subject: 's', windowMs: 0 }] })).rejects.toThrow(
          RangeError,
        );
        const save = { expectedVersion: 0, meta: metaFor(1), systems: {} };
        await expect(
          driver.saveMany([
            { petId: good, request: save },
            { petId: good, request: save },
          ]),
        ).rejects.toThrow(TypeError);
        await expect(driver.saveMany([{ petId: good, request: { ...save, meta: metaFor(3) } }])).rejects.toThrow(RangeError);
        expect(driver.roundTrips()).toBe(before);
        expect(await driver.load(good)).toBeNull();
      });

      it('saves several pets in one round trip, each a compare-and-set of its own: a conflict refuses only its pet', async () => {
        const fresh = petId('save-many-a');
        const kept = petId('save-many-b');
        const stale = petId('save-many-c');
        await driver.save(kept, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems(1) });
        await driver.save(stale, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems(1) });
        await driver.save(stale, { expectedVersion: 1, meta: metaFor(2), systems: {} });
        await driver.saveMany([{ petId: petId('warm-up'), request: { expectedVersion: 0, meta: metaFor(1), systems: {} } }]);
        const event: PetEventDraft = {
          type: 'interacted',
          pet_time: '2026-11-25T08:00:00.000+08:00',
          at: '2026-11-25T00:00:00.000Z',
          data: {},
        };
        const before = driver.roundTrips();
        const results = await driver.saveMany([
          { petId: fresh, request: { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems(3), events: [event, event] } },
          {
            petId: kept,
            request: {
              expectedVersion: 1,
              meta: metaFor(2),
              systems: { mood: sampleSystems(4).mood },
              extras: [{ name: 'idem:beef', value: 'x', ttlMs: 60_000 }],
            },
          },
          { petId: stale, request: { expectedVersion: 1, meta: metaFor(2, { pet_name: 'late' }), systems: sampleSystems(9) } },
        ]);
        // One pipeline (and, with snapshots, the one PING barrier every write waits for).
        expect(driver.roundTrips() - before).toBe(saveTrips);
        expect(results[0]).toMatchObject({ ok: true, version: 1, keys: 1 + SYSTEM_NAMES.length });
        expect((results[0] as { eventIds: string[] }).eventIds).toHaveLength(2);
        expect(results[1]).toEqual({ ok: true, version: 2, keys: 3, eventIds: [] });
        // A conflict may answer the stored pet too (the Redis scripts do: §11 snapshots).
        expect(results[2]).toMatchObject({ ok: false, version: 2 });
        expect((await driver.load(fresh))?.systems).toEqual(sampleSystems(3));
        const keptNow = await driver.load(kept, { extras: ['idem:beef'] });
        expect(keptNow?.systems).toEqual({ ...sampleSystems(1), mood: sampleSystems(4).mood });
        expect(keptNow?.extras).toEqual({ 'idem:beef': 'x' });
        expect((await driver.load(stale))?.meta?.pet_name).toBe('小糖');
        expect((await driver.readEvents(fresh)).map((e) => e.type)).toEqual(['interacted', 'interacted']);
      });

      it('refuses a pet whose stored meta is corrupt with its error, and saves the others', async () => {
        const good = petId('save-many-good');
        const bad = petId('save-many-bad');
        await harness.rawWrite(bad, 'meta', '"no version here"');
        const results = await driver.saveMany([
          { petId: bad, request: { expectedVersion: 0, meta: metaFor(1), systems: {} } },
          { petId: good, request: { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems(1) } },
        ]);
        expect(results[0]?.ok).toBe(false);
        expect((results[0] as { error?: unknown }).error).toBeInstanceOf(CorruptStateError);
        expect(results[1]).toMatchObject({ ok: true, version: 1 });
        expect((await driver.load(good))?.version).toBe(1);
      });
    });

    describe('records tied to no pet (issue #13)', () => {
      const ref = (label: string) => ({ purpose: 'owner', subject: petId(label) });

      it('creates a record only if absent, then compares and sets on its version', async () => {
        const r = ref('rec');
        expect(await driver.loadRecords([r])).toEqual([null]);
        expect(await driver.saveRecord(r, { expectedVersion: 0, value: '{"a":1}' })).toEqual({ ok: true, version: 1 });
        expect(await driver.saveRecord(r, { expectedVersion: 0, value: 'again' })).toEqual({ ok: false, version: 1 });
        expect(await driver.saveRecord(r, { expectedVersion: 1, value: 'two:with:colons' })).toEqual({ ok: true, version: 2 });
        expect(await driver.saveRecord(r, { expectedVersion: 1, value: 'stale' })).toEqual({ ok: false, version: 2 });
        const other = ref('rec-other');
        expect(await driver.loadRecords([r, other, r])).toEqual([
          { version: 2, value: 'two:with:colons' },
          null,
          { version: 2, value: 'two:with:colons' },
        ]);
        expect(await driver.loadRecords([])).toEqual([]);
      });

      it('keeps records apart from pets and other purposes', async () => {
        const subject = petId('same');
        await driver.saveRecord({ purpose: 'owner', subject }, { expectedVersion: 0, value: 'owner' });
        await driver.saveRecord({ purpose: 'invite', subject }, { expectedVersion: 0, value: 'invite' });
        expect(await driver.load(subject)).toBeNull();
        expect((await driver.loadRecords([{ purpose: 'invite', subject }]))[0]?.value).toBe('invite');
        expect((await driver.loadRecords([{ purpose: 'owner', subject }]))[0]?.value).toBe('owner');
      });

      it('loses no update among 8 concurrent writers (10 increments each)', async () => {
        const r = ref('rec-race');
        const drivers = [driver, await create(), await create(), await create()];
        const worker = async (index: number): Promise<void> => {
          const mine = drivers[index % drivers.length] as StorageDriver;
          for (let done = 0; done < 10; ) {
            const [stored] = await mine.loadRecords([r]);
            const next = Number(stored?.value ?? 0) + 1;
            if ((await mine.saveRecord(r, { expectedVersion: stored?.version ?? 0, value: String(next) })).ok) done += 1;
          }
        };
        await Promise.all(Array.from({ length: 8 }, (_, index) => worker(index)));
        expect(await driver.loadRecords([r])).toEqual([{ version: 80, value: '80' }]);
      });

      it('expires a record after its ttl, and a save without one makes it permanent', async () => {
        const r = ref('rec-ttl');
        await driver.saveRecord(r, { expectedVersion: 0, value: 'short', ttlMs: 300 });
        const kept = ref('rec-kept');
        await driver.saveRecord(kept, { expectedVersion: 0, value: 'v1', ttlMs: 300 });
        await driver.saveRecord(kept, { expectedVersion: 1, value: 'v2' });
        await harness.advance(450);
        expect(await driver.loadRecords([r, kept])).toEqual([null, { version: 2, value: 'v2' }]);
        // An expired record is absent: it can be created again.
        expect(await driver.saveRecord(r, { expectedVersion: 0, value: 'new' })).toEqual({ ok: true, version: 1 });
      });

      it('takes a record once: of 6 concurrent takers exactly one gets it', async () => {
        const r = { purpose: 'invite', subject: petId('code') };
        await driver.saveRecord(r, { expectedVersion: 0, value: 'pet-a', ttlMs: 60_000 });
        const drivers = [driver, await create(), await create()];
        const taken = await Promise.all(Array.from({ length: 6 }, (_, index) => (drivers[index % 3] as StorageDriver).takeRecord(r)));
        expect(taken.filter((t) => t !== null)).toEqual([{ version: 1, value: 'pet-a' }]);
        expect(await driver.loadRecords([r])).toEqual([null]);
        expect(await driver.takeRecord(r)).toBeNull();
      });

      it('refuses bad purposes, subjects and requests before any I/O', async () => {
        await expect(driver.loadRecords([{ purpose: 'Bad!', subject: 'x' }])).rejects.toThrow(TypeError);
        await expect(driver.saveRecord({ purpose: 'owner', subject: '' }, { expectedVersion: 0, value: 'x' })).rejects.toThrow(TypeError);
        await expect(driver.saveRecord(ref('bad'), { expectedVersion: -1, value: 'x' })).rejects.toThrow(TypeError);
        await expect(driver.saveRecord(ref('bad'), { expectedVersion: 0, value: 'x', ttlMs: 0 })).rejects.toThrow(TypeError);
      });
    });

    describeDueSetContract(() => ({ driver, create: () => create() }), petId);

    it('answers ping', async () => {
      await expect(driver.ping()).resolves.toBeUndefined();
    });
  });
}
