/**
 * The composition law of docs/design.md §2: advancing in one call equals ticking one minute at a time
 * (within 1e-9, identical flips), advances compose at any cut, and the engine is deterministic.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { advance, createLifeState, interact } from '../../src/engine/index.js';
import { DEFAULT_PARAMS } from '../../src/engine/params.js';
import { actionsArb, compareStates, DAY, paramsArb, runByAdvance, runByTicks, stateArb, T2024, type Run } from './support.js';

const TOLERANCE = 1e-9;

function expectSameRun(a: Run, b: Run): Record<string, number> {
  const { maxDiff, sameDiscrete } = compareStates(a.state, b.state);
  for (const [field, diff] of Object.entries(maxDiff)) {
    expect(diff, field).toBeLessThanOrEqual(TOLERANCE);
  }
  expect(sameDiscrete).toBe(true);
  expect([a.sleeps, a.wakes]).toEqual([b.sleeps, b.wakes]);
  // `a` advanced in long calls, whose reports keep only their last 64 events.
  expect(a.events).toEqual(b.events.slice(b.events.length - a.events.length));
  return maxDiff;
}

describe('composition law', () => {
  it('gives the same state in one advance as in single ticks, with random interactions', () => {
    fc.assert(
      fc.property(
        stateArb,
        fc.integer({ min: 1, max: 3 * DAY }).chain((ticks) => fc.tuple(fc.constant(ticks), actionsArb(ticks, 12))),
        (start, [ticks, actions]) => {
          expectSameRun(runByAdvance(start, ticks, actions), runByTicks(start, ticks, actions));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('holds for random parameters (coupling, thresholds, period, any dawn and dusk)', () => {
    fc.assert(
      fc.property(
        stateArb,
        paramsArb,
        fc.integer({ min: 1, max: 2 * DAY }).chain((ticks) => fc.tuple(fc.constant(ticks), actionsArb(ticks, 8))),
        (start, params, [ticks, actions]) => {
          expectSameRun(runByAdvance(start, ticks, actions, params), runByTicks(start, ticks, actions, params));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('holds over 30 days with 90 interactions, across DST changes', () => {
    // 2024-03-01 in New York: the run crosses the 10 March DST change.
    const startTick = Math.floor(Date.UTC(2024, 2, 1, 5) / 60_000);
    const start = { ...createLifeState({ tick: startTick, timezone: 'America/New_York' }), internalPhase: 0.9 };
    const ticks = 30 * DAY;
    const actions = fc.sample(actionsArb(ticks, 90), { seed: 42, numRuns: 1 })[0] ?? [];
    const byAdvance = runByAdvance(start, ticks, actions);
    const byTicks = runByTicks(start, ticks, actions);
    const maxDiff = expectSameRun(byAdvance, byTicks);
    expect(byAdvance.events.length).toBeGreaterThanOrEqual(50);
    // Reference: θ_i 2.4e−14, S 3e−15, mood 1e−11 over 30 days.
    expect(maxDiff['internalPhase']).toBeLessThan(1e-12);
    expect(maxDiff['mood']).toBeLessThan(1e-10);
  });

  it('holds over 30 days from random starts with up to 90 interactions', () => {
    fc.assert(
      fc.property(stateArb, actionsArb(30 * DAY, 90), (start, actions) => {
        expectSameRun(runByAdvance(start, 30 * DAY, actions), runByTicks(start, 30 * DAY, actions));
      }),
      { numRuns: 3 },
    );
  });

  it('composes at random cuts: advance(a→c) equals advance(b→c) after advance(a→b)', () => {
    fc.assert(
      fc.property(
        stateArb,
        fc.array(fc.integer({ min: 0, max: 20 * DAY }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 20 * DAY }),
        (start, cuts, length) => {
          const end = start.tick + length;
          const points = [...cuts.map((c) => start.tick + (c % length)), end].sort((a, b) => a - b);
          let chained = start;
          for (const point of points) chained = advance(chained, point).state;
          const whole = advance(start, end).state;
          const { maxDiff, sameDiscrete } = compareStates(whole, chained);
          expect(sameDiscrete).toBe(true);
          for (const diff of Object.values(maxDiff)) expect(diff).toBeLessThanOrEqual(TOLERANCE);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('simulates a year in one call as in 12 and in 52 chained calls', () => {
    const start = interact(createLifeState({ tick: T2024, timezone: 'Europe/London' }), 'feed').state;
    const end = start.tick + 365 * DAY;
    const whole = advance(start, end);
    for (const parts of [12, 52]) {
      let chained = start;
      let sleeps = 0;
      for (let i = 1; i <= parts; i++) {
        const result = advance(chained, start.tick + Math.round((i * (end - start.tick)) / parts));
        chained = result.state;
        sleeps += result.report.sleeps;
      }
      const { maxDiff, sameDiscrete } = compareStates(whole.state, chained);
      expect(sameDiscrete).toBe(true);
      for (const diff of Object.values(maxDiff)) expect(diff).toBeLessThanOrEqual(1e-12);
      expect(sleeps).toBe(whole.report.sleeps);
    }
    expect(whole.report.sleeps).toBeGreaterThanOrEqual(364);
    expect(whole.report.sleeps).toBeLessThanOrEqual(366);
  });

  it('equals 525 600 single ticks over a simulated year', () => {
    const start = { ...createLifeState({ tick: T2024 + 300, timezone: 'Asia/Shanghai' }), internalPhase: 0.3 };
    const byAdvance = runByAdvance(start, 365 * DAY);
    const byTicks = runByTicks(start, 365 * DAY);
    const maxDiff = expectSameRun(byAdvance, byTicks);
    // Reference over 365 days: θ_i 2.2e−14, mood 4.5e−12.
    expect(maxDiff['internalPhase']).toBeLessThan(1e-12);
  });

  it('is deterministic: the same inputs give the same outputs, bit for bit', () => {
    fc.assert(
      fc.property(stateArb, fc.integer({ min: 1, max: 10 * DAY }), (start, ticks) => {
        const a = advance(start, start.tick + ticks);
        const b = advance(structuredClone(start), start.tick + ticks);
        expect(b).toEqual(a);
      }),
      { numRuns: 30 },
    );
  });

  it('returns the same state and an empty report for a zero-length advance', () => {
    const state = createLifeState({ tick: T2024 });
    const { state: next, report } = advance(state, state.tick, DEFAULT_PARAMS);
    expect(next).toBe(state);
    expect(report).toMatchObject({ ticks: 0, sleeps: 0, wakes: 0, minutesAsleep: 0, segments: 0, events: [] });
  });
});
