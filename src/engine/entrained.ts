/**
 * The entrained day: θ_i, S and σ of a pet that has lived long enough in any timezone for its
 * body clock and sleep to lock onto the local day, as a function of the local minute. It is a
 * property of the parameters, not of the zone: with ψ = 2π(θ_i − θ_e) and light on local time,
 * the model is the same in every zone once time is read locally. So it is measured once per
 * parameter set with the engine's own advance, in UTC: 60 days from a rested pet whose clock is
 * on local time, then one more day minute by minute (1440 entries; σ is discrete and S turns at
 * onsets, so no interpolation). A newborn takes the entry of its local minute of birth.
 */
import { advance } from './advance.js';
import { DEFAULT_DAY_PARAMS, DEFAULT_DAY_TABLE } from './entrained-table.js';
import { constantsOf, DEFAULT_PARAMS, type LifeParams } from './params.js';
import { wrapHalf } from './rhythm.js';
import { TICKS_PER_DAY } from './time.js';
import type { LifeState } from './types.js';

/** Days simulated before the recorded day (the first night after a neutral start is off by hours). */
export const ENTRAINMENT_WARMUP_DAYS = 60;
/**
 * The recorded day must repeat: θ_i (cycles) and S at its end within this of its start, and the
 * same σ. A pet whose clock cannot lock (no light, K = 0, K too weak for ν) never gets there.
 */
export const ENTRAINMENT_PERIODIC_TOLERANCE = 1e-6;

/** One local day of the entrained cycle, indexed by local minute 0–1439. */
export interface EntrainedDay {
  /** θ_i at the start of each local minute, cycles. */
  readonly internalPhase: Float64Array;
  /** S at the start of each local minute. */
  readonly sleepPressure: Float64Array;
  /** σ during each local minute (1 asleep). */
  readonly asleep: Uint8Array;
  /** Local minute of the sleep onset (the first asleep minute after an awake one). */
  readonly onsetMinute: number;
  /** Local minute of the waking (the first awake minute after an asleep one). */
  readonly wakeMinute: number;
}

/** The neutral start: awake, S 0.2, clock on local time, at 12:00 UTC of day 0 (tick 720). */
function neutralStart(): LifeState {
  const tick = TICKS_PER_DAY / 2;
  return {
    tick,
    timezone: 'UTC',
    internalPhase: 0.5,
    sleepPressure: 0.2,
    asleep: false,
    satiety: 0.7,
    bond: 0,
    mood: 60,
    lastInteractionTick: tick,
    lastCalibrationTick: tick,
    wokenByPlayTick: null,
    lastEvent: null,
    stats: { feed: 0, play: 0, greet: 0 },
  };
}

/**
 * Measures the entrained day of `params` with the engine (costly on a cold process:
 * docs/operations.md, "Cold start, step by step"). Null when the parameters do not entrain.
 * entrainedDay() answers DEFAULT_PARAMS from the generated table.
 */
export function measureEntrainedDay(params: LifeParams): EntrainedDay | null {
  constantsOf(params);
  // Interactions would end the neglect-free stretch: none happen, so neglect sets in after 12 h;
  // it touches only mood and bond, never θ_i, S or σ.
  let state = advance(neutralStart(), ENTRAINMENT_WARMUP_DAYS * TICKS_PER_DAY, params).state;
  const first = state;
  const internalPhase = new Float64Array(TICKS_PER_DAY);
  const sleepPressure = new Float64Array(TICKS_PER_DAY);
  const asleep = new Uint8Array(TICKS_PER_DAY);
  for (let minute = 0; minute < TICKS_PER_DAY; minute++) {
    if (minute > 0) state = advance(state, state.tick + 1, params).state;
    internalPhase[minute] = state.internalPhase;
    sleepPressure[minute] = state.sleepPressure;
    asleep[minute] = state.asleep ? 1 : 0;
  }
  const last = advance(state, state.tick + 1, params).state;
  const periodic =
    last.asleep === first.asleep &&
    Math.abs(wrapHalf(last.internalPhase - first.internalPhase)) < ENTRAINMENT_PERIODIC_TOLERANCE &&
    Math.abs(last.sleepPressure - first.sleepPressure) < ENTRAINMENT_PERIODIC_TOLERANCE;
  let onsetMinute = -1;
  let wakeMinute = -1;
  for (let minute = 0; minute < TICKS_PER_DAY; minute++) {
    const before = asleep[(minute + TICKS_PER_DAY - 1) % TICKS_PER_DAY];
    if (asleep[minute] === 1 && before === 0) onsetMinute = onsetMinute < 0 ? minute : onsetMinute;
    if (asleep[minute] === 0 && before === 1) wakeMinute = wakeMinute < 0 ? minute : wakeMinute;
  }
  if (!periodic || onsetMinute < 0 || wakeMinute < 0) return null;
  return { internalPhase, sleepPressure, asleep, onsetMinute, wakeMinute };
}

/**
 * The entrained day of DEFAULT_PARAMS from entrained-table.ts, which `npm run gen:entrained`
 * writes with measureEntrainedDay (test/engine/entrained-table.test.ts checks they are equal).
 * Null when the table was made from other parameters than today's DEFAULT_PARAMS.
 */
function defaultDayFromTable(): EntrainedDay | null {
  if (DEFAULT_DAY_PARAMS !== JSON.stringify(DEFAULT_PARAMS)) return null;
  const numbers = (text: string) => Float64Array.from(text.split(','), Number);
  const { internalPhase, sleepPressure, asleep, onsetMinute, wakeMinute } = DEFAULT_DAY_TABLE;
  return {
    internalPhase: numbers(internalPhase),
    sleepPressure: numbers(sleepPressure),
    asleep: Uint8Array.from(asleep, (bit) => (bit === '1' ? 1 : 0)),
    onsetMinute,
    wakeMinute,
  };
}

const cache = new WeakMap<LifeParams, EntrainedDay | null>();

/**
 * The entrained day of `params`, kept per parameter object. DEFAULT_PARAMS' day is read from the
 * generated table (measuring it would cost a cold process, on the first request of a cold
 * serverless function, far more than reading it); other parameters are measured on first use (see
 * docs/life-model.md). Null when the parameters do not entrain (constant darkness, K = 0, or a
 * clock too far from 24 h for its light): such a pet has no usual hour.
 */
export function entrainedDay(params: LifeParams): EntrainedDay | null {
  if (cache.has(params)) return cache.get(params) ?? null;
  const day = (params === DEFAULT_PARAMS ? defaultDayFromTable() : undefined) ?? measureEntrainedDay(params);
  cache.set(params, day);
  return day;
}
