/**
 * Long random runs (up to a simulated year, random parameters and interactions): every value
 * stays finite and in range, and no pet is ever stuck awake or asleep.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { advance, interact, vitalsOf, type Action, type LifeState } from '../../src/engine/index.js';
import { DEFAULT_PARAMS, type LifeParams } from '../../src/engine/params.js';
import { DAY, paramsArb, stateArb } from './support.js';

function expectInRange(state: LifeState, params: LifeParams): void {
  expect(Number.isSafeInteger(state.tick)).toBe(true);
  expect(state.internalPhase >= 0 && state.internalPhase < 1).toBe(true);
  for (const value of [state.sleepPressure, state.satiety, state.bond]) expect(value >= 0 && value <= 1).toBe(true);
  expect(state.mood >= 0 && state.mood <= 100).toBe(true);
  const vitals = vitalsOf(state, params);
  for (const [name, value] of Object.entries(vitals)) {
    if (typeof value === 'number') expect(Number.isFinite(value), name).toBe(true);
  }
  for (const value of [vitals.energy, vitals.hunger, vitals.mood]) expect(value >= 0 && value <= 100).toBe(true);
  expect(vitals.circadianValue >= 0 && vitals.circadianValue <= 1).toBe(true);
  expect(vitals.phaseDifference >= -0.5 && vitals.phaseDifference < 0.5).toBe(true);
}

const stepArb = fc.record({
  ticks: fc.oneof(fc.integer({ min: 0, max: 90 }), fc.integer({ min: 0, max: 40 * DAY })),
  action: fc.option(fc.constantFrom<Action>('feed', 'play', 'greet')),
});

describe('ranges', () => {
  it('keeps every value finite and in range over runs of up to a year with interactions', () => {
    fc.assert(
      fc.property(
        stateArb,
        fc.option(paramsArb, { freq: 2 }),
        fc.array(stepArb, { minLength: 1, maxLength: 40 }),
        (start, maybeParams, steps) => {
          const params = maybeParams ?? DEFAULT_PARAMS;
          let state = start;
          for (const { ticks, action } of steps) {
            if (state.tick - start.tick + ticks > 365 * DAY) break;
            const { state: next, report } = advance(state, state.tick + ticks, params);
            for (const value of [report.lowestEnergy, report.highestHunger, report.lowestMood]) {
              expect(value >= 0 && value <= 100).toBe(true);
            }
            state = action ? interact(next, action, params).state : next;
            expectInRange(state, params);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('never leaves a pet stuck awake or asleep beyond the hard bounds', () => {
    fc.assert(
      fc.property(stateArb, paramsArb, fc.integer({ min: 5, max: 30 }), (start, params, days) => {
        // Bounds of docs/life-model.md §Parameters: S must reach H₀⁺ + a awake from 0, or fall to
        // H₀⁻ − a asleep from 1.
        const awakeBound = params.tauWakeHours * Math.log(1 / (1 - params.sleepThreshold - params.circadianAmplitude));
        const asleepBound = params.tauSleepHours * Math.log(1 / (params.wakeThreshold - params.circadianAmplitude));
        let state = start;
        let since = start.tick;
        for (let d = 0; d < days; d++) {
          const { state: next, report } = advance(state, state.tick + DAY, params);
          for (const event of report.events) {
            if (event.kind === 'got_hungry') continue;
            const bound = event.kind === 'fell_asleep' ? awakeBound : asleepBound;
            expect((event.tick - since) / 60).toBeLessThanOrEqual(bound + 1 / 60);
            since = event.tick;
          }
          state = next;
          expectInRange(state, params);
        }
        expect((state.tick - since) / 60).toBeLessThanOrEqual(Math.max(awakeBound, asleepBound) + 1 / 60);
      }),
      { numRuns: 60 },
    );
  });

  it('survives a decade alone without drifting out of range', () => {
    fc.assert(
      fc.property(stateArb, (start) => {
        let state = start;
        for (let year = 0; year < 10; year++) state = advance(state, state.tick + 365 * DAY).state;
        expectInRange(state, DEFAULT_PARAMS);
        expect(vitalsOf(state).hunger).toBe(100);
      }),
      { numRuns: 5 },
    );
  });
});
