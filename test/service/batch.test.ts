import { describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  ConflictRetriesExhaustedError,
  CorruptStateError,
  ForbiddenError,
  IdempotencyConflictError,
  InvalidInputError,
  NotFoundError,
  RateLimitedError,
  UnauthorizedError,
} from '../../src/errors.js';
import {
  catchupOperation,
  claimOperation,
  createManualClock,
  createOperation,
  createPetService,
  interactOperation,
  peekOperation,
  resetOperation,
  stateOperation,
  updateOperation,
  type BatchOperation,
  type BatchResult,
  type ClaimResult,
  type Operation,
  type PetServiceOptions,
  type StateDocument,
} from '../../src/service/index.js';
import { createMemoryStorage, type MemoryStorage, type SaveManyItem, type StorageDriver } from '../../src/storage/index.js';

const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const MINUTE = 60_000;
const asIs = (value: unknown) => value;

function setup(options: Partial<PetServiceOptions> & { storage?: StorageDriver } = {}) {
  const memory = createMemoryStorage();
  const storage = options.storage ?? memory;
  const clock = createManualClock(T0);
  const service = createPetService({ clock, backoffMs: () => 0, ...options, storage });
  return { memory, storage, clock, service };
}

/** A service with the default jittered backoff, as in production (conflicts spread out). */
function createPetServiceWithJitter() {
  const storage = createMemoryStorage();
  return { storage, service: createPetService({ storage, clock: createManualClock(T0) }) };
}

const op = (petId: string, operation: Operation<unknown>, extra: Partial<BatchOperation> = {}): BatchOperation => ({
  petId,
  operation,
  render: asIs,
  ...extra,
});
const doc = (result: BatchResult | undefined): StateDocument => {
  if (!result?.ok) throw new Error(`expected a success, got ${String(result?.ok === false ? result.error : result)}`);
  return result.value.body as StateDocument;
};
const errorOf = (result: BatchResult | undefined): unknown => {
  if (result === undefined || result.ok) throw new Error('expected a failure');
  return result.error;
};

describe('the batch (issue #16)', () => {
  it('applies each pet’s operations in order on one load and saves each pet once: two round trips for the whole batch', async () => {
    const { storage, clock, service } = setup();
    await service.getState('a');
    await service.getState('b');
    clock.advance(5 * MINUTE);
    const before = storage.roundTrips();
    const answer = await service.batch([
      op('a', interactOperation('feed')),
      op('b', stateOperation()),
      op('a', interactOperation('play')),
      op('a', stateOperation('en')),
      op('b', updateOperation({ pet_name: 'Mochi' })),
    ]);
    expect(storage.roundTrips() - before).toBe(2);
    expect(answer.roundTrips).toBe(2);
    const [feed, bState, play, aState, rename] = answer.value;
    // Each answer is its own moment, all at the version the one save wrote.
    expect(doc(feed).stats).toMatchObject({ feed: 1, play: 0 });
    expect(doc(feed).interaction?.action).toBe('feed');
    expect(doc(play).stats).toMatchObject({ feed: 1, play: 1 });
    expect(doc(aState).stats).toMatchObject({ feed: 1, play: 1 });
    expect(doc(aState).interaction).toBeUndefined();
    expect([doc(feed).version, doc(play).version, doc(aState).version]).toEqual([2, 2, 2]);
    expect(doc(bState).pet_name).toBe('小糖');
    expect(doc(rename).pet_name).toBe('Mochi');
    expect(doc(rename).version).toBe(2);
    const a = await service.getState('a');
    expect(a.value.version).toBe(2);
    expect(a.value.stats).toMatchObject({ feed: 1, play: 1 });
    expect((await storage.readEvents('a')).filter((event) => event.type === 'interacted').map((event) => event.data['action'])).toEqual([
      'feed',
      'play',
    ]);
  });

  it('answers exactly what the single operation answers', async () => {
    const single = setup();
    const batched = setup();
    for (const { service } of [single, batched]) {
      await service.getState('p');
      await service.getState('q');
    }
    single.clock.advance(3 * 3_600_000);
    batched.clock.advance(3 * 3_600_000);
    const operations = () => [
      op('p', interactOperation('feed', 'en')),
      op('q', catchupOperation(2, 'en')),
      op('r', stateOperation('zh', 'Asia/Tokyo')),
    ];
    const alone = [];
    for (const entry of operations()) {
      alone.push((await single.service.perform(entry.petId, entry.operation, { render: asIs })).value);
    }
    const together = (await batched.service.batch(operations())).value;
    expect(
      together.map((result) => result.ok && { ...result.value, body: { ...(result.value.body as object), catchup: undefined } }),
    ).toEqual(alone.map((served) => ({ ...served, body: { ...(served.body as object), catchup: undefined } })));
    // The catch-up report's took_ms is a measured time; the rest of it is the same.
    const took = (result: unknown) => ({ ...(result as StateDocument).catchup, took_ms: 0 });
    expect(took(doc(together[1]))).toEqual(took(alone[1]?.body));
  });

  it('isolates a failing operation: the pet’s other operations and the other pets go on', async () => {
    const { service, storage } = setup();
    const claimed = (await service.claim('owned')).value as ClaimResult;
    await service.getState('open');
    const answer = await service.batch([
      op('owned', stateOperation()),
      op('owned', interactOperation('feed')),
      op('open', interactOperation('feed')),
      op('open', createOperation()),
      op('open', interactOperation('greet')),
    ]);
    const [read, refused, fed, taken, greeted] = answer.value;
    expect(doc(read).device_id).toBe('owned');
    expect(errorOf(refused)).toBeInstanceOf(UnauthorizedError);
    expect(doc(fed).stats).toMatchObject({ feed: 1, greet: 0 });
    expect(errorOf(taken)).toBeInstanceOf(AlreadyExistsError);
    expect(doc(greeted).stats).toMatchObject({ feed: 1, greet: 1 });
    expect((await storage.load('open'))?.version).toBe(2);
    // A wrong secret is a 403 for that operation only; the right one opens the pet.
    const wrong = await service.batch([op('owned', interactOperation('feed'))], { bearer: 'not-the-secret' });
    expect(errorOf(wrong.value[0])).toBeInstanceOf(ForbiddenError);
    const right = await service.batch([op('owned', interactOperation('feed'))], { bearer: claimed.secret });
    expect(doc(right.value[0]).stats.feed).toBe(1);
  });

  it('replays an operation’s Idempotency-Key, also within one batch, and refuses it for another request', async () => {
    const { service, storage } = setup();
    const keyed = (key: string, fingerprint: string, operation = interactOperation('feed')) =>
      op('p', operation, { idempotency: { key, fingerprint } });
    const first = await service.batch([keyed('k1', 'f1'), keyed('k1', 'f1'), keyed('k1', 'other')]);
    expect(first.value[0]?.ok && first.value[0].value.replayed).toBe(false);
    expect(first.value[1]?.ok && first.value[1].value.replayed).toBe(true);
    expect(first.value[1]?.ok && first.value[1].value.body).toEqual(doc(first.value[0]));
    expect(errorOf(first.value[2])).toBeInstanceOf(IdempotencyConflictError);
    const again = await service.batch([keyed('k1', 'f1'), keyed('k2', 'f2', interactOperation('play'))]);
    expect(again.value[0]?.ok && again.value[0].value.replayed).toBe(true);
    expect(doc(again.value[0])).toEqual(doc(first.value[0]));
    expect(doc(again.value[1]).stats).toMatchObject({ feed: 1, play: 1 });
    expect((await storage.load('p'))?.version).toBe(2);
  });

  it('counts each operation in the rate limits, by its weight, in the one load', async () => {
    const { service, storage } = setup({ rateLimits: { perPet: 4, perClient: 0, windowMs: 60_000 } });
    const before = storage.roundTrips();
    const answer = await service.batch([
      op('p', stateOperation()),
      op('p', catchupOperation(2500)), // weight 3
      op('p', interactOperation('feed')),
      op('q', stateOperation()),
    ]);
    expect(storage.roundTrips() - before).toBe(2);
    const [read, catchup, feed, other] = answer.value;
    expect(doc(read).version).toBe(1);
    expect(doc(catchup).catchup?.requested_hours).toBe(2500);
    expect(errorOf(feed)).toBeInstanceOf(RateLimitedError);
    expect(doc(other).device_id).toBe('q');
  });

  it('answers a corrupt pet’s operations with its error, never failing the others; a reset starts it over', async () => {
    const { service, memory } = setup();
    await service.getState('good');
    // Unreadable, but its version still shows and no claim: anyone may start it over (as on the single route).
    memory.rawSet('life_bad:meta', '{"version":3}');
    const answer = await service.batch([
      op('bad', stateOperation()),
      op('good', interactOperation('feed')),
      op('bad', resetOperation()),
      op('bad', interactOperation('play')),
    ]);
    const [read, fed, reset, played] = answer.value;
    expect(errorOf(read)).toBeInstanceOf(CorruptStateError);
    expect(doc(fed).stats.feed).toBe(1);
    expect(doc(reset).device_id).toBe('bad');
    expect(doc(played).stats.play).toBe(1);
    expect((await service.getState('bad')).value.stats.play).toBe(1);
  });

  it('reloads and redoes only the pets whose compare-and-set lost', async () => {
    const memory = createMemoryStorage();
    const loads: string[][] = [];
    let conflicts = 1;
    const storage: MemoryStorage = {
      ...memory,
      async loadMany(items, options) {
        loads.push(items.map((item) => item.petId));
        return memory.loadMany(items, options);
      },
      async saveMany(items: readonly SaveManyItem[]) {
        // Another writer changes pet `b` just before this save, once.
        if (conflicts > 0 && items.some((item) => item.petId === 'b')) {
          conflicts -= 1;
          const stored = await memory.load('b');
          if (stored?.meta == null) throw new Error('pet b should be stored');
          await memory.save('b', { expectedVersion: stored.version, meta: { ...stored.meta, version: stored.version + 1 }, systems: {} });
        }
        return memory.saveMany(items);
      },
    };
    const { service } = setup({ storage });
    await service.getState('a');
    await service.getState('b');
    const answer = await service.batch([op('a', interactOperation('feed')), op('b', interactOperation('feed'))]);
    expect(loads.slice(-2)).toEqual([['a', 'b'], ['b']]);
    expect(doc(answer.value[0]).version).toBe(2);
    expect(doc(answer.value[1]).version).toBe(3);
    expect((await memory.load('b'))?.version).toBe(3);
  });

  it('saves a pet’s operations all together or not at all: a pet that keeps conflicting gets none of them', async () => {
    const memory = createMemoryStorage();
    const storage: MemoryStorage = {
      ...memory,
      async saveMany(items: readonly SaveManyItem[]) {
        // Another writer always gets to pet `b` first.
        const stored = await memory.load('b');
        if (stored?.meta == null) throw new Error('pet b should be stored');
        await memory.save('b', { expectedVersion: stored.version, meta: { ...stored.meta, version: stored.version + 1 }, systems: {} });
        return memory.saveMany(items);
      },
    };
    const { service } = setup({ storage, maxAttempts: 3 });
    await service.getState('a');
    await service.getState('b');
    const answer = await service.batch([
      op('b', interactOperation('feed')),
      op('a', interactOperation('feed')),
      op('b', interactOperation('play')),
    ]);
    expect(errorOf(answer.value[0])).toBeInstanceOf(ConflictRetriesExhaustedError);
    expect(errorOf(answer.value[2])).toBeInstanceOf(ConflictRetriesExhaustedError);
    expect(doc(answer.value[1]).stats.feed).toBe(1);
    const b = await memory.load('b');
    expect(b?.systems.stats).toMatchObject({ feed: 0, play: 0 });
    expect((await memory.readEvents('b')).filter((event) => event.type === 'interacted')).toEqual([]);
  });

  it('loses no operation when batches and single requests change the same pets at once', async () => {
    const { service } = createPetServiceWithJitter();
    await service.getState('shared');
    await service.getState('other');
    const batches = Array.from({ length: 8 }, () =>
      service.batch([...Array.from({ length: 5 }, () => op('shared', interactOperation('feed'))), op('other', interactOperation('greet'))]),
    );
    const singles = Array.from({ length: 16 }, () => service.interact('shared', 'play'));
    const answers = await Promise.all(batches);
    await Promise.all(singles);
    expect(answers.every((answer) => answer.value.every((result) => result.ok))).toBe(true);
    const shared = await service.getState('shared');
    expect(shared.value.stats).toMatchObject({ feed: 40, play: 16 });
    expect((await service.getState('other')).value.stats.greet).toBe(8);
  });

  it('reads many stored pets in one round trip, saving nothing and creating nothing (peek)', async () => {
    const { service, storage, clock } = setup();
    await service.getState('a');
    await service.getState('b');
    clock.advance(10 * MINUTE);
    const before = storage.roundTrips();
    const answer = await service.batch(['a', 'missing', 'b'].map((id) => op(id, peekOperation('en'))));
    expect(storage.roundTrips() - before).toBe(1);
    expect(doc(answer.value[0]).version).toBe(1);
    expect(errorOf(answer.value[1])).toBeInstanceOf(NotFoundError);
    expect(doc(answer.value[2]).device_id).toBe('b');
    expect(await storage.load('missing')).toBeNull();
    expect((await storage.load('a'))?.version).toBe(1);
  });

  it('refuses more than 100 operations, and an invalid id is that operation’s error', async () => {
    const { service } = setup();
    await expect(service.batch(Array.from({ length: 101 }, () => op('p', stateOperation())))).rejects.toThrow(InvalidInputError);
    const answer = await service.batch([op('../x', stateOperation()), op('p', claimOperation() as Operation<unknown>)]);
    expect(errorOf(answer.value[0])).toBeInstanceOf(InvalidInputError);
    expect(answer.value[1]?.ok).toBe(true);
  });
});
