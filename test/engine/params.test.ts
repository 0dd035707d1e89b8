/**
 * Parameter validation (docs/life-model.md §Parameters): the invariants that keep every pet from
 * being stuck awake, asleep or on the unstable equilibrium, each refused with a RangeError.
 */
import { describe, expect, it } from 'vitest';
import { advance, createLifeState, createParams, DEFAULT_PARAMS, validateParams } from '../../src/engine/index.js';
import type { LifeParams } from '../../src/engine/params.js';

describe('params', () => {
  it('accepts the defaults and freezes them', () => {
    expect(validateParams(DEFAULT_PARAMS)).toBe(DEFAULT_PARAMS);
    expect(Object.isFrozen(DEFAULT_PARAMS)).toBe(true);
  });

  it.each<[string, Partial<LifeParams>, string]>([
    ['τ_i within 0.05 h of T_e', { internalPeriodHours: 24.03 }, 'internalPeriodHours'],
    ['τ_i equal to T_e', { internalPeriodHours: 24 }, 'internalPeriodHours'],
    ['a wake threshold that can reach 0', { wakeThreshold: 0.12 }, 'wakeThreshold'],
    ['a sleep threshold that can reach 1', { sleepThreshold: 0.88 }, 'sleepThreshold'],
    ['thresholds in the wrong order', { sleepThreshold: 0.3, wakeThreshold: 0.4, circadianAmplitude: 0.05 }, 'sleepThreshold'],
    ['a negative coupling', { couplingPerHour: -0.01 }, 'couplingPerHour'],
    ['a NaN time constant', { tauWakeHours: Number.NaN }, 'tauWakeHours'],
    ['a zero time constant', { tauSleepHours: 0 }, 'tauSleepHours'],
    ['a fractional dawn', { dawnMinute: 360.5 }, 'dawnMinute'],
    ['a dusk past midnight', { duskMinute: 1440 }, 'duskMinute'],
    ['mood weights not summing to 1', { moodBase: 0.3 }, 'moodBase'],
    ['a neglect penalty above 100·m₀', { neglectPenalty: 25 }, 'neglectPenalty'],
    ['a fractional neglect delay', { neglectAfterTicks: 10.5 }, 'neglectAfterTicks'],
  ])('rejects %s with a RangeError naming the field', (_, overrides, field) => {
    expect(() => createParams(overrides)).toThrow(RangeError);
    expect(() => createParams(overrides)).toThrow(field);
  });

  it('accepts τ_i just outside the forbidden band and any dawn/dusk, including constant darkness', () => {
    expect(() => createParams({ internalPeriodHours: 24.05 })).not.toThrow();
    expect(() => createParams({ dawnMinute: 1200, duskMinute: 300 })).not.toThrow();
    expect(() => createParams({ dawnMinute: 0, duskMinute: 0 })).not.toThrow();
  });

  it('validates params passed straight to the engine', () => {
    const bad = { ...DEFAULT_PARAMS, circadianAmplitude: 0.5 };
    const state = createLifeState({ tick: 0 });
    expect(() => advance(state, 10, bad)).toThrow(RangeError);
  });
});
