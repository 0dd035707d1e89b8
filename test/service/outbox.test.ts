/**
 * Visits are two per-pet compare-and-set writes tied by the visitor's outbox (src/service/social/outbox.ts).
 * Property: over random interleavings of concurrent visits (several service instances on one
 * memory store, random delays before every storage call) and random crash points (any save may
 * fail before it takes effect, or after — the answer lost, as when a process dies), once every
 * pet has been read again no half is lost and none is applied twice; every acknowledged visit
 * counts on both pets; Idempotency-Key retries of failed visits apply nothing twice.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StorageUnavailableError } from '../../src/errors.js';
import { createManualClock, createOwners, createPetService, createSocial, type PetService, type Social } from '../../src/service/index.js';
import { createMemoryStorage, type MemoryStore, type StorageDriver } from '../../src/storage/index.js';

const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const PETS = ['pa', 'pb', 'pc'] as const;

/** Where a save fails: before it takes effect, or after (its answer lost). */
type Crash = 'none' | 'before' | 'after';

interface Schedule {
  delays: number[];
  crashes: Crash[];
}

/** The memory store seen through random delays and crash points, one entry of the schedule per call. */
function faulty(store: MemoryStore, schedule: Schedule): StorageDriver {
  const base = createMemoryStorage({ store });
  let calls = 0;
  let saves = 0;
  const delay = async () => {
    const ms = schedule.delays[calls++ % schedule.delays.length] ?? 0;
    for (let i = 0; i < ms; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  return {
    ...base,
    load: async (petId, options) => {
      await delay();
      return base.load(petId, options);
    },
    save: async (petId, request) => {
      await delay();
      const crash = schedule.crashes[saves++] ?? 'none';
      if (crash === 'before') throw new StorageUnavailableError('crash before the write');
      const result = await base.save(petId, request);
      if (crash === 'after') throw new StorageUnavailableError('crash after the write');
      return result;
    },
  };
}

function instance(storage: StorageDriver): { service: PetService; social: Social } {
  const clock = createManualClock(T0);
  const service = createPetService({ storage, clock, backoffMs: () => 0, maxAttempts: 50 });
  const owners = createOwners({ storage, clock });
  return { service, social: createSocial({ service, owners, storage, clock }) };
}

/** Three pets, friends pairwise, written without faults. */
async function befriendAll(store: MemoryStore): Promise<void> {
  const { service } = instance(createMemoryStorage({ store }));
  for (const id of PETS) {
    await service.run(id, {
      apply: (pet) => {
        const friends = Object.fromEntries(
          PETS.filter((other) => other !== id).map((other) => [
            other,
            { since: new Date(T0).toISOString(), familiarity: 0, visited_ms: null },
          ]),
        );
        pet.meta = { ...pet.meta, friends };
        return { changed: true, result: undefined };
      },
    });
  }
}

const visitArb = fc.record({
  from: fc.constantFrom(...PETS),
  to: fc.constantFrom(...PETS),
  instance: fc.integer({ min: 0, max: 2 }),
  keyed: fc.boolean(),
});

describe('visits exactly once (outbox)', () => {
  it('no half lost, none applied twice, over interleavings and crash points', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(visitArb, { minLength: 1, maxLength: 14 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.constantFrom<Crash>('none', 'none', 'none', 'before', 'after'), { maxLength: 60 }),
        async (visits, delays, crashes) => {
          runs += 1;
          const store: MemoryStore = new Map();
          await befriendAll(store);
          const schedule = { delays, crashes };
          const instances = [0, 1, 2].map(() => instance(faulty(store, schedule)));
          const wanted = visits.filter((visit) => visit.from !== visit.to);
          const outcomes = await Promise.allSettled(
            wanted.map((visit, index) =>
              (instances[visit.instance] as { social: Social }).social.visit(visit.from, visit.to, {
                ...(visit.keyed ? { idempotency: { key: `k${index}`, fingerprint: `${visit.from}>${visit.to}` } } : {}),
              }),
            ),
          );
          const acknowledged = new Set<string>();
          for (const outcome of outcomes) if (outcome.status === 'fulfilled') acknowledged.add(outcome.value.body.visit_id);

          // Recovery on a healthy instance: retries of keyed failures (the same key), then a read of every pet.
          const healthy = instance(createMemoryStorage({ store }));
          for (const [index, outcome] of outcomes.entries()) {
            const visit = wanted[index];
            if (outcome.status === 'rejected' && visit?.keyed) {
              const retried = await healthy.social.visit(visit.from, visit.to, {
                idempotency: { key: `k${index}`, fingerprint: `${visit.from}>${visit.to}` },
              });
              acknowledged.add(retried.body.visit_id);
            }
          }
          for (const id of PETS) await healthy.service.getState(id);

          // Every visit whose visitor half was written, from the visitors' own logs.
          const made = new Map<string, { from: string; to: string }>();
          const hosted = new Map<string, string[]>();
          for (const id of PETS) {
            const events = await healthy.service.events(id);
            for (const event of events.filter((e) => e.type === 'visited')) {
              const data = event.data as { visit_id: string; role: string; with: string };
              if (data.role === 'visitor') {
                expect(made.has(data.visit_id)).toBe(false);
                made.set(data.visit_id, { from: id, to: data.with });
              } else hosted.set(data.visit_id, [...(hosted.get(data.visit_id) ?? []), id]);
            }
          }
          // Every acknowledged visit happened; every visit that happened was hosted exactly once, by its friend.
          for (const id of acknowledged) expect(made.has(id)).toBe(true);
          for (const [id, visit] of made) expect(hosted.get(id)).toEqual([visit.to]);
          expect([...hosted.keys()].every((id) => made.has(id))).toBe(true);
          // stats.visits: made plus received, on every pet; every outbox is empty.
          for (const id of PETS) {
            const doc = await healthy.service.getState(id);
            const expected = [...made.values()].filter((visit) => visit.from === id || visit.to === id).length;
            expect(doc.value.stats.visits ?? 0).toBe(expected);
            const record = await createMemoryStorage({ store }).load(id);
            expect(record?.meta?.outbox ?? []).toEqual([]);
          }
        },
      ),
      { numRuns: 60 },
    );
    expect(runs).toBe(60);
  }, 120_000);

  it('friendships made and ended through crashes end up the same on both sides, each event once per change', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            by: fc.constantFrom('pa', 'pb'),
            crashes: fc.array(fc.constantFrom<Crash>('none', 'before', 'after'), { maxLength: 3 }),
          }),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        async (steps) => {
          const store: MemoryStore = new Map();
          const healthy = instance(createMemoryStorage({ store }));
          for (const id of ['pa', 'pb']) await healthy.service.getState(id);
          let friends = false;
          let changes = 0;
          for (const step of steps) {
            const other = step.by === 'pa' ? 'pb' : 'pa';
            // Any of the request's saves (the first pet's, the receiver's, the clearing) may crash.
            const flaky = instance(faulty(store, { delays: [0], crashes: step.crashes }));
            if (friends) {
              await flaky.social.unfriend(step.by, other, {}).catch(() => undefined);
            } else {
              const invite = await healthy.social.invite(other, {});
              await flaky.social.accept(step.by, invite.body.code, {}).catch(() => undefined);
            }
            // Recovery: the next read of the pet that made the change.
            await healthy.service.getState(step.by);
            const [a, b] = await healthy.service.peek(['pa', 'pb']);
            const aHasB = a?.meta.friends?.['pb'] !== undefined;
            const bHasA = b?.meta.friends?.['pa'] !== undefined;
            expect(aHasB).toBe(bHasA);
            if (aHasB !== friends) changes += 1;
            friends = aHasB;
          }
          for (const id of ['pa', 'pb']) {
            const logged = (await healthy.service.events(id)).filter((e) => e.type === 'befriended' || e.type === 'unfriended');
            expect(logged).toHaveLength(changes);
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);
});
