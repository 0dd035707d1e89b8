/**
 * Snapshots (docs/design.md §11): the store on its own (LRU by bytes, the ticket rule against the
 * invalidation race), then on a Redis server of this file's own, so that `INFO commandstats`
 * counts only what these tests send: a warm read costs 0 commands, a warm change 1, a warm read
 * with rate limits 1 per counter; a change made through another driver is seen by the next read,
 * every time; concurrent writers through snapshot drivers lose nothing.
 */
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_NAMES } from '../../src/engine/types.js';
import { createManualClock, createPetService, interactOperation, stateOperation, type PetService } from '../../src/service/index.js';
import type { PetRecord, StorageDriver } from '../../src/storage/index.js';
import { createRedisStorage } from '../../src/storage/redis.js';
import { createSnapshotStore, snapshotBytesOf } from '../../src/storage/snapshots.js';
import { describeWithRedis } from '../helpers/redis.js';
import { startRedisServer, type RedisProcess } from '../helpers/redis-process.js';
import { metaFor, petId, sampleSystems, storedValues } from './contract.js';

/** A record as a load returns it, with `version`. */
function recordOf(version: number, seed = 1): PetRecord {
  const systems = sampleSystems(seed);
  return { version, meta: metaFor(version), systems, extras: {}, raw: storedValues(metaFor(version), systems) };
}

const NOW = Date.UTC(2026, 0, 1);

describe('snapshot store', () => {
  it('holds what a read answered and gives out copies a caller may change', () => {
    const store = createSnapshotStore(1 << 20);
    expect(store.get('a', NOW)).toBeUndefined();
    const given = recordOf(3);
    store.begin('a').read(given);
    // The reader keeps its own record, unfrozen; what is held is a copy.
    expect(Object.isFrozen(given.meta) || Object.isFrozen(given.systems.stats)).toBe(false);
    if (given.systems.stats !== undefined) given.systems.stats['feed'] = 12345;
    const copy = store.get('a', NOW);
    expect(copy).toEqual(recordOf(3));
    if (copy?.systems.stats === undefined) throw new Error('no stats');
    copy.systems.stats['feed'] = 999;
    expect(store.get('a', NOW)?.systems.stats?.['feed']).toBe(recordOf(3).systems.stats?.['feed']);
    store.begin('gone').read(null);
    expect(store.get('gone', NOW)).toBeNull();
  });

  it('never holds a reply when an invalidation of the pet came while it was in flight', () => {
    const store = createSnapshotStore(1 << 20);
    const ticket = store.begin('a');
    store.invalidateKey('life_a:mood');
    ticket.read(recordOf(1));
    expect(store.get('a', NOW)).toBeUndefined();
    // Another pet's invalidation, or a global key's, does not matter.
    const other = store.begin('a');
    store.invalidateKey('life_b:meta');
    store.invalidateKey('life_~rl-pet:a');
    other.read(recordOf(1));
    expect(store.get('a', NOW)?.version).toBe(1);
    // Forget-everything (a lost connection) voids every ticket in flight and drops every pet.
    const late = store.begin('c');
    store.invalidateKey(null);
    late.read(recordOf(1));
    expect(store.size).toBe(0);
    expect(store.stats().raced).toBe(2);
  });

  it('voids the tickets of reads in flight when our own write lands (NOLOOP: Redis tells us nothing)', () => {
    const store = createSnapshotStore(1 << 20);
    store.begin('a').read(recordOf(1));
    const read = store.begin('a');
    const write = store.begin('a');
    write.wrote(recordOf(2));
    read.read(recordOf(1)); // sent before the write, answered after it in our code: must not win
    expect(store.get('a', NOW)?.version).toBe(2);
    const failed = store.begin('a');
    failed.wrote(); // a timed-out save: nothing known
    expect(store.get('a', NOW)).toBeUndefined();
  });

  it('never answers with a pet past its expiry (Redis tells of an expiry only once it notices it)', () => {
    const store = createSnapshotStore(1 << 20);
    store.begin('a').read(recordOf(1), NOW + 1000);
    expect(store.get('a', NOW + 999)?.version).toBe(1);
    expect(store.get('a', NOW + 1000)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('keeps at most its budget in bytes, dropping the least recently used pets first', () => {
    const one = snapshotBytesOf(recordOf(1));
    const store = createSnapshotStore(10 * one);
    for (let i = 0; i < 10; i += 1) store.begin(`p${i}`).read(recordOf(1));
    expect(store.size).toBe(10);
    store.get('p0', NOW); // used: no longer the oldest
    for (let i = 10; i < 15; i += 1) store.begin(`p${i}`).read(recordOf(1));
    expect(store.bytes).toBeLessThanOrEqual(10 * one);
    expect(store.size).toBe(10);
    expect(store.peek('p0')).toBeDefined();
    for (let i = 1; i <= 5; i += 1) expect(store.peek(`p${i}`)).toBeUndefined();
    expect(store.stats().evictions).toBe(5);
    // A pet bigger than the whole budget is not held at all.
    const tiny = createSnapshotStore(one - 1);
    tiny.begin('big').read(recordOf(1));
    expect(tiny.size).toBe(0);
    expect(() => createSnapshotStore(0)).toThrow(RangeError);
  });
});

describeWithRedis('snapshots on Redis', () => {
  let server: RedisProcess;
  let admin: ReturnType<typeof createClient>;
  const drivers: StorageDriver[] = [];
  const open = (snapshots = true): StorageDriver => {
    const driver = createRedisStorage({ url: server.url, ...(snapshots ? { snapshotBytes: 1 << 22 } : {}) });
    drivers.push(driver);
    return driver;
  };

  /** Calls per command since the server started (INFO commandstats), without INFO itself. */
  const commandStats = async (): Promise<Map<string, number>> => {
    const info = String(await admin.sendCommand(['INFO', 'commandstats']));
    const calls = new Map<string, number>();
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      if (match[1] !== 'info') calls.set(match[1] as string, Number(match[2]));
    }
    return calls;
  };
  /** What `operation` made the server run (commands whose count moved, inner script commands included). */
  const commandsOf = async (operation: () => Promise<unknown>): Promise<Record<string, number>> => {
    const before = await commandStats();
    await operation();
    const after = await commandStats();
    const moved: Record<string, number> = {};
    for (const [name, calls] of after) if (calls !== (before.get(name) ?? 0)) moved[name] = calls - (before.get(name) ?? 0);
    return moved;
  };
  /** Commands a client sent (script calls and plain reads), leaving out what scripts ran inside. */
  const sent = (moved: Record<string, number>): number =>
    (moved['evalsha'] ?? 0) +
    (moved['eval'] ?? 0) +
    (moved['xrange'] ?? 0) +
    (moved['scan'] ?? 0) +
    (moved['del'] ?? 0) +
    (moved['ping'] ?? 0);

  beforeAll(async () => {
    server = await startRedisServer();
    admin = createClient({ url: server.url, RESP: 2 });
    admin.on('error', () => undefined);
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.all(drivers.map((driver) => driver.close()));
    await admin?.close();
    await server?.stop();
  });

  describe('round trips counted by the server', () => {
    const START = Date.UTC(2026, 0, 1, 12, 0, 30);
    let storage: StorageDriver;
    let service: PetService;
    let limited: PetService;
    beforeAll(async () => {
      storage = open();
      const clock = createManualClock(START);
      service = createPetService({ storage, clock });
      limited = createPetService({ storage, clock, rateLimits: { perPet: 1000, perClient: 1000, windowMs: 60_000 } });
      // Scripts known to the server (no NOSCRIPT + EVAL in what is measured).
      await service.interact(petId('warm-up'), 'greet');
      await limited.perform(petId('warm-up'), stateOperation('en'), { client: '192.0.2.1', render: (doc) => doc });
    });

    it('a read of an unchanged pet in the same minute: 0 commands; a change: the compare-and-set, then the PING barrier', async () => {
      const id = petId('warm');
      const cold = await commandsOf(() => service.getState(id));
      // Cold: the snapshot load (nothing stored), then the newborn's save and its barrier.
      expect([cold['evalsha'], cold['ping']]).toEqual([2, 1]);
      const warm = await commandsOf(() => service.getState(id));
      expect(warm).toEqual({});
      const change = await commandsOf(() => service.interact(id, 'greet'));
      // No read: the compare-and-set against the held version, then the barrier that makes other
      // instances' invalidations precede the acknowledgment (redis-commands.ts, `settled`).
      expect(change['evalsha']).toBe(1);
      expect(change['ping']).toBe(1);
      expect(change['mget'] ?? 0).toBe(0);
      expect(sent(change)).toBe(2);
      // The change is held too: the next read is free again, and shows it.
      let doc: Awaited<ReturnType<PetService['getState']>> | undefined;
      expect(await commandsOf(async () => (doc = await service.getState(id)))).toEqual({});
      expect(doc?.value.stats.greet).toBe(1);
    });

    it('a cold read is one call', async () => {
      const id = petId('cold');
      await open(false).save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() });
      const moved = await commandsOf(() => storage.load(id));
      // One script call: the values (MGET) and the ms the pet has left (PTTL of each key).
      expect([moved['evalsha'], moved['mget'], sent(moved)]).toEqual([1, 1, 1]);
    });

    it('with rate limits on, a read of an unchanged pet is the counter hits alone: one call per counter, sent together', async () => {
      const id = petId('limited');
      const request = { client: null, render: (doc: unknown) => doc };
      await limited.perform(id, stateOperation('en'), request);
      // One counter (the pet's; no client address): one command, no load.
      const one = await commandsOf(() => limited.perform(id, stateOperation('en'), request));
      expect(one['evalsha']).toBe(1);
      expect(one['mget'] ?? 0).toBe(0);
      expect(sent(one)).toBe(1);
      expect(one['incrby']).toBe(1);
      // Two counters (pet and client): two single-key calls written together, still no load.
      const two = await commandsOf(() => limited.perform(id, stateOperation('en'), { ...request, client: '192.0.2.9' }));
      expect(two['evalsha']).toBe(2);
      expect(two['mget'] ?? 0).toBe(0);
      const trips = storage.roundTrips();
      const counted = await limited.perform(id, stateOperation('en'), request);
      expect(storage.roundTrips() - trips).toBe(1);
      expect(counted.value.limits[0]?.remaining).toBe(1000 - 4);
    });

    it('a conflict answers the stored pet: the retry reads nothing', async () => {
      const id = petId('conflict');
      const other = open(false);
      await service.getState(id);
      // Another instance changes the pet; its invalidation reaches us, so make ours stale on purpose:
      // save through the raw driver against the version we hold, after the other's change.
      const held = await storage.load(id);
      const version = held?.version ?? 0;
      const theirs = await other.save(id, {
        expectedVersion: version,
        meta: { ...(held?.meta ?? metaFor(1)), version: version + 1 },
        systems: {},
      });
      expect(theirs.ok).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 20)); // its invalidation has reached us
      const moved = await commandsOf(async () => {
        const ours = await storage.save(id, {
          expectedVersion: version,
          meta: { ...(held?.meta ?? metaFor(1)), version: version + 1 },
          systems: {},
        });
        expect(ours).toMatchObject({ ok: false, version: version + 1, record: { version: version + 1 } });
        // The answered pet is held: reading it costs nothing.
        expect((await storage.load(id))?.version).toBe(version + 1);
      });
      expect(sent(moved)).toBe(1);
      expect(moved['mget']).toBe(1); // inside the script
    });
  });

  describe('never stale', () => {
    it('a change saved through one driver is seen by the next read through another, 300 times in a row', async () => {
      const a = open();
      const b = open();
      const id = petId('ping-pong');
      await a.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems(1) });
      let stale = 0;
      for (let version = 1; version <= 300; version += 1) {
        // Alternate who writes; both read (and so hold) the pet before every change.
        const [writer, reader] = version % 2 === 0 ? [a, b] : [b, a];
        expect((await reader.load(id))?.version).toBe(version);
        const loaded = await writer.load(id);
        const saved = await writer.save(id, {
          expectedVersion: loaded?.version ?? 0,
          meta: metaFor(version + 1),
          systems: { stats: { feed: version + 1, play: 0, greet: 0 } },
        });
        expect(saved.ok).toBe(true);
        const seen = await reader.load(id);
        if (seen?.version !== version + 1 || seen.systems.stats?.['feed'] !== version + 1) stale += 1;
      }
      expect(stale).toBe(0);
    });

    it('a batch write (saveMany) is held by its driver and seen by the next read through another', async () => {
      const a = open();
      const b = open();
      const ids = [petId('many-1'), petId('many-2')];
      for (const id of ids) await a.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems(1) });
      for (let round = 1; round <= 50; round += 1) {
        const [writer, reader] = round % 2 === 0 ? [a, b] : [b, a];
        for (const id of ids) expect((await reader.load(id))?.version).toBe(round);
        for (const id of ids) expect((await writer.load(id))?.version).toBe(round);
        const results = await writer.saveMany(
          ids.map((id) => ({
            petId: id,
            request: { expectedVersion: round, meta: metaFor(round + 1), systems: { stats: { feed: round, play: 0, greet: 0 } } },
          })),
        );
        expect(results.every((result) => result.ok)).toBe(true);
        for (const id of ids) {
          expect((await reader.load(id))?.systems.stats?.['feed']).toBe(round);
          expect((await writer.load(id))?.systems.stats?.['feed']).toBe(round);
        }
      }
      // A batch conflict answers the stored pet, which is then held as stored.
      const [conflict] = await a.saveMany([{ petId: ids[0] as string, request: { expectedVersion: 1, meta: metaFor(2), systems: {} } }]);
      expect(conflict).toMatchObject({ ok: false, version: 51 });
      expect((await a.load(ids[0] as string))?.version).toBe(51);
    });

    it('a change made behind the drivers is seen too, when its writer waits one more round trip as ours do', async () => {
      const a = open();
      const id = petId('behind');
      await a.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems(1) });
      for (let i = 0; i < 100; i += 1) {
        expect((await a.load(id))?.systems.stats?.['feed']).toBe(i === 0 ? 1 : i);
        await admin.sendCommand(['SET', `life_${id}:stats`, JSON.stringify({ feed: i + 1, play: 0, greet: 2 })]);
        await admin.sendCommand(['PING']);
        expect((await a.load(id))?.systems.stats?.['feed']).toBe(i + 1);
      }
    });

    it('forgets everything when its connection is lost or the database flushed (invalidations may have been missed)', async () => {
      const a = open();
      const b = open(false);
      const id = petId('lost');
      await a.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems(1) });
      expect((await a.load(id))?.version).toBe(1);
      await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
      await b.save(id, { expectedVersion: 1, meta: metaFor(2), systems: {} });
      expect((await a.load(id))?.version).toBe(2);
      await admin.sendCommand(['FLUSHALL']);
      await admin.sendCommand(['PING']); // the writer's barrier, as for any change
      expect(await a.load(id)).toBeNull();
    });

    it('two services on two drivers: every change through one is in the next state read through the other', async () => {
      const clock = createManualClock(Date.UTC(2026, 0, 1, 12, 0, 30));
      const one = createPetService({ storage: open(), clock });
      const two = createPetService({ storage: open(), clock });
      const id = petId('services');
      await one.getState(id);
      for (let i = 1; i <= 150; i += 1) {
        const [writer, reader] = i % 2 === 0 ? [one, two] : [two, one];
        const changed = await writer.interact(id, 'greet');
        const read = await reader.getState(id);
        expect(read.value.version).toBe(changed.value.version);
        expect(read.value.stats.greet).toBe(i);
      }
    });
  });

  it('keeps every acknowledged change under concurrent writers on four snapshot drivers', async () => {
    const clock = createManualClock(Date.UTC(2026, 0, 1, 12, 0, 30));
    const services = Array.from({ length: 4 }, () => createPetService({ storage: open(), clock, maxAttempts: 50 }));
    const id = petId('concurrent');
    const first = await services[0]?.getState(id);
    const startVersion = first?.value.version ?? 0;
    let acknowledged = 0;
    const worker = async (index: number): Promise<void> => {
      const service = services[index % services.length] as PetService;
      for (let i = 0; i < 10; i += 1) {
        await service.perform(id, interactOperation('greet', 'en'), { trusted: true, render: (doc) => doc });
        acknowledged += 1;
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, index) => worker(index)));
    expect(acknowledged).toBe(160);
    // Through a driver without snapshots, and through every snapshot driver: the same final pet.
    const truth = await open(false).load(id);
    expect(truth?.systems.stats?.['greet']).toBe(160);
    expect(truth?.version).toBe(startVersion + 160);
    for (const service of services) {
      const seen = await service.getState(id);
      expect(seen.value.version).toBe(startVersion + 160);
      expect(seen.value.stats.greet).toBe(160);
    }
  });

  it('holds only the pet as stored: every system, raw values identical to a load without snapshots', async () => {
    const a = open();
    const plain = open(false);
    const id = petId('same');
    await a.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems(1) });
    await a.save(id, { expectedVersion: 1, meta: metaFor(2), systems: { mood: sampleSystems(2).mood } });
    const held = await a.load(id);
    expect(held).toEqual(await plain.load(id));
    expect(held?.raw).toHaveLength(1 + SYSTEM_NAMES.length);
  });
});
