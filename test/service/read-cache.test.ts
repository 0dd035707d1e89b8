/** src/service/pets/read-cache.ts, and the service answering state reads from it (perform). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Lang } from '../../src/engine/index.js';
import {
  createManualClock,
  createPetService,
  interactOperation,
  stateOperation,
  type PetService,
  type StateDocument,
} from '../../src/service/index.js';
import { createReadCache } from '../../src/service/pets/read-cache.js';
import { warmFactsOf } from '../../src/service/pets/warm-read.js';
import { createMemoryStorage } from '../../src/storage/index.js';

const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const MINUTE = 60_000;

describe('createReadCache', () => {
  it('answers only for the same pet, key and raw values, and drops an entry whose bytes changed', () => {
    const cache = createReadCache(10);
    const value = { n: 1 };
    cache.set('a', 'state:zh', ['m', 's'], value);
    expect(cache.get('a', 'state:zh', ['m', 's'])).toBe(value);
    expect(cache.get('a', 'state:en', ['m', 's'])).toBeUndefined();
    expect(cache.get('b', 'state:zh', ['m', 's'])).toBeUndefined();
    expect(cache.get('a', 'state:zh', ['m', null])).toBeUndefined();
    expect(cache.size).toBe(0); // the stale entry is gone
  });

  it('deep-freezes what it keeps', () => {
    const cache = createReadCache(10);
    const value = cache.set('a', 'k', ['m'], { inner: { list: [1, 2] } });
    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(value.inner)).toBe(true);
    expect(Object.isFrozen(value.inner.list)).toBe(true);
  });

  it('holds at most maxEntries, dropping the least recently used', () => {
    const cache = createReadCache(2);
    cache.set('a', 'k', ['1'], 'A');
    cache.set('b', 'k', ['1'], 'B');
    expect(cache.get('a', 'k', ['1'])).toBe('A'); // a is now the most recent
    cache.set('c', 'k', ['1'], 'C');
    expect(cache.size).toBe(2);
    expect(cache.get('b', 'k', ['1'])).toBeUndefined();
    expect(cache.get('a', 'k', ['1'])).toBe('A');
    expect(cache.get('c', 'k', ['1'])).toBe('C');
  });

  it('keeps nothing with maxEntries 0 and refuses a bad size', () => {
    const cache = createReadCache(0);
    cache.set('a', 'k', ['1'], 'A');
    expect(cache.get('a', 'k', ['1'])).toBeUndefined();
    expect(() => createReadCache(-1)).toThrow(RangeError);
    expect(() => createReadCache(1.5)).toThrow(RangeError);
  });
});

function setup(readCacheSize?: number) {
  const storage = createMemoryStorage();
  const clock = createManualClock(T0);
  const service = createPetService({ storage, clock, backoffMs: () => 0, ...(readCacheSize === undefined ? {} : { readCacheSize }) });
  return { storage, clock, service };
}

const asIs = <T>(value: T) => value;
const read = async (service: PetService, id: string, lang: Lang = 'zh'): Promise<StateDocument> =>
  (await service.perform(id, stateOperation(lang), { render: asIs })).value.body;

describe('state reads from the read cache', () => {
  it('answers a second read in the same minute with the same document object, still loading the pet', async () => {
    const { storage, service } = setup();
    await read(service, 'p');
    const first = await read(service, 'p');
    const trips = storage.roundTrips();
    const second = await read(service, 'p');
    expect(second).toBe(first);
    expect(Object.isFrozen(second)).toBe(true);
    expect(storage.roundTrips() - trips).toBe(1); // access checks and rate limits still see the stored pet
    expect(await read(service, 'p', 'en')).not.toBe(first); // another language, another answer
  });

  it('answers afresh after a change, after a minute passes, and after someone else rewrote the stored bytes', async () => {
    const { storage, clock, service } = setup();
    await read(service, 'p');
    const cached = await read(service, 'p');

    await service.perform('p', interactOperation('feed'), { render: asIs });
    const afterFeed = await read(service, 'p');
    expect(afterFeed).not.toBe(cached);
    expect(afterFeed.stats.feed).toBe(1);

    clock.advance(MINUTE);
    const nextMinute = await read(service, 'p');
    expect(nextMinute.version).toBe(afterFeed.version + 1); // caught up and saved
    expect(await read(service, 'p')).toBe(await read(service, 'p'));

    // The Python server writes systems without touching meta or the version.
    const stats = JSON.parse(storage.rawGet('life_p:stats') ?? '{}') as Record<string, number>;
    storage.rawSet('life_p:stats', JSON.stringify({ ...stats, greet: 41 }));
    const rewritten = await read(service, 'p');
    expect(rewritten.version).toBe(nextMinute.version);
    expect(rewritten.stats.greet).toBe(41);
  });

  it('answers exactly what a service without the cache answers, whatever happens in between (property)', async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('read' as const), pet: fc.integer({ min: 0, max: 1 }), lang: fc.constantFrom<Lang>('zh', 'en') }),
      fc.record({ kind: fc.constant('feed' as const), pet: fc.integer({ min: 0, max: 1 }) }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 3 * MINUTE }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), async (steps) => {
        const cached = setup(2);
        const plain = setup(0);
        for (const action of steps) {
          if (action.kind === 'wait') {
            cached.clock.advance(action.ms);
            plain.clock.advance(action.ms);
          } else if (action.kind === 'feed') {
            await cached.service.perform(`p${action.pet}`, interactOperation('feed'), { render: asIs });
            await plain.service.perform(`p${action.pet}`, interactOperation('feed'), { render: asIs });
          } else {
            const a = await read(cached.service, `p${action.pet}`, action.lang);
            const b = await read(plain.service, `p${action.pet}`, action.lang);
            expect(JSON.stringify(a)).toBe(JSON.stringify(b));
          }
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('the warm read’s entries (read-cache warm, warm-read warmFactsOf; docs/design.md §15)', () => {
  const record = (meta: Record<string, unknown> | null) => ({ version: 1, meta, systems: {}, extras: {}, raw: [] }) as never;

  it('serves an entry only for the very array of values it was cached (or last found) with, before its instant', () => {
    const cache = createReadCache(10);
    const held = Object.freeze(['m', 's']);
    const value = { n: 1 };
    cache.set('a', 'state:zh', held, value, { untilMs: 1000, guarded: false });
    expect(cache.warm('a', 'state:zh', held, 999)).toEqual({ raw: held, value, untilMs: 1000, guarded: false });
    expect(cache.warm('a', 'state:zh', held, 1000)).toBeUndefined();
    // Equal values in another array (a load from Redis, not the snapshot): not warm, until `get` finds them.
    const loaded = ['m', 's'];
    expect(cache.warm('a', 'state:zh', loaded, 0)).toBeUndefined();
    expect(cache.get('a', 'state:zh', loaded)).toBe(value);
    expect(cache.warm('a', 'state:zh', loaded, 0)?.value).toBe(value);
    expect(cache.warm('a', 'state:zh', held, 0)).toBeUndefined();
    expect(cache.warm('a', 'state:en', loaded, 0)).toBeUndefined();
    // Cached without facts: never warm.
    cache.set('b', 'state:zh', held, value);
    expect(cache.warm('b', 'state:zh', held, Number.NEGATIVE_INFINITY)).toBeUndefined();
  });

  it('an answer holds until the world clock crosses its next tick; never with an outbox owed', () => {
    const meta = { version: 1, world_ms: T0 + 15_000, wall_ms: T0 + 45_000, pet_name: 'x', timezone: 'UTC', created_at: '' };
    // 45 s of world time to the next tick: 45 s of wall time at scale 1, 0.45 s at scale 100.
    expect(warmFactsOf(record(meta), 1)).toEqual({ untilMs: T0 + 45_000 + 45_000 - 1, guarded: false });
    expect(warmFactsOf(record(meta), 100)?.untilMs).toBe(T0 + 45_000 + 450 - 1);
    expect(warmFactsOf(record(meta), 0)?.untilMs).toBe(Number.POSITIVE_INFINITY);
    expect(warmFactsOf(record({ ...meta, claim_hash: 'ab' }), 1)?.guarded).toBe(true);
    expect(warmFactsOf(record({ ...meta, owners: ['o1'] }), 1)?.guarded).toBe(true);
    expect(warmFactsOf(record({ ...meta, outbox: [{ seq: 1 }] }), 1)).toBeUndefined();
    expect(warmFactsOf(record(null), 1)).toBeUndefined();
  });
});
