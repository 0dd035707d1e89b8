/**
 * Derived quantities (docs/life-model.md §Derived fields): energy mapping, rates, circadian value,
 * phase difference sign and the `current_state` rule.
 */
import { describe, expect, it } from 'vitest';
import { advance, createLifeState, tick, vitalsOf, type LifeState, type Vitals } from '../../src/engine/index.js';
import { currentStateOf } from '../../src/engine/vitals.js';
import { DAY, expectNear, T2024 } from './support.js';
import { at } from '../helpers/must.js';

/** One entrained day sampled every minute, from local midnight (UTC). */
function entrainedDay(): { state: LifeState; vitals: Vitals }[] {
  let state = advance(createLifeState({ tick: T2024 + 12 * 60 }), T2024 + 30 * DAY).state;
  const day = [];
  for (let i = 0; i < DAY; i++) {
    day.push({ state, vitals: vitalsOf(state) });
    state = tick(state).state;
  }
  return day;
}

describe('vitals', () => {
  const day = entrainedDay();
  const vitalsAt = (minute: number) => at(day, minute).vitals;
  const onset = day.findIndex((d, i) => i > 0 && d.state.asleep && !at(day, i - 1).state.asleep);
  const waking = day.findIndex((d, i) => i > 0 && !d.state.asleep && at(day, i - 1).state.asleep);

  it('maps energy to 0 at sleep onset and about 100 at waking', () => {
    expect(vitalsAt(onset).energy).toBe(0);
    expect(vitalsAt(waking).energy).toBeGreaterThan(95);
    expectNear(vitalsAt(12 * 60).energy, 85, 1);
    expectNear(vitalsAt(18 * 60).energy, 50, 1);
  });

  it('spends 10.0 energy/h at waking falling to 4.1 at bedtime, and recovers 29.8/h at onset to 4.5 at waking', () => {
    expectNear(vitalsAt(waking).consumptionRate, 10.0, 0.1);
    expectNear(vitalsAt(onset - 1).consumptionRate, 4.1, 0.1);
    expect(vitalsAt(onset).consumptionRate).toBe(0);
    expectNear(vitalsAt(onset).recoveryRate, 29.8, 0.2);
    expectNear(vitalsAt(waking - 1).recoveryRate, 4.5, 0.1);
    expect(vitalsAt(waking).recoveryRate).toBe(0);
  });

  it('puts the circadian low near 03:20 and the high near 15:20 local', () => {
    const values = day.map((d) => d.vitals.circadianValue);
    const low = values.indexOf(Math.min(...values));
    const high = values.indexOf(Math.max(...values));
    expect(Math.abs(low - (3 * 60 + 20))).toBeLessThanOrEqual(10);
    expect(Math.abs(high - (15 * 60 + 20))).toBeLessThanOrEqual(10);
  });

  it('reports the body clock 17–23 min behind local time once entrained (phase_difference > 0)', () => {
    for (const { vitals } of day) {
      expect(vitals.phaseDifference).toBeGreaterThanOrEqual(0.0115);
      expect(vitals.phaseDifference).toBeLessThanOrEqual(0.0165);
    }
  });

  it('knows light from dawn to dusk and the local minute of the tick', () => {
    expect(vitalsAt(5 * 60 + 59).light).toBe(false);
    expect(vitalsAt(6 * 60).light).toBe(true);
    expect(vitalsAt(17 * 60 + 59).light).toBe(true);
    expect(vitalsAt(18 * 60).light).toBe(false);
    expect(vitalsAt(12 * 60).localMinute).toBe(720);
    expectNear(vitalsAt(12 * 60).externalPhase, 0.5, 1e-12);
  });

  it('applies the current_state rule in order', () => {
    // asleep, grumpy after waking, hunger, energy, mood, play, bored/neglect, idle
    expect(currentStateOf(true, true, 90, 10, 10, true)).toBe('sleep');
    expect(currentStateOf(false, true, 90, 10, 10, true)).toBe('grumpy');
    expect(currentStateOf(false, false, 70, 10, 10, true)).toBe('hungry');
    expect(currentStateOf(false, false, 69, 24.9, 10, true)).toBe('sleepy');
    expect(currentStateOf(false, false, 69, 25, 30, true)).toBe('grumpy');
    expect(currentStateOf(false, false, 69, 60, 70, true)).toBe('play');
    expect(currentStateOf(false, false, 69, 59, 80, true)).toBe('bored');
    expect(currentStateOf(false, false, 69, 59, 49.9, false)).toBe('bored');
    expect(currentStateOf(false, false, 69, 59, 50, false)).toBe('idle');
  });

  it('is sleepy in the evening before bedtime, from about 20:25', () => {
    const fed = day.map((d) => vitalsOf({ ...d.state, satiety: 1, mood: 60, lastInteractionTick: d.state.tick }));
    const firstSleepy = fed.findIndex((v) => v.currentState === 'sleepy');
    expect(Math.abs(firstSleepy - (20 * 60 + 25))).toBeLessThanOrEqual(10);
  });
});
