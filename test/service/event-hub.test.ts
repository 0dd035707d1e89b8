/**
 * docs/design.md §9: the event hub over a memory storage (watch) and over a driver without `watch`
 * (polling): replay then live with no gap and no duplicate, reference counting per pet, one
 * watch per process, limits, and the life-event timer.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BusyError } from '../../src/errors.js';
import { createSilentLogger } from '../../src/log.js';
import { createEventHub, type EventHub, systemClock } from '../../src/service/index.js';
import { createMemoryStorage, type PetEvent, type PetEventDraft, type PetMeta, type StorageDriver } from '../../src/storage/index.js';

const draft = (n: number): PetEventDraft => ({
  type: 'interacted',
  pet_time: '2026-03-01T08:00:00.000Z',
  at: '2026-03-01T08:00:00.000Z',
  data: { n },
});

function metaFor(version: number): PetMeta {
  return { version, pet_name: 'x', timezone: 'UTC', created_at: '2026-03-01T08:00:00.000Z', world_ms: 0, wall_ms: 0 };
}

/** Appends events by saving the pet with them (version by version). */
function writer(storage: StorageDriver, petId: string) {
  let version = 0;
  let n = 0;
  return async (count = 1) => {
    const drafts = Array.from({ length: count }, () => draft(++n));
    const result = await storage.save(petId, { expectedVersion: version, meta: metaFor(version + 1), systems: {}, events: drafts });
    if (!result.ok) throw new Error('conflict');
    version += 1;
    return result.eventIds;
  };
}

const service = (storage: StorageDriver, next: () => Promise<number | null> = async () => null, bring = async () => {}) => ({
  events: (petId: string, options: { after?: string | null; limit?: number }) => storage.readEvents(petId, options),
  nextLifeEventMs: next,
  bringToNow: bring,
});

const limits = { maxSubscribers: 100, maxPerPet: 10 };
const hubs: EventHub[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(hubs.splice(0).map((hub) => hub.close()));
});
function hubOver(storage: StorageDriver, overrides: Partial<Parameters<typeof createEventHub>[0]> = {}): EventHub {
  const hub = createEventHub({ storage, service: service(storage), clock: systemClock, log: createSilentLogger(), limits, ...overrides });
  hubs.push(hub);
  return hub;
}
const until = async (check: () => boolean, timeoutMs = 2000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
};
const numbers = (events: PetEvent[]) => events.map((event) => event.data['n']);

describe('event hub', () => {
  it('replays after `after`, then delivers live events, each once and in order, while saves race the subscription', async () => {
    const storage = createMemoryStorage();
    const write = writer(storage, 'hub-a');
    const [first] = await write(3);
    const hub = hubOver(storage);
    const got: PetEvent[] = [];
    const writing = (async () => {
      for (let i = 0; i < 20; i += 1) await write();
    })();
    const subscription = await hub.subscribe('hub-a', (event) => got.push(event), { after: first ?? null });
    await writing;
    await until(() => got.length >= 22);
    expect(numbers(got)).toEqual(Array.from({ length: 22 }, (_, i) => i + 2));
    expect(subscription.lastId).toBe(got.at(-1)?.id);
    subscription.close();
  });

  it("'now' skips the replay; null replays everything retained", async () => {
    const storage = createMemoryStorage();
    const write = writer(storage, 'hub-now');
    await write(2);
    const hub = hubOver(storage);
    const live: PetEvent[] = [];
    const all: PetEvent[] = [];
    await hub.subscribe('hub-now', (event) => live.push(event), { after: 'now' });
    await hub.subscribe('hub-now', (event) => all.push(event), { after: null });
    await write();
    await until(() => live.length >= 1 && all.length >= 3);
    expect(numbers(live)).toEqual([3]);
    expect(numbers(all)).toEqual([1, 2, 3]);
  });

  it('watches the storage once per process and counts subscribers per pet', async () => {
    const storage = createMemoryStorage();
    const watch = vi.spyOn(storage, 'watch');
    const hub = hubOver(storage);
    const a = await hub.subscribe('hub-b', () => {}, { after: 'now' });
    const b = await hub.subscribe('hub-b', () => {}, { after: 'now' });
    const c = await hub.subscribe('hub-c', () => {}, { after: 'now' });
    expect(watch).toHaveBeenCalledTimes(1);
    expect(hub.stats()).toEqual({ subscribers: 3, pets: 2 });
    a.close();
    a.close();
    expect(hub.stats()).toEqual({ subscribers: 2, pets: 2 });
    b.close();
    c.close();
    expect(hub.stats()).toEqual({ subscribers: 0, pets: 0 });
  });

  it('refuses beyond the limits with BusyError', async () => {
    const storage = createMemoryStorage();
    const hub = hubOver(storage, { limits: { maxSubscribers: 3, maxPerPet: 2 } });
    await hub.subscribe('hub-d', () => {}, { after: 'now' });
    await hub.subscribe('hub-d', () => {}, { after: 'now' });
    await expect(hub.subscribe('hub-d', () => {}, { after: 'now' })).rejects.toBeInstanceOf(BusyError);
    await hub.subscribe('hub-e', () => {}, { after: 'now' });
    await expect(hub.subscribe('hub-f', () => {}, { after: 'now' })).rejects.toBeInstanceOf(BusyError);
  });

  it('polls readEvents when the driver cannot watch', async () => {
    const memory = createMemoryStorage();
    const { watch: _unused, ...rest } = memory;
    const storage: StorageDriver = rest;
    const write = writer(memory, 'hub-poll');
    const hub = hubOver(storage, { pollIntervalMs: 50 });
    const got: PetEvent[] = [];
    await hub.subscribe('hub-poll', (event) => got.push(event), { after: null });
    await write(2);
    await until(() => got.length >= 2, 1000);
    expect(numbers(got)).toEqual([1, 2]);
  });

  it('brings a subscribed pet to now at its next life event, and stops when the last subscriber leaves', async () => {
    const storage = createMemoryStorage();
    let due = Date.now() + 50;
    const brought: number[] = [];
    const hub = hubOver(storage, {
      service: service(
        storage,
        async () => due,
        async () => {
          brought.push(Date.now());
          due = Date.now() + 60_000;
        },
      ),
    });
    const subscription = await hub.subscribe('hub-life', () => {}, { after: 'now' });
    await until(() => brought.length >= 1, 1000);
    expect(brought).toHaveLength(1);
    subscription.close();
    due = Date.now() + 20;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(brought).toHaveLength(1);
  });

  it('ends its subscriptions on close (onEnd)', async () => {
    const storage = createMemoryStorage();
    const hub = hubOver(storage);
    const ended = vi.fn();
    await hub.subscribe('hub-end', () => {}, { after: 'now', onEnd: ended });
    await hub.close();
    expect(ended).toHaveBeenCalledTimes(1);
    expect(hub.stats()).toEqual({ subscribers: 0, pets: 0 });
    await expect(hub.subscribe('hub-end', () => {}, { after: 'now' })).rejects.toBeInstanceOf(BusyError);
  });
});
