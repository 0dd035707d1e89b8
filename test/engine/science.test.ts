/**
 * The measured behaviour of docs/life-model.md §What the tests pin: the entrained day,
 * free-running drift in darkness, jet lag after a shift, convergence from any start and the care
 * scenarios.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { advance, createLifeState, interact, setTimezone, tick, vitalsOf, type Action, type LifeState } from '../../src/engine/index.js';
import { createParams, DEFAULT_PARAMS, type LifeParams } from '../../src/engine/params.js';
import { DAY, expectNear, minuteDiff, sleepEpisodes, T2024 } from './support.js';
import { at, defined } from '../helpers/must.js';

const ONSET = 22 * 60 + 49;
const WAKE = 6 * 60 + 46;

/** 'HH:MM' as minutes since midnight. */
function toMinute(text: string): number {
  return Number(text.slice(0, 2)) * 60 + Number(text.slice(3));
}

/** A pet born at local noon on `day` (a UTC date) and left alone for `days` days. */
function settled(timezone: string, startMs = Date.UTC(2024, 0, 1, 12), days = 30, params = DEFAULT_PARAMS): LifeState {
  const born = createLifeState({ tick: Math.floor(startMs / 60_000), timezone, params });
  return advance(born, born.tick + days * DAY, params).state;
}

function episodesOver(state: LifeState, days: number, params: LifeParams = DEFAULT_PARAMS) {
  let current = state;
  const events = [];
  // One call per day so that no report truncates its events.
  for (let d = 0; d < days; d++) {
    const result = advance(current, current.tick + DAY, params);
    events.push(...result.report.events);
    current = result.state;
  }
  return { episodes: sleepEpisodes(events, state.timezone), state: current };
}

describe('entrained day', () => {
  it.each(['UTC', 'Asia/Shanghai', 'America/New_York'])('sleeps 22:49–06:46 local every night in %s', (timezone) => {
    const { episodes } = episodesOver(settled(timezone), 7);
    expect(episodes.length).toBeGreaterThanOrEqual(6);
    for (const { onset, wake } of episodes) {
      expect(Math.abs(minuteDiff(onset, ONSET))).toBeLessThanOrEqual(5);
      expect(Math.abs(minuteDiff(wake, WAKE))).toBeLessThanOrEqual(5);
    }
  });

  it('keeps one night per local day across a DST change and re-entrains within days', () => {
    // New York, 2024-03-10 02:00 EST → 03:00 EDT: a one-hour eastward shift of the external day.
    const state = settled('America/New_York', Date.UTC(2024, 1, 1, 17), 30);
    const { episodes } = episodesOver(state, 30);
    const dst = Math.floor(Date.UTC(2024, 2, 10, 7) / 60_000);
    const nights = new Set(episodes.map((e) => Math.floor((e.onsetTick - 12 * 60 - 5 * 60) / DAY)));
    expect(nights.size).toBe(episodes.length);
    // Reference: within ±1 h from the first night after the change, ±30 min from the third.
    const tolerance = (at: number) => {
      const daysAfter = (at - dst) / DAY;
      return daysAfter < 0 || daysAfter > 10 ? 5 : daysAfter > 2 ? 30 : 60;
    };
    for (const { onsetTick, wakeTick, onset, wake } of episodes) {
      expect(Math.abs(minuteDiff(onset, ONSET))).toBeLessThanOrEqual(tolerance(onsetTick));
      expect(Math.abs(minuteDiff(wake, WAKE))).toBeLessThanOrEqual(tolerance(wakeTick));
    }
    expect(episodes.some((e) => e.onsetTick > dst + 12 * DAY)).toBe(true);
  });

  it('runs S from 0.094 to 0.625 and energy through the reference table', () => {
    let state = settled('UTC');
    let low = 1;
    let high = 0;
    const energyAt = new Map<number, number>();
    for (let i = 0; i < DAY; i++) {
      state = tick(state).state;
      low = Math.min(low, state.sleepPressure);
      high = Math.max(high, state.sleepPressure);
      const vitals = vitalsOf(state);
      if (vitals.localMinute % 60 === 0) energyAt.set(vitals.localMinute / 60, vitals.energy);
    }
    expectNear(low, 0.094, 0.001);
    expectNear(high, 0.625, 0.001);
    const table: [number, number][] = [
      [0, 24],
      [2, 53],
      [4, 74],
      [6, 93],
      [7, 99],
      [8, 95],
      [10, 90],
      [12, 85],
      [14, 78],
      [16, 67],
      [18, 50],
      [20, 30],
      [22, 8],
      [23, 4],
    ];
    for (const [hour, energy] of table) expectNear(energyAt.get(hour), energy, 1);
  });

  it('sleeps exactly once per local day, at night, over 30 days alone from birth', () => {
    // Born at 08:00 in Shanghai (00:00 UTC).
    const born = createLifeState({ tick: T2024, timezone: 'Asia/Shanghai' });
    const { episodes } = episodesOver(born, 30);
    const nights = episodes.map((e) => Math.floor((e.onsetTick + 8 * 60 - 12 * 60) / DAY));
    expect(new Set(nights).size).toBe(30);
    expect(nights.length).toBe(30);
    for (const { onset } of episodes) expect(Math.abs(minuteDiff(onset, 0))).toBeLessThanOrEqual(3 * 60);
  });

  it('converges from any start to one night per local day within 3 weeks', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.boolean(),
        fc.constantFrom('UTC', 'Asia/Tokyo', 'America/Los_Angeles'),
        (internalPhase, sleepPressure, asleep, timezone) => {
          const start = { ...createLifeState({ tick: T2024, timezone }), internalPhase, sleepPressure, asleep };
          const state = advance(start, start.tick + 22 * DAY).state;
          const { episodes } = episodesOver(state, 5);
          expect(episodes.length).toBeGreaterThanOrEqual(4);
          for (const { onset, wake } of episodes) {
            expect(Math.abs(minuteDiff(onset, ONSET))).toBeLessThanOrEqual(30);
            expect(Math.abs(minuteDiff(wake, WAKE))).toBeLessThanOrEqual(30);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it.each<[string, Partial<LifeParams>, string, string]>([
    ['τ_i 23.8 h', { internalPeriodHours: 23.8 }, '22:08', '06:03'],
    ['τ_i 24.6 h', { internalPeriodHours: 24.6 }, '23:30', '07:29'],
    ['τ_i 25 h', { internalPeriodHours: 25 }, '00:12', '08:11'],
    ['light 06–20', { duskMinute: 20 * 60 }, '22:46', '06:43'],
    ['light 08–16', { dawnMinute: 8 * 60, duskMinute: 16 * 60 }, '22:59', '06:57'],
  ])('moves the entrained night with %s as measured', (_, overrides, onset, wake) => {
    const params = createParams(overrides);
    const { episodes } = episodesOver(settled('UTC', undefined, 40, params), 3, params);
    for (const e of episodes) {
      expect(Math.abs(minuteDiff(e.onset, toMinute(onset)))).toBeLessThanOrEqual(3);
      expect(Math.abs(minuteDiff(e.wake, toMinute(wake)))).toBeLessThanOrEqual(3);
    }
  });
});

describe('constant darkness', () => {
  it('free-runs with the body clock: onset and waking drift +12.0 min/day, S 0.093–0.627', () => {
    const dark = createParams({ couplingPerHour: 0 });
    // Lights off for good at midnight of an entrained day, as in the reference run.
    const midnight = settled('UTC', Date.UTC(2024, 0, 1, 0));
    const { episodes, state } = episodesOver(midnight, 40, dark);
    const onsets = episodes.map((e) => e.onsetTick);
    const periodHours = (at(onsets, onsets.length - 1) - at(onsets, 0)) / (onsets.length - 1) / 60;
    expectNear(periodHours, 24.2, 0.01);
    const driftPerDay = (at(onsets, 30) - at(onsets, 0) - 30 * DAY) / 30;
    expectNear(driftPerDay, 12.0, 0.5);
    const nights: [number, string, string][] = [
      [1, '22:56', '06:57'],
      [2, '23:08', '07:09'],
      [3, '23:20', '07:21'],
      [30, '04:44', '12:45'],
    ];
    for (const [night, onset, wake] of nights) {
      expect(Math.abs(minuteDiff(at(episodes, night - 1).onset, toMinute(onset)))).toBeLessThanOrEqual(2);
      expect(Math.abs(minuteDiff(at(episodes, night - 1).wake, toMinute(wake)))).toBeLessThanOrEqual(2);
    }
    let low = 1;
    let high = 0;
    let current = state;
    for (let i = 0; i < 2 * DAY; i++) {
      current = tick(current, 1, dark).state;
      low = Math.min(low, current.sleepPressure);
      high = Math.max(high, current.sleepPressure);
    }
    expectNear(low, 0.093, 0.001);
    expectNear(high, 0.627, 0.001);
  });
});

describe('jet lag', () => {
  /** Nights until onset and waking are within `minutes` of the entrained times, after a shift. */
  function nightsToWithin(zone: string, minutes: number, nights = 14) {
    const state = setTimezone(settled('UTC'), zone); // at 12:00 UTC
    const { episodes } = episodesOver(state, nights);
    const index = episodes.findIndex(
      (e) => Math.abs(minuteDiff(e.onset, ONSET)) <= minutes && Math.abs(minuteDiff(e.wake, WAKE)) <= minutes,
    );
    return { night: index + 1, episodes };
  }

  it('re-entrains after +6 h (east) night by night as in the reference table', () => {
    const { night, episodes } = nightsToWithin('Etc/GMT-6', 30);
    expect(Math.abs(night - 7)).toBeLessThanOrEqual(1);
    const table = [
      ['04:52', '12:14'],
      ['03:21', '10:37'],
      ['01:44', '09:12'],
      ['00:34', '08:13'],
      ['23:50', '07:36'],
      ['23:23', '07:14'],
      ['23:08', '07:02'],
      ['23:00', '06:55'],
      ['22:55', '06:51'],
      ['22:52', '06:49'],
    ];
    expectTable(episodes, table);
  });

  it('re-entrains after −6 h (west) faster, as in the reference table', () => {
    const { night, episodes } = nightsToWithin('Etc/GMT+6', 30);
    expect(Math.abs(night - 5)).toBeLessThanOrEqual(1);
    const table = [
      ['18:08', '02:39'],
      ['19:56', '04:20'],
      ['21:10', '05:24'],
      ['21:54', '06:01'],
      ['22:19', '06:22'],
      ['22:33', '06:33'],
      ['22:40', '06:39'],
      ['22:44', '06:42'],
      ['22:46', '06:44'],
      ['22:47', '06:45'],
    ];
    expectTable(episodes, table);
  });

  it.each<[string, number, number]>([
    ['Etc/GMT-1', 1, 3],
    ['Etc/GMT+1', 1, 3],
    ['Etc/GMT-3', 4, 5],
    ['Etc/GMT+3', 3, 4],
    ['Etc/GMT-9', 7, 8],
    ['Etc/GMT+9', 6, 7],
    ['Etc/GMT-12', 9, 10],
  ])('after a shift to %s is within ±1 h by night %i and ±30 min by night %i', (zone, hour, half) => {
    expect(Math.abs(nightsToWithin(zone, 60).night - hour)).toBeLessThanOrEqual(1);
    expect(Math.abs(nightsToWithin(zone, 30).night - half)).toBeLessThanOrEqual(1);
  });

  function expectTable(episodes: { onset: number; wake: number }[], table: string[][]): void {
    table.forEach(([onset, wake], i) => {
      expect(Math.abs(minuteDiff(at(episodes, i).onset, toMinute(defined(onset))))).toBeLessThanOrEqual(5);
      expect(Math.abs(minuteDiff(at(episodes, i).wake, toMinute(defined(wake))))).toBeLessThanOrEqual(5);
      const hours = ((at(episodes, i).wake - at(episodes, i).onset + DAY) % DAY) / 60;
      // Reference: 7.3–8.5 h, rounded to a tenth.
      expect(hours).toBeGreaterThanOrEqual(7.25);
      expect(hours).toBeLessThan(8.55);
    });
  }
});

describe('care and neglect', () => {
  const SCHEDULE: [number, Action][] = [
    [7 * 60 + 30, 'greet'],
    [8 * 60, 'feed'],
    [12 * 60 + 30, 'feed'],
    [17 * 60, 'play'],
    [18 * 60 + 30, 'feed'],
    [21 * 60, 'greet'],
  ];

  /** A settled pet at midnight with bond 0 and mood 60, cared for on SCHEDULE for `days` days. */
  function cared(days: number) {
    const midnight = T2024 + 31 * DAY;
    let state: LifeState = advance(settled('UTC'), midnight).state;
    state = { ...state, bond: 0, mood: 60, lastInteractionTick: midnight };
    const log: { day: number; beforeBreakfast: number; bond: number }[] = [];
    for (let day = 1; day <= days; day++) {
      const dayStart = midnight + (day - 1) * DAY;
      let beforeBreakfast = 0;
      for (const [minute, action] of SCHEDULE) {
        state = advance(state, dayStart + minute).state;
        if (action === 'feed' && minute === 8 * 60) beforeBreakfast = vitalsOf(state).hunger;
        state = interact(state, action).state;
      }
      state = advance(state, dayStart + DAY).state;
      log.push({ day, beforeBreakfast, bond: state.bond });
    }
    return { state, log };
  }

  it('grows bond over weeks of care: ≈0.26 by day 7, 0.62 by day 21, 0.81 by day 35', () => {
    const { log } = cared(35);
    expectNear(at(log, 6).bond, 0.26, 0.03);
    expectNear(at(log, 20).bond, 0.62, 0.03);
    expectNear(at(log, 34).bond, 0.81, 0.03);
    expectNear(at(log, 34).beforeBreakfast, 61, 2);
  });

  it('gets hungry, sad and less bonded when left alone, but stays finite', () => {
    const { state } = cared(35);
    const noon = (day: number) => advance(state, state.tick + (day - 1) * DAY + 12 * 60).state;
    expect(vitalsOf(noon(1)).hunger).toBeGreaterThanOrEqual(70);
    expect(vitalsOf(noon(1)).currentState).toBe('hungry');
    expectNear(vitalsOf(noon(3)).hunger, 98, 1);
    expectNear(vitalsOf(noon(3)).mood, 52, 1.5);
    const away = vitalsOf(noon(10));
    expectNear(away.mood, 42, 1.5);
    expectNear(away.bond, 0.51, 0.02);
    expect(away.neglected).toBe(true);
  });

  it('leaves a never-cared-for pet hungry and low after a week, with finite values', () => {
    const born = createLifeState({ tick: T2024 + 12 * 60 });
    const week = advance(born, born.tick + 7 * DAY).state;
    const vitals = vitalsOf(week);
    expect(vitals.hunger).toBeGreaterThan(99);
    expect(vitals.mood).toBeLessThan(25);
    expect(vitals.currentState).toBe('hungry');
    for (const value of Object.values(vitals)) if (typeof value === 'number') expect(Number.isFinite(value)).toBe(true);
  });
});
