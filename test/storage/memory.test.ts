import { describe, expect, it } from 'vitest';
import { CorruptStateError } from '../../src/errors.js';
import { createMemoryStorage, type MemoryStore } from '../../src/storage/index.js';
import { describeStorageContract, metaFor, petId, sampleSystems } from './contract.js';

describeStorageContract('memory', () => {
  let nowMs = 1_764_028_800_000;
  const now = (): number => nowMs;
  // Every driver shares one key space, as clients of one Redis do.
  const store: MemoryStore = new Map();
  const inspector = createMemoryStorage({ now, store });
  return {
    eventTrim: 'exact',
    watch: true,
    create: (options) => createMemoryStorage({ now, store, ...options }),
    listKeys: async () => inspector.keys(),
    pttl: async (id, name) => inspector.pttl(`life_${id}:${name}`),
    rawWrite: async (id, name, value) => inspector.rawSet(`life_${id}:${name}`, value),
    async advance(ms) {
      nowMs += ms;
    },
  };
});

describe('memory storage', () => {
  it('stores compact JSON under the seed key layout', async () => {
    const store = createMemoryStorage();
    const id = petId('layout');
    await store.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() });
    expect(store.keys()).toEqual(['energy', 'meta', 'mood', 'rhythm', 'satiety', 'stats'].map((name) => `life_${id}:${name}`));
    expect(store.rawGet(`life_${id}:rhythm`)).toBe(JSON.stringify(sampleSystems().rhythm));
  });

  it('reports a meta that is not ours as corrupt', async () => {
    const store = createMemoryStorage();
    const id = petId('corrupt');
    store.rawSet(`life_${id}:meta`, '{"version":"x"}');
    await expect(store.load(id)).rejects.toBeInstanceOf(CorruptStateError);
    store.rawSet(`life_${id}:meta`, 'not json');
    await expect(store.load(id)).rejects.toBeInstanceOf(CorruptStateError);
  });
});
