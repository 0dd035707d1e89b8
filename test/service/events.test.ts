/**
 * Events (docs/design.md §9), the service side: every save carries its events (life events of bringing the pet to
 * now, bounded, then the operation's own), a compare-and-set retry does not duplicate them, and
 * the next life event's wall time is exact.
 */
import { describe, expect, it } from 'vitest';
import { ForbiddenError, InvalidInputError, UnauthorizedError } from '../../src/errors.js';
import { createAccessPolicy, createManualClock, createPetService, type PetServiceOptions } from '../../src/service/index.js';
import { createMemoryStorage, type PetEvent } from '../../src/storage/index.js';

const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const HOUR = 3_600_000;
const PET = 'pet_events';

function setup(options: Partial<PetServiceOptions> = {}) {
  const storage = createMemoryStorage();
  const clock = createManualClock(T0);
  const service = createPetService({ storage, clock, backoffMs: () => 0, ...options });
  return { storage, clock, service };
}

const types = (events: readonly PetEvent[]) => events.map((event) => event.type);
const life = (events: readonly PetEvent[]) => events.filter((event) => ['fell_asleep', 'woke_up', 'got_hungry'].includes(event.type));

describe('events of a save', () => {
  it('a feed saves an interacted event with the action, the engine event, pet_time and at', async () => {
    const { service, clock } = setup({ defaultTimezone: 'Asia/Shanghai' });
    await service.getState(PET);
    clock.advance(1000);
    await service.interact(PET, 'feed');
    const events = await service.events(PET);
    expect(types(events)).toEqual(['interacted']);
    const [fed] = events;
    expect(fed).toMatchObject({ type: 'interacted', device_id: PET, data: { action: 'feed', event: 'fed' } });
    expect(fed?.id).toMatch(/^\d+-\d+$/);
    expect(fed?.at).toBe(new Date(T0 + 1000).toISOString());
    expect(fed?.pet_time).toBe('2026-03-01T16:00:01.000+08:00');
  });

  it('claim, update, reset and create save their own events; the secret is never in them', async () => {
    const { service } = setup();
    const created = await service.perform('pet_new', (await import('../../src/service/index.js')).createOperation({ pet_name: 'Mochi' }), {
      render: (value) => value,
      trusted: true,
    });
    expect(created.value.status).toBe(200);
    const claim = await service.claim('pet_new');
    await service.update('pet_new', { pet_name: ' Momo ', timezone: 'europe/paris' });
    await service.reset('pet_new');
    const events = await service.events('pet_new');
    expect(types(events)).toEqual(['created', 'claimed', 'updated', 'reset']);
    expect(events[2]?.data).toEqual({ pet_name: 'Momo', timezone: 'Europe/Paris' });
    expect(JSON.stringify(events)).not.toContain(claim.value.secret);
  });

  it('a week of catch-up saves its sleep and wake events (and the hunger crossing), bounded at 50 with skipped', async () => {
    const { service } = setup();
    await service.getState(PET);
    await service.catchup(PET, 7 * 24);
    const week = life(await service.events(PET));
    const flips = week.filter((event) => event.type !== 'got_hungry');
    expect(flips.length).toBeGreaterThanOrEqual(13);
    expect(flips.length).toBeLessThanOrEqual(15);
    expect(week.filter((event) => event.type === 'got_hungry')).toHaveLength(1);
    // Sleep and waking alternate, in pet time order.
    flips.slice(1).forEach((event, index) => {
      expect(event.type).not.toBe(flips[index]?.type);
    });

    const { service: other } = setup();
    await other.getState(PET);
    await other.catchup(PET, 60 * 24);
    const sixty = life(await other.events(PET));
    expect(sixty).toHaveLength(50);
    expect(sixty[0]?.data['skipped']).toBeGreaterThan(50);
    expect(sixty.slice(1).every((event) => Object.keys(event.data).length === 0)).toBe(true);
  });

  it('a read after a wall-clock day saves the life events of bringing the pet to now', async () => {
    const { service, clock } = setup();
    await service.getState(PET);
    clock.advance(24 * HOUR);
    await service.getState(PET);
    const events = await service.events(PET);
    expect(types(events).filter((type) => type === 'fell_asleep')).toHaveLength(1);
    expect(types(events).filter((type) => type === 'woke_up')).toHaveLength(1);
  });

  it('a compare-and-set retry does not duplicate the events', async () => {
    const storage = createMemoryStorage();
    const clock = createManualClock(T0);
    // Two processes over one store: their queues do not see each other, so their saves race.
    const a = createPetService({ storage, clock, backoffMs: () => 0 });
    const b = createPetService({ storage, clock, backoffMs: () => 0 });
    await a.getState(PET);
    clock.advance(30 * HOUR);
    const [fed, played] = await Promise.all([a.interact(PET, 'feed'), b.interact(PET, 'greet')]);
    expect(Math.max(fed.attempts, played.attempts)).toBeGreaterThan(1);
    const events = await a.events(PET);
    expect(types(events).filter((type) => type === 'interacted')).toHaveLength(2);
    const lifeEvents = life(events);
    expect(lifeEvents.length).toBeGreaterThanOrEqual(2);
    expect(new Set(lifeEvents.map((event) => `${event.type}@${event.pet_time}`)).size).toBe(lifeEvents.length);
    // Ids strictly increase.
    const ids = events.map((event) => event.id.split('-').map(Number) as [number, number]);
    ids.slice(1).forEach(([ms, seq], index) => {
      const [pms, pseq] = ids[index] ?? [0, 0];
      expect(ms > pms || (ms === pms && seq > pseq)).toBe(true);
    });
  });
});

describe('PetService.events', () => {
  it('reads after an id, up to a limit, and never creates a pet', async () => {
    const { service, storage } = setup();
    expect(await service.events('pet_nobody')).toEqual([]);
    expect(storage.keys()).toEqual([]);
    await service.interact(PET, 'feed');
    await service.interact(PET, 'play');
    await service.interact(PET, 'greet');
    const all = await service.events(PET);
    expect(all).toHaveLength(3);
    expect(await service.events(PET, { after: all[0]?.id ?? null })).toEqual(all.slice(1));
    expect(await service.events(PET, { after: all[0]?.id ?? null, limit: 1 })).toEqual(all.slice(1, 2));
    await expect(service.events(PET, { after: 'nope' })).rejects.toThrow(InvalidInputError);
    await expect(service.events(PET, { limit: 0 })).rejects.toThrow(InvalidInputError);
  });

  it('follows the read rule: with READS_REQUIRE_AUTH a claimed pet needs its secret (one round trip of latency)', async () => {
    const { service, storage } = setup({ access: createAccessPolicy({ adminToken: 'admin', readsRequireAuth: true }) });
    const { secret } = (await service.claim(PET)).value;
    await expect(service.events(PET)).rejects.toThrow(UnauthorizedError);
    await expect(service.events(PET, { bearer: 'wrong' })).rejects.toThrow(ForbiddenError);
    expect(types(await service.events(PET, { bearer: secret }))).toEqual(['claimed']);
    const before = storage.roundTrips();
    expect(types(await service.events(PET, { bearer: 'admin' }))).toEqual(['claimed']);
    expect(storage.roundTrips() - before).toBe(1);
    const open = setup();
    await open.service.claim(PET);
    const trips = open.storage.roundTrips();
    expect(types(await open.service.events(PET))).toEqual(['claimed']);
    expect(open.storage.roundTrips() - trips).toBe(1);
  });
});

describe('nextLifeEventMs and bringToNow', () => {
  it('is when the state flips: at that wall time bringing the pet to now writes the event', async () => {
    const { service, clock } = setup({ timeScale: 60 });
    await service.getState(PET);
    for (let round = 0; round < 4; round++) {
      const due = await service.nextLifeEventMs(PET);
      expect(due).not.toBeNull();
      const at = due ?? 0;
      expect(at).toBeGreaterThan(clock.nowMs());
      const before = (await service.events(PET)).length;
      // One ms early: nothing yet.
      clock.set(at - 1);
      await service.bringToNow(PET);
      expect(await service.events(PET)).toHaveLength(before);
      clock.set(at);
      await service.bringToNow(PET);
      const after = await service.events(PET);
      expect(after).toHaveLength(before + 1);
      expect(['fell_asleep', 'woke_up', 'got_hungry']).toContain(after.at(-1)?.type);
      // Written once: bringing to now again adds nothing.
      await service.bringToNow(PET);
      expect(await service.events(PET)).toHaveLength(before + 1);
    }
  });

  it('is null at TIME_SCALE=0 and for a pet never stored; bringToNow creates nothing', async () => {
    const { service, storage } = setup({ timeScale: 0 });
    await service.getState(PET);
    expect(await service.nextLifeEventMs(PET)).toBeNull();
    const live = setup();
    expect(await live.service.nextLifeEventMs('pet_nobody')).toBeNull();
    await live.service.bringToNow('pet_nobody');
    expect(live.storage.keys()).toEqual([]);
    expect(storage.keys().length).toBeGreaterThan(0);
  });

  it('is due at once for a pet whose stored state is behind an event', async () => {
    const { service, clock } = setup();
    await service.getState(PET);
    clock.advance(24 * HOUR);
    const due = await service.nextLifeEventMs(PET);
    expect(due).not.toBeNull();
    expect(due ?? Infinity).toBeLessThanOrEqual(clock.nowMs());
  });
});
