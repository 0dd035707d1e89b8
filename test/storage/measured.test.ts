/**
 * The measuring decorator (src/storage/measured.ts): each call is one observed round trip, under
 * its own operation name, the caller gets the driver's own promise, and the events each write
 * appended are counted — saveMany's included, for the pets it saved and not for those it lost.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryStorage, type StorageDriver } from '../../src/storage/index.js';
import { measureStorage, type StorageOperation } from '../../src/storage/measured.js';
import type { PetEventDraft } from '../../src/storage/types.js';
import { metaFor, petId, sampleSystems } from './contract.js';

const draft = (type: string): PetEventDraft => ({
  type,
  pet_time: '2026-11-25T16:00:00.000+08:00',
  at: '2026-11-25T08:00:00.000Z',
  data: {},
});

function measured(driver: StorageDriver = createMemoryStorage()) {
  const calls: Array<{ operation: StorageOperation; failed: boolean }> = [];
  const written: number[] = [];
  const storage = measureStorage(driver, {
    operation: (operation) => (seconds, failed) => {
      expect(seconds).toBeGreaterThanOrEqual(0);
      calls.push({ operation, failed });
    },
    eventsWritten: (count) => written.push(count),
  });
  /** The observer runs on a side reaction of the driver's promise: one turn after the caller's. */
  const settled = () => new Promise((resolve) => setImmediate(resolve));
  return { storage, calls, written, settled };
}

describe('measureStorage', () => {
  it("counts saveMany's events of the pets saved, not of those that lost the compare-and-set", async () => {
    const { storage, calls, written, settled } = measured();
    const [a, b] = [petId('measured-a'), petId('measured-b')];
    await storage.save(b, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() });
    await settled();
    calls.length = 0;
    const results = await storage.saveMany([
      {
        petId: a,
        request: { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems(), events: [draft('created'), draft('interacted')] },
      },
      { petId: b, request: { expectedVersion: 0, meta: metaFor(1), systems: {}, events: [draft('interacted')] } },
    ]);
    await settled();
    expect(results.map((result) => result.ok)).toEqual([true, false]);
    expect(calls).toEqual([{ operation: 'saveMany', failed: false }]);
    expect(written).toEqual([2]);
  });

  it('times loadMany as one round trip and hands back what the driver answered', async () => {
    const { storage, calls, settled } = measured();
    const id = petId('measured-load');
    await storage.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems(), events: [draft('created')] });
    const {
      records: [loaded],
    } = await storage.loadMany([{ petId: id }]);
    await settled();
    expect(loaded?.ok && loaded.record?.meta?.version).toBe(1);
    expect(calls.map((call) => call.operation)).toEqual(['save', 'loadMany']);
  });

  it('reports a failed call as failed and rejects with the driver’s own error', async () => {
    const driver = createMemoryStorage();
    const refused = new Error('down');
    const { storage, calls, written, settled } = measured({
      ...driver,
      saveMany: () => Promise.reject(refused),
      ping: () => {
        throw refused;
      },
    });
    await expect(storage.saveMany([{ petId: petId('x'), request: { expectedVersion: 0, meta: metaFor(1), systems: {} } }])).rejects.toBe(
      refused,
    );
    await expect(storage.ping()).rejects.toBe(refused);
    await settled();
    expect(calls).toEqual([
      { operation: 'saveMany', failed: true },
      { operation: 'ping', failed: true },
    ]);
    expect(written).toEqual([]);
  });

  it("answers with the driver's own promise (no wrapper)", () => {
    const driver = createMemoryStorage();
    const answer = Promise.resolve([]);
    const { storage } = measured({ ...driver, saveMany: () => answer });
    expect(storage.saveMany([])).toBe(answer);
  });
});
