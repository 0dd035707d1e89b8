/**
 * The engine's API around advancing: newborn pets, argument checks, the advance report, the
 * cost in segments, timezone moves and immutability of inputs.
 */
import { describe, expect, it } from 'vitest';
import {
  advance,
  createLifeState,
  DEFAULT_PARAMS,
  interact,
  localMinute,
  setTimezone,
  tick,
  vitalsOf,
  type LifeState,
} from '../../src/engine/index.js';
import { advanceMeasured } from '../../src/engine/advance.js';
import { DAY, expectNear, T2024 } from './support.js';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** An entrained pet at midnight UTC, 30 days after birth. */
const settled = (): LifeState => advance(createLifeState({ tick: T2024 + 12 * 60 }), T2024 + 30 * DAY).state;

describe('createLifeState', () => {
  it("makes a rested newborn on request (the seed's): awake, S 0.2, fairly full, mood 60, no bond, body clock on local time", () => {
    const state = createLifeState({ tick: T2024 + 9 * 60, timezone: 'Asia/Shanghai', birth: 'rested' });
    expect(state).toMatchObject({
      tick: T2024 + 9 * 60,
      timezone: 'Asia/Shanghai',
      asleep: false,
      sleepPressure: 0.2,
      satiety: 0.7,
      mood: 60,
      bond: 0,
      lastInteractionTick: T2024 + 9 * 60,
      wokenByPlayTick: null,
      lastEvent: null,
      stats: { feed: 0, play: 0, greet: 0 },
    });
    const vitals = vitalsOf(state);
    expect(vitals.phaseDifference).toBe(0);
    expect(vitals.localMinute).toBe(17 * 60);
    expect(localMinute('Asia/Shanghai', state.lastCalibrationTick)).toBe(6 * 60);
    expect(state.tick - state.lastCalibrationTick).toBe(11 * 60);
  });

  it('defaults to UTC and refuses a bad tick or zone', () => {
    expect(createLifeState({ tick: 0 }).timezone).toBe('UTC');
    expect(() => createLifeState({ tick: 1.5 })).toThrow(RangeError);
    expect(() => createLifeState({ tick: 0, timezone: 'Nowhere/City' })).toThrow(RangeError);
  });
});

describe('advance', () => {
  it('refuses to go back in time or to a fractional tick', () => {
    const state = createLifeState({ tick: T2024 });
    expect(() => advance(state, T2024 - 1)).toThrow(RangeError);
    expect(() => advance(state, T2024 + 0.5)).toThrow(RangeError);
    expect(() => advance(state, Number.NaN)).toThrow(RangeError);
    expect(() => tick(state, -1)).toThrow(RangeError);
    expect(() => tick(state, 2.5)).toThrow(RangeError);
  });

  it('ticks one minute by default', () => {
    const state = createLifeState({ tick: T2024 });
    expect(tick(state).state.tick).toBe(T2024 + 1);
    expect(tick(state, 90).state.tick).toBe(T2024 + 90);
  });

  it('reports a settled day: one sleep, one waking, 7.95 h asleep, energy down to 0, in 4–6 segments', () => {
    const start = settled();
    const { state, report } = advance(start, start.tick + DAY);
    expect(report).toMatchObject({ fromTick: start.tick, toTick: state.tick, ticks: DAY, sleeps: 1, wakes: 1 });
    expect(report.minutesAsleep).toBe(7 * 60 + 57);
    expect(report.lowestEnergy).toBe(0);
    expect(report.segments).toBeGreaterThanOrEqual(4);
    expect(report.segments).toBeLessThanOrEqual(6);
    // From midnight to midnight: the waking of one night, then the onset of the next.
    expect(report.events.map((e) => [e.kind, localMinute('UTC', e.tick)])).toEqual([
      ['woke_up', 6 * 60 + 46],
      ['fell_asleep', 22 * 60 + 49],
    ]);
    expect(report.start).toEqual({ energy: vitalsOf(start).energy, hunger: vitalsOf(start).hunger, mood: start.mood });
    expect(report.end).toEqual({ energy: vitalsOf(state).energy, hunger: vitalsOf(state).hunger, mood: state.mood });
    expect(report.highestHunger).toBe(report.end.hunger);
    expect(state.lastEvent).toEqual(report.events[1]);
  });

  it('keeps the last 64 events of a long advance', () => {
    const start = settled();
    const { state, report } = advance(start, start.tick + 60 * DAY);
    expect(report.sleeps).toBe(60);
    expect(report.events).toHaveLength(64);
    expect(report.events.at(-1)).toEqual(state.lastEvent);
  });

  it('records the last dawn as the last calibration, in local time', () => {
    const start = setTimezone(settled(), 'America/New_York');
    const { state } = advance(start, start.tick + 3 * DAY + 100);
    expect(localMinute('America/New_York', state.lastCalibrationTick)).toBe(6 * 60);
    expect(state.tick - state.lastCalibrationTick).toBeLessThan(DAY);
  });

  it('costs segments per event, not per tick: a year takes fewer than 6 segments a day', () => {
    const start = interact(settled(), 'feed').state;
    const cost = { segments: 0, probes: 0 };
    const { report } = advanceMeasured(start, start.tick + 365 * DAY, DEFAULT_PARAMS, cost);
    expect(report.segments).toBe(cost.segments);
    expect(cost.segments / 365).toBeLessThan(6);
    expect(cost.probes / 365).toBeLessThan(25);
  });

  it('never changes its input state', () => {
    const start = deepFreeze(interact(settled(), 'play').state);
    const copy = structuredClone(start);
    advance(start, start.tick + 3 * DAY);
    interact(start, 'feed');
    setTimezone(start, 'Asia/Tokyo');
    expect(start).toEqual(copy);
  });
});

describe('setTimezone', () => {
  it('moves the external day at once and keeps the body clock (jet lag)', () => {
    const state = settled();
    const moved = setTimezone(state, 'Asia/Tokyo');
    expect(moved.internalPhase).toBe(state.internalPhase);
    expect(vitalsOf(moved).localMinute).toBe(9 * 60);
    expectNear(vitalsOf(moved).phaseDifference, vitalsOf(state).phaseDifference + 9 / 24, 1e-12);
  });

  it('returns the same state for the same zone and refuses an unknown one', () => {
    const state = settled();
    expect(setTimezone(state, 'UTC')).toBe(state);
    expect(() => setTimezone(state, 'Atlantis/Capital')).toThrow(RangeError);
  });
});
