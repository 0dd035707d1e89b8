/**
 * The CLI's changes send an Idempotency-Key of their own and retry a storage failure with it
 * (docs/design.md §14): a write that reached storage but whose answer was lost is applied once, not twice.
 */
import { describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/pet-commands.js';
import { StorageUnavailableError } from '../../src/errors.js';
import { createManualClock, createPetService, type StateDocument } from '../../src/service/index.js';
import { createMemoryStorage, type StorageDriver } from '../../src/storage/index.js';

/** Memory storage whose next `failures` saves are applied and then reported as a lost connection. */
function lossyStorage(failures: number): StorageDriver & { saves: () => number } {
  const inner = createMemoryStorage();
  let left = failures;
  let saves = 0;
  return {
    ...inner,
    saves: () => saves,
    save: async (petId, request) => {
      const result = await inner.save(petId, request);
      saves += 1;
      if (left > 0) {
        left -= 1;
        throw new StorageUnavailableError('the connection was lost after the write was sent');
      }
      return result;
    },
  };
}

describe('CLI changes', () => {
  it('retry an ambiguous storage failure with the same Idempotency-Key: the feed counts once', async () => {
    const storage = lossyStorage(2);
    const service = createPetService({ storage, clock: createManualClock(Date.UTC(2026, 2, 1, 8)) });
    const answer = (await runCommand(service, { kind: 'interact', deviceId: 'cli-pet', action: 'feed', lang: 'en' })) as StateDocument;
    expect(answer.stats.feed).toBe(1);
    const stored = await service.getState('cli-pet');
    expect(stored.value.stats.feed).toBe(1);
    // The first save applied the feed; the two retries found its record and wrote nothing more.
    expect(storage.saves()).toBe(1);
  });

  it('give up after three tries and report the failure', async () => {
    const inner = createMemoryStorage();
    let loads = 0;
    const down: StorageDriver = {
      ...inner,
      load: async () => {
        loads += 1;
        throw new StorageUnavailableError('unreachable');
      },
    };
    const service = createPetService({ storage: down, clock: createManualClock(Date.UTC(2026, 2, 1, 8)) });
    await expect(runCommand(service, { kind: 'reset', deviceId: 'cli-pet', lang: 'en' })).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(loads).toBe(3);
  });
});
