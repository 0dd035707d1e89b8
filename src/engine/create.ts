/**
 * New pets and timezone moves. A newborn starts awake with little sleep pressure, its body clock
 * in phase with its external day; moving it to another zone shifts the external day at once and
 * leaves the body clock where it was (jet lag, which light then entrains away over days).
 */
import { constantsOf, DEFAULT_PARAMS, type LifeParams } from './params.js';
import { assertTimezone, localMinute, modulo, TICKS_PER_DAY, utcOffsetMinutes } from './time.js';
import { externalPhase } from './rhythm.js';
import type { LifeState } from './types.js';

/** Options of createLifeState. */
export interface CreateLifeStateOptions {
  /** Absolute tick of birth (minutes since the Unix epoch, pet's world clock). */
  tick: number;
  /** IANA timezone of the pet's external day. @default 'UTC' */
  timezone?: string;
  /** Model parameters (validated here). @default DEFAULT_PARAMS */
  params?: LifeParams;
}

/** Sleep pressure of a newborn: rested, as after a night's sleep. */
export const NEWBORN_SLEEP_PRESSURE = 0.2;
/** Satiety of a newborn (hunger 30). */
export const NEWBORN_SATIETY = 0.7;
/** Mood of a newborn, 0–100. */
export const NEWBORN_MOOD = 60;

/** A newborn pet at `tick`: awake, S 0.2, satiety 0.7, mood 60, bond 0, body clock on local time. */
export function createLifeState(options: CreateLifeStateOptions): LifeState {
  const { tick, timezone = 'UTC', params = DEFAULT_PARAMS } = options;
  if (!Number.isSafeInteger(tick)) throw new RangeError('tick must be an integer');
  assertTimezone(timezone);
  constantsOf(params);
  return {
    tick,
    timezone,
    internalPhase: externalPhase(tick, utcOffsetMinutes(timezone, tick)),
    sleepPressure: NEWBORN_SLEEP_PRESSURE,
    asleep: false,
    satiety: NEWBORN_SATIETY,
    bond: 0,
    mood: NEWBORN_MOOD,
    lastInteractionTick: tick,
    lastCalibrationTick: lastDawnTick(timezone, tick, params),
    wokenByPlayTick: null,
    lastEvent: null,
    stats: { feed: 0, play: 0, greet: 0 },
  };
}

/**
 * The most recent dawn at or before `tick` (by today's UTC offset; a DST change in between moves
 * it by the change), or `tick` itself when the parameters have no daylight at all.
 */
export function lastDawnTick(timezone: string, tick: number, params: LifeParams): number {
  if (params.dawnMinute === params.duskMinute) return tick;
  return tick - modulo(localMinute(timezone, tick) - params.dawnMinute, TICKS_PER_DAY);
}

/**
 * The pet moved to `timezone`: its external day (dawn, dusk, local time) follows at once, its
 * internal phase stays, so the difference shows as jet lag. Throws RangeError for an unknown zone.
 */
export function setTimezone(state: LifeState, timezone: string): LifeState {
  assertTimezone(timezone);
  if (timezone === state.timezone) return state;
  return { ...state, timezone };
}
