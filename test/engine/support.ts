/**
 * Helpers of the engine tests: random states and parameters (fast-check), the two ways of
 * running a pet (one advance per interval vs one tick at a time), state comparison and
 * sleep-episode extraction in local time.
 */
import fc from 'fast-check';
import { advance, interact, localMinute, tick } from '../../src/engine/index.js';
import { createParams, DEFAULT_PARAMS, type LifeParams } from '../../src/engine/params.js';
import type { Action, AdvanceEvent, LifeState } from '../../src/engine/types.js';
import { at } from '../helpers/must.js';

/** 2024-01-01 00:00 UTC as a tick. */
export const T2024 = Math.floor(Date.UTC(2024, 0, 1) / 60_000);
export const DAY = 1440;

/** Zones with DST, half-hour and 45-minute offsets, and a 30-minute DST shift. */
export const ZONES = [
  'UTC',
  'Asia/Shanghai',
  'America/New_York',
  'Europe/London',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'America/St_Johns',
  'Pacific/Chatham',
] as const;

/** `minute` of the day as HH:MM. */
export function hhmm(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

/** Signed difference a − b of two local minutes, wrapped to [−720, 720), in minutes. */
export function minuteDiff(a: number, b: number): number {
  return ((((a - b + 720) % DAY) + DAY) % DAY) - 720;
}

export interface ScheduledAction {
  /** Ticks after the run's start. */
  at: number;
  action: Action;
}

export interface Run {
  state: LifeState;
  /** Sleep onsets and wakings, in order (an advance reports only its last 64). */
  events: AdvanceEvent[];
  sleeps: number;
  wakes: number;
}

function sorted(actions: readonly ScheduledAction[]): ScheduledAction[] {
  return [...actions].sort((a, b) => a.at - b.at);
}

/** Runs `ticks` ticks with one advance per stretch between interactions. */
export function runByAdvance(
  start: LifeState,
  ticks: number,
  actions: readonly ScheduledAction[] = [],
  params: LifeParams = DEFAULT_PARAMS,
): Run {
  let state = start;
  const run: Run = { state, events: [], sleeps: 0, wakes: 0 };
  const step = (toTick: number) => {
    const { state: next, report } = advance(state, toTick, params);
    run.events.push(...report.events);
    run.sleeps += report.sleeps;
    run.wakes += report.wakes;
    state = next;
  };
  for (const { at, action } of sorted(actions)) {
    step(start.tick + at);
    state = interact(state, action, params).state;
  }
  step(start.tick + ticks);
  run.state = state;
  return run;
}

/** Runs `ticks` ticks one tick(s, 1) at a time, interactions at the same ticks. */
export function runByTicks(
  start: LifeState,
  ticks: number,
  actions: readonly ScheduledAction[] = [],
  params: LifeParams = DEFAULT_PARAMS,
): Run {
  const queue = sorted(actions);
  let next = 0;
  let state = start;
  const run: Run = { state, events: [], sleeps: 0, wakes: 0 };
  for (let i = 0; ; i++) {
    while (next < queue.length && at(queue, next).at === i) {
      state = interact(state, at(queue, next).action, params).state;
      next++;
    }
    if (i === ticks) break;
    const { state: after, report } = tick(state, 1, params);
    run.events.push(...report.events);
    run.sleeps += report.sleeps;
    run.wakes += report.wakes;
    state = after;
  }
  run.state = state;
  return run;
}

/** Largest difference of each numeric field (θ_i modulo 1) and whether the rest is identical. */
export function compareStates(a: LifeState, b: LifeState): { maxDiff: Record<string, number>; sameDiscrete: boolean } {
  const phase = Math.abs(a.internalPhase - b.internalPhase);
  const maxDiff = {
    internalPhase: Math.min(phase, 1 - phase),
    sleepPressure: Math.abs(a.sleepPressure - b.sleepPressure),
    satiety: Math.abs(a.satiety - b.satiety),
    bond: Math.abs(a.bond - b.bond),
    mood: Math.abs(a.mood - b.mood),
  };
  const discrete = (s: LifeState) =>
    JSON.stringify([s.tick, s.timezone, s.asleep, s.lastInteractionTick, s.lastCalibrationTick, s.wokenByPlayTick, s.lastEvent, s.stats]);
  return { maxDiff, sameDiscrete: discrete(a) === discrete(b) };
}

/** Sleep episodes (onset, waking) in local minutes, from a list of events. */
export function sleepEpisodes(
  events: readonly AdvanceEvent[],
  timezone: string,
): { onsetTick: number; wakeTick: number; onset: number; wake: number }[] {
  const episodes = [];
  // A hunger crossing may fall inside a night: pair onsets with wakings only.
  events = events.filter((event) => event.kind !== 'got_hungry');
  for (let i = 0; i + 1 < events.length; i++) {
    const onset = at(events, i);
    const wake = at(events, i + 1);
    if (onset.kind !== 'fell_asleep' || wake.kind !== 'woke_up') continue;
    episodes.push({
      onsetTick: onset.tick,
      wakeTick: wake.tick,
      onset: localMinute(timezone, onset.tick),
      wake: localMinute(timezone, wake.tick),
    });
  }
  return episodes;
}

/** A random state anywhere in 2020–2030, in one of ZONES, with any values in range. */
export const stateArb: fc.Arbitrary<LifeState> = fc
  .record({
    tick: fc.integer({ min: T2024 - 4 * 365 * DAY, max: T2024 + 6 * 365 * DAY }),
    timezone: fc.constantFrom(...ZONES),
    internalPhase: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    sleepPressure: fc.oneof(fc.constantFrom(0, 0.05, 0.79, 1), fc.double({ min: 0, max: 1, noNaN: true })),
    asleep: fc.boolean(),
    satiety: fc.double({ min: 0, max: 1, noNaN: true }),
    bond: fc.double({ min: 0, max: 1, noNaN: true }),
    mood: fc.double({ min: 0, max: 100, noNaN: true }),
    sinceInteraction: fc.integer({ min: 0, max: 2000 }),
    wokenAgo: fc.option(fc.integer({ min: 0, max: 60 })),
  })
  .map(({ sinceInteraction, wokenAgo, ...s }) => ({
    ...s,
    lastInteractionTick: s.tick - sinceInteraction,
    lastCalibrationTick: s.tick - 600,
    wokenByPlayTick: wokenAgo === null ? null : s.tick - wokenAgo,
    lastEvent: null,
    stats: { feed: 0, play: 0, greet: 0 },
  }));

/** Random interactions at ticks within [0, ticks]. */
export function actionsArb(ticks: number, maxLength: number): fc.Arbitrary<ScheduledAction[]> {
  return fc.array(
    fc.record({
      at: fc.integer({ min: 0, max: ticks }),
      action: fc.constantFrom<Action>('feed', 'play', 'greet'),
    }),
    { maxLength },
  );
}

/** Random valid parameters over the reference's stress ranges (K, a, τ_i, dawn/dusk, thresholds). */
export const paramsArb: fc.Arbitrary<LifeParams> = fc
  .record({
    couplingPerHour: fc.double({ min: 0, max: 0.3, noNaN: true }),
    internalPeriodHours: fc.double({ min: 23, max: 25.5, noNaN: true }),
    dawnMinute: fc.integer({ min: 0, max: 1439 }),
    duskMinute: fc.integer({ min: 0, max: 1439 }),
    sleepThreshold: fc.double({ min: 0.55, max: 0.78, noNaN: true }),
    wakeThreshold: fc.double({ min: 0.1, max: 0.3, noNaN: true }),
    amplitude: fc.double({ min: 0.02, max: 0.2, noNaN: true }),
    circadianPeakPhase: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  })
  .map(({ amplitude, internalPeriodHours, ...rest }) =>
    createParams({
      ...rest,
      // Keep τ_i away from T_e and the thresholds inside (0, 1) at every phase.
      internalPeriodHours: Math.abs(internalPeriodHours - 24) < 0.05 ? 24.2 : internalPeriodHours,
      circadianAmplitude: Math.min(amplitude, rest.wakeThreshold - 0.01, 0.99 - rest.sleepThreshold),
    }),
  );

/** Asserts |actual − expected| ≤ tolerance, naming both in the failure. */
export function expectNear(actual: number | undefined, expected: number, tolerance: number): void {
  if (actual === undefined || !(Math.abs(actual - expected) <= tolerance)) {
    throw new Error(`expected ${actual} to be within ${tolerance} of ${expected}`);
  }
}
