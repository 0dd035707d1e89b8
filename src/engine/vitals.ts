/**
 * Quantities derived from a state at its tick: energy 0–100, rates, hunger, phases and the
 * seed's `current_state` (docs/life-model.md §Mapping). Nothing here is stored.
 */
import { hungerOf } from './needs.js';
import { constantsOf, DEFAULT_PARAMS, type LifeParams, type ModelConstants } from './params.js';
import { externalPhase, isLight, wrapHalf } from './rhythm.js';
import { circadianDrive } from './sleep.js';
import { modulo, TICKS_PER_DAY, utcOffsetMinutes } from './time.js';
import type { CurrentState, LifeState, Vitals } from './types.js';

/** Hunger (0–100) from which `current_state` says hungry, and at which advancing reports got_hungry. */
export const HUNGRY_AT = 70;

/** Ticks during which a pet woken by play stays grumpy. */
export const GRUMPY_AFTER_WAKING_TICKS = 30;

/**
 * Energy 0–100 = 100·(H − S)/(H₀⁺ − H₀⁻) with H = H₀⁺ + a·C, clamped: 0 at the sleep threshold,
 * 100 when S sits on the wake threshold's level below it.
 */
export function energyFrom(pressure: number, drive: number, constants: ModelConstants): number {
  const p = constants.params;
  const energy = (100 * (p.sleepThreshold + p.circadianAmplitude * drive - pressure)) / constants.thresholdSpan;
  return Math.min(100, Math.max(0, energy));
}

/** The sleep pressure S that gives `energy` (0–100) at circadian drive C, clamped to [0, 1]. */
export function pressureFromEnergy(energy: number, drive: number, constants: ModelConstants): number {
  const p = constants.params;
  const pressure = p.sleepThreshold + p.circadianAmplitude * drive - (energy * constants.thresholdSpan) / 100;
  return Math.min(1, Math.max(0, pressure));
}

/** Energy 0–100 of `state` at its tick. */
export function energyOf(state: LifeState, constants: ModelConstants): number {
  return energyFrom(state.sleepPressure, circadianDrive(state.internalPhase, constants.params.circadianPeakPhase), constants);
}

/** Whether the pet is neglected at its tick (no interaction for neglectAfterTicks or more). */
export function isNeglected(state: LifeState, params: LifeParams): boolean {
  return state.tick - state.lastInteractionTick >= params.neglectAfterTicks;
}

/** Everything derived from `state` at its tick; `params` must be those the state evolves with. */
export function vitalsOf(state: LifeState, params: LifeParams = DEFAULT_PARAMS): Vitals {
  const constants = constantsOf(params);
  const offset = utcOffsetMinutes(state.timezone, state.tick);
  const minute = modulo(state.tick + offset, TICKS_PER_DAY);
  const external = externalPhase(state.tick, offset);
  const drive = circadianDrive(state.internalPhase, params.circadianPeakPhase);
  const energy = energyFrom(state.sleepPressure, drive, constants);
  const hunger = hungerOf(state.satiety);
  const neglected = isNeglected(state, params);
  const grumpyAfterWaking = state.wokenByPlayTick !== null && state.tick - state.wokenByPlayTick < GRUMPY_AFTER_WAKING_TICKS;
  const scale = 100 / constants.thresholdSpan;
  return {
    tick: state.tick,
    localMinute: minute,
    utcOffsetMinutes: offset,
    externalPhase: external,
    internalPhase: state.internalPhase,
    phaseDifference: wrapHalf(external - state.internalPhase),
    circadianValue: (1 + drive) / 2,
    sleepPressure: state.sleepPressure,
    asleep: state.asleep,
    energy,
    consumptionRate: state.asleep ? 0 : (scale * (1 - state.sleepPressure)) / params.tauWakeHours,
    recoveryRate: state.asleep ? (scale * state.sleepPressure) / params.tauSleepHours : 0,
    hunger,
    mood: state.mood,
    bond: state.bond,
    neglected,
    light: isLight(minute, params.dawnMinute, params.duskMinute),
    grumpyAfterWaking,
    currentState: currentStateOf(state.asleep, grumpyAfterWaking, hunger, energy, state.mood, neglected),
  };
}

/**
 * The seed's seven states, first match wins (thresholds after the seed's rule; both rules in
 * docs/life-model.md §Interactions and §What the original server did): sleep, woken by play →
 * grumpy, hungry, sleepy, low mood → grumpy, play, bored, idle.
 */
export function currentStateOf(
  asleep: boolean,
  grumpyAfterWaking: boolean,
  hunger: number,
  energy: number,
  mood: number,
  neglected: boolean,
): CurrentState {
  if (asleep) return 'sleep';
  if (grumpyAfterWaking) return 'grumpy';
  if (hunger >= HUNGRY_AT) return 'hungry';
  if (energy < 25) return 'sleepy';
  if (mood <= 30) return 'grumpy';
  if (energy >= 60 && mood >= 70) return 'play';
  if (neglected || mood < 50) return 'bored';
  return 'idle';
}
