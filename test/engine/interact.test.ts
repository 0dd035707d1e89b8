/**
 * Interactions (docs/life-model.md §Interactions): the effects table, the measured figures, the events
 * recorded, the counts kept and the rejection of unknown actions.
 */
import { describe, expect, it } from 'vitest';
import {
  advance,
  createLifeState,
  interact,
  localMinute,
  UnknownActionError,
  vitalsOf,
  type Action,
  type LifeState,
} from '../../src/engine/index.js';
import { DAY, expectNear, hhmm, sleepEpisodes, T2024 } from './support.js';

/** An entrained pet at `hour`:00 UTC, 30 days after birth, optionally with fields replaced. */
function petAt(hour: number, fields: Partial<LifeState> = {}): LifeState {
  const born = createLifeState({ tick: T2024 + 12 * 60 });
  const state = advance(born, T2024 + 30 * DAY + hour * 60).state;
  return { ...state, ...fields };
}

function nightsAfter(state: LifeState, days: number): string[] {
  const events = [];
  let current = state;
  for (let d = 0; d < days; d++) {
    const result = advance(current, current.tick + DAY);
    events.push(...result.report.events);
    current = result.state;
  }
  return sleepEpisodes(events, 'UTC').map((e) => `${hhmm(e.onset)}–${hhmm(e.wake)}`);
}

describe('feed', () => {
  it('does little for a full pet: hunger 5 → 2.5, mood +0.5 (fed_full)', () => {
    const pet = petAt(12, { satiety: 0.95, mood: 66 });
    const { state, event } = interact(pet, 'feed');
    expectNear(vitalsOf(state).hunger, 2.5, 1e-9);
    expectNear(state.mood - pet.mood, 0.5, 0.05);
    expect(event).toEqual({ kind: 'fed_full', tick: pet.tick });
  });

  it('fills half the deficit of a hungry pet: hunger 85 → 42.5, mood +9 (fed)', () => {
    const pet = petAt(12, { satiety: 0.15, mood: 66 });
    const { state, event } = interact(pet, 'feed');
    expectNear(vitalsOf(state).hunger, 42.5, 1e-9);
    expectNear(state.mood - pet.mood, 9, 0.5);
    expect(event.kind).toBe('fed');
  });

  it('feeds nothing to a sleeping pet but counts the care towards bond (fed_asleep)', () => {
    const pet = petAt(2, { bond: 0.5, lastInteractionTick: T2024 });
    expect(pet.asleep).toBe(true);
    const { state, event } = interact(pet, 'feed');
    expect(event.kind).toBe('fed_asleep');
    expect(state.satiety).toBe(pet.satiety);
    expectNear(state.bond, 0.5 + 0.0025 * 0.5, 1e-12);
  });
});

describe('play', () => {
  it('tires the pet: ten plays at 15:00 take energy 73 → 24, bond counts the care once', () => {
    let pet = petAt(15, { lastInteractionTick: T2024 });
    expectNear(vitalsOf(pet).energy, 73, 1);
    const bondBefore = pet.bond;
    for (let i = 0; i < 10; i++) pet = interact(pet, 'play').state;
    expectNear(vitalsOf(pet).energy, 24, 1);
    expectNear(pet.bond - bondBefore, 0.015 * (1 - bondBefore), 1e-12);
    expect(pet.stats.play).toBe(10);
    // Reference: sleeps 19:08–05:19, then back on 22:47–06:46 two nights later.
    const nights = nightsAfter(pet, 3);
    expect(nights[0]).toBe('19:08–05:19');
    expect(nights[2]).toBe('22:47–06:46');
  });

  it('wakes a pet at 06:20 that then is grumpy for 30 min and goes to bed at 22:33', () => {
    const pet = petAt(6, {});
    const at0620 = advance(pet, pet.tick + 20).state;
    expect(at0620.asleep).toBe(true);
    expect(vitalsOf(at0620).energy).toBeGreaterThanOrEqual(80);
    const { state, event } = interact(at0620, 'play');
    expect(event.kind).toBe('woken_by_play');
    expect(state.asleep).toBe(false);
    expectNear(state.mood, 0.8 * at0620.mood, 1e-12);
    expect(vitalsOf(state).currentState).toBe('grumpy');
    expect(vitalsOf(advance(state, state.tick + 29).state).grumpyAfterWaking).toBe(true);
    expect(vitalsOf(advance(state, state.tick + 30).state).grumpyAfterWaking).toBe(false);
    expect(nightsAfter(state, 2)[0]?.slice(0, 5)).toBe('22:33');
  });

  it('leaves a pet asleep at 02:00, 7 % less happy (played_asleep)', () => {
    const pet = petAt(2, {});
    const { state, event } = interact(pet, 'play');
    expect(event.kind).toBe('played_asleep');
    expect(state.asleep).toBe(true);
    expectNear(state.mood / pet.mood, 0.93, 1e-12);
    expect(state.sleepPressure).toBe(pet.sleepPressure);
  });

  it('only annoys a pet too tired to play (energy < 20): mood × 0.95 (played_tired)', () => {
    const pet = petAt(22, {});
    expect(pet.asleep).toBe(false);
    expect(vitalsOf(pet).energy).toBeLessThan(20);
    const { state, event } = interact(pet, 'play');
    expect(event.kind).toBe('played_tired');
    expect(state.sleepPressure).toBe(pet.sleepPressure);
    expectNear(state.mood, 0.95 * pet.mood, 1e-12);
  });

  it('never runs the sleep test itself: a pet pushed over its threshold falls asleep at the next tick end', () => {
    let pet = petAt(21, { lastInteractionTick: T2024 });
    while (vitalsOf(pet).energy >= 20) pet = interact(pet, 'play').state;
    pet = { ...pet, sleepPressure: 0.99 };
    expect(pet.asleep).toBe(false);
    const next = advance(pet, pet.tick + 1);
    expect(next.state.asleep).toBe(true);
    expect(next.report.events).toEqual([{ kind: 'fell_asleep', tick: pet.tick + 1 }]);
  });
});

describe('greet', () => {
  it('lifts mood by a tenth of the way to 100 and grows bond (greeted)', () => {
    const pet = petAt(10, { mood: 50, bond: 0.2, lastInteractionTick: T2024 });
    const { state, event } = interact(pet, 'greet');
    expect(event.kind).toBe('greeted');
    expectNear(state.mood, 55, 1e-12);
    expectNear(state.bond, 0.2 + 0.01 * 0.8, 1e-12);
  });

  it('does not wake a sleeping pet (greeted_asleep)', () => {
    const pet = petAt(3, { bond: 0.2, lastInteractionTick: T2024 });
    const { state, event } = interact(pet, 'greet');
    expect(event.kind).toBe('greeted_asleep');
    expect(state.asleep).toBe(true);
    expect(state.mood).toBe(pet.mood);
    expectNear(state.bond, 0.2 + 0.005 * 0.8, 1e-12);
  });
});

describe('every interaction', () => {
  it.each<Action>(['feed', 'play', 'greet'])('%s resets the neglect clock, counts once and records its tick', (action) => {
    const pet = petAt(9, { lastInteractionTick: T2024 });
    expect(vitalsOf(pet).neglected).toBe(true);
    const { state, event } = interact(pet, action);
    expect(state.lastInteractionTick).toBe(pet.tick);
    expect(vitalsOf(state).neglected).toBe(false);
    expect(state.stats[action]).toBe(pet.stats[action] + 1);
    expect(state.lastEvent).toEqual(event);
    expect(state.tick).toBe(pet.tick);
  });

  it('counts care towards bond at most once an hour', () => {
    const pet = petAt(10, { bond: 0, lastInteractionTick: T2024 });
    const first = interact(pet, 'greet').state;
    const soon = interact(advance(first, first.tick + 15).state, 'greet').state;
    expectNear(soon.bond - first.bond, 0.01 * 0.25 * (1 - first.bond), 1e-12);
  });

  it('rejects an unknown action with UnknownActionError instead of ticking', () => {
    const pet = petAt(10);
    for (const action of ['dance', '', 'FEED', 42, null, undefined]) {
      expect(() => interact(pet, action as Action)).toThrow(UnknownActionError);
    }
    expect(() => interact(pet, 'dance' as Action)).toThrow(TypeError);
  });

  it('keeps its local time: the interaction happens at the state tick', () => {
    const pet = petAt(12);
    expect(localMinute('UTC', interact(pet, 'feed').state.tick)).toBe(12 * 60);
  });
});
