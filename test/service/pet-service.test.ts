import { describe, expect, it } from 'vitest';
import { ConflictRetriesExhaustedError, InvalidInputError } from '../../src/errors.js';
import { createManualClock, createPetService, type PetServiceOptions } from '../../src/service/index.js';
import { createMemoryStorage, type StorageDriver } from '../../src/storage/index.js';

const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const HOUR = 3_600_000;

function setup(options: Partial<PetServiceOptions> = {}) {
  const storage = createMemoryStorage();
  const clock = createManualClock(T0);
  const service = createPetService({ storage, clock, backoffMs: () => 0, ...options });
  return { storage, clock, service };
}

/** A storage that reports a conflict on the first `conflicts` saves, as if another writer won. */
function conflicting(inner: StorageDriver, conflicts: number): StorageDriver & { saves: number } {
  let left = conflicts;
  const wrapper = {
    ...inner,
    saves: 0,
    async save(petId: string, request: Parameters<StorageDriver['save']>[1]) {
      wrapper.saves += 1;
      if (left > 0) {
        left -= 1;
        await inner.load(petId); // costs a round trip, as a refused CAS does
        return { ok: false as const, version: request.expectedVersion + 1 };
      }
      return inner.save(petId, request);
    },
  };
  return wrapper;
}

describe('the pet service', () => {
  it('loses no interaction under 64 concurrent clients on one pet', async () => {
    const storage = createMemoryStorage();
    const service = createPetService({ storage, clock: createManualClock(T0) }); // default jittered backoff
    await service.getState('busy');
    const actions = ['feed', 'play', 'greet'] as const;
    const results = await Promise.all(Array.from({ length: 64 }, (_, i) => service.interact('busy', actions[i % 3] ?? 'feed')));
    expect(results.every((result) => result.value.interaction !== undefined)).toBe(true);
    const final = await service.getState('busy');
    expect(final.value.stats).toEqual({ feed: 22, play: 21, greet: 21 });
    expect(final.value.version).toBe(65);
    // Some requests had to retry; each attempt is one load and one save.
    const attempts = results.reduce((sum, result) => sum + result.attempts, 0);
    expect(attempts).toBeGreaterThanOrEqual(64);
    expect(results.every((result) => result.roundTrips === 2 * result.attempts)).toBe(true);
  });

  it('retries a conflict on fresh state and counts the action once', async () => {
    const inner = createMemoryStorage();
    const storage = conflicting(inner, 3);
    const service = createPetService({ storage, clock: createManualClock(T0), backoffMs: () => 0 });
    const answer = await service.interact('p', 'feed');
    expect(answer.attempts).toBe(4);
    expect(answer.value.stats.feed).toBe(1);
    expect(storage.saves).toBe(4);
  });

  it('gives up with ConflictRetriesExhaustedError after maxAttempts', async () => {
    const storage = conflicting(createMemoryStorage(), 1000);
    const service = createPetService({ storage, clock: createManualClock(T0), maxAttempts: 5, backoffMs: () => 0 });
    await expect(service.interact('p', 'feed')).rejects.toBeInstanceOf(ConflictRetriesExhaustedError);
    expect(storage.saves).toBe(5);
  });

  it('refuses bad input from callers other than HTTP', async () => {
    const { service, storage } = setup();
    await expect(service.interact('p', 'dance' as 'feed')).rejects.toBeInstanceOf(InvalidInputError);
    await expect(service.catchup('p', 0)).rejects.toMatchObject({ code: 'invalid_body' });
    await expect(service.catchup('p', Number.NaN)).rejects.toMatchObject({ code: 'invalid_body' });
    await expect(service.update('p', { timezone: 'Nowhere/Else' })).rejects.toMatchObject({ code: 'invalid_timezone' });
    await expect(service.getState('../etc')).rejects.toMatchObject({ code: 'invalid_device_id' });
    expect(storage.keys()).toEqual([]);
  });

  it('refuses a negative time scale or an unknown default timezone at construction', () => {
    const storage = createMemoryStorage();
    const clock = createManualClock(T0);
    expect(() => createPetService({ storage, clock, timeScale: -1 })).toThrow(RangeError);
    expect(() => createPetService({ storage, clock, defaultTimezone: 'Mars/Base' })).toThrow(RangeError);
  });

  it('stores world_ms and wall_ms in meta, with the sub-minute remainder', async () => {
    const { service, storage, clock } = setup({ timeScale: 1.5 });
    await service.getState('p');
    clock.advance(HOUR + 1);
    await service.getState('p');
    const meta = JSON.parse(storage.rawGet('life_p:meta') ?? '{}') as { world_ms: number; wall_ms: number };
    expect(meta.wall_ms).toBe(T0 + HOUR + 1);
    expect(meta.world_ms).toBe(T0 + 1.5 * (HOUR + 1));
  });
});

describe('seams for issue #5 (run with a plan)', () => {
  it('reads extra records in the same load and writes them in the same save', async () => {
    const { service, storage } = setup();
    const first = await service.run('p', {
      extras: ['idem:abc'],
      apply: (pet) => ({
        changed: true,
        result: pet.record?.extras['idem:abc'] ?? null,
        extras: [{ name: 'idem:abc', value: '{"status":200}', ttlMs: 60_000 }],
      }),
    });
    expect(first.value.result).toBeNull();
    expect(first.roundTrips).toBe(2);
    expect(storage.rawGet('life_p:idem:abc')).toBe('{"status":200}');
    const second = await service.run('p', {
      extras: ['idem:abc'],
      precondition: (pet) => {
        const stored = pet.record?.extras['idem:abc'];
        return stored ? { replay: stored } : undefined;
      },
      apply: () => ({ changed: true, result: 'applied again' }),
    });
    expect(second.value).toMatchObject({ result: '{"status":200}', saved: false });
    expect(second.roundTrips).toBe(1);
  });

  it('lets a precondition refuse before anything changes', async () => {
    const { service, storage } = setup();
    await service.getState('p');
    const before = storage.rawGet('life_p:meta');
    await expect(
      service.run('p', {
        precondition: () => {
          throw new InvalidInputError('invalid_body', 'refused');
        },
        apply: () => ({ changed: true, result: null }),
      }),
    ).rejects.toThrow('refused');
    expect(storage.rawGet('life_p:meta')).toBe(before);
  });
});
