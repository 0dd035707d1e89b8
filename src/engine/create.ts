/**
 * New pets and timezone moves. A newborn is born entrained to its local time of birth: the body
 * clock, sleep pressure and sleep state of a pet that has always lived in its zone, at that local
 * minute (entrained.ts), so it sleeps its first night at its usual hour. Moving a pet to another
 * zone shifts the external day at once and leaves the body clock where it was (jet lag, which
 * light then entrains away over days) — except in its first hour before any interaction, where
 * the move counts as a birth in the new zone.
 */
import { entrainedDay } from './entrained.js';
import { constantsOf, DEFAULT_PARAMS, type LifeParams } from './params.js';
import { assertTimezone, localMinute, modulo, TICKS_PER_DAY, utcOffsetMinutes } from './time.js';
import { externalPhase } from './rhythm.js';
import type { LifeState } from './types.js';

/**
 * How a newborn's body clock and sleep start. `entrained`: as a pet that has always lived in its
 * zone has them at that local minute. `rested`: awake, S 0.2, clock on local time (the seed's
 * newborn; the science tests start from it). Parameters that do not entrain give `rested`.
 */
export type Birth = 'entrained' | 'rested';

/** Options of createLifeState. */
export interface CreateLifeStateOptions {
  /** Absolute tick of birth (minutes since the Unix epoch, pet's world clock). */
  tick: number;
  /** IANA timezone of the pet's external day. @default 'UTC' */
  timezone?: string;
  /** Model parameters (validated here). @default DEFAULT_PARAMS */
  params?: LifeParams;
  /** @default 'entrained' */
  birth?: Birth;
}

/** Sleep pressure of a `rested` newborn (and of stored pets missing their energy system). */
export const NEWBORN_SLEEP_PRESSURE = 0.2;
/** Satiety of a newborn (hunger 30). */
export const NEWBORN_SATIETY = 0.7;
/** Mood of a newborn, 0–100. */
export const NEWBORN_MOOD = 60;

/** A newborn pet at `tick`: θ_i, S and σ by `birth`; satiety 0.7, mood 60, bond 0, no events. */
export function createLifeState(options: CreateLifeStateOptions): LifeState {
  const { tick, timezone = 'UTC', params = DEFAULT_PARAMS, birth = 'entrained' } = options;
  if (!Number.isSafeInteger(tick)) throw new RangeError('tick must be an integer');
  assertTimezone(timezone);
  constantsOf(params);
  return {
    tick,
    timezone,
    ...bodyAtBirth(timezone, tick, params, birth),
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

/** θ_i, S and σ of a newborn at `tick` in `timezone`. */
function bodyAtBirth(
  timezone: string,
  tick: number,
  params: LifeParams,
  birth: Birth,
): Pick<LifeState, 'internalPhase' | 'sleepPressure' | 'asleep'> {
  const day = birth === 'entrained' ? entrainedDay(params) : null;
  if (day === null) {
    return { internalPhase: externalPhase(tick, utcOffsetMinutes(timezone, tick)), sleepPressure: NEWBORN_SLEEP_PRESSURE, asleep: false };
  }
  // The entrained cycle is the same function of local time in every zone (DST included): the
  // table's θ_i at this local minute already carries the phase angle of entrainment.
  const minute = localMinute(timezone, tick);
  return {
    internalPhase: day.internalPhase[minute] as number,
    sleepPressure: day.sleepPressure[minute] as number,
    asleep: day.asleep[minute] === 1,
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
 * A pet younger than this many ticks (by its own clock) that nobody has interacted with yet is
 * moved by setTimezone as if born in the new zone: an owner fixing the zone of a pet just created
 * in the wrong one should not give it jet lag.
 */
export const NEWBORN_MOVE_TICKS = 60;

/**
 * The pet moved to `timezone`: its external day (dawn, dusk, local time) follows at once, its
 * internal phase stays, so the difference shows as jet lag. A newborn (no interaction yet, its
 * birth — its last interaction tick — under NEWBORN_MOVE_TICKS ago) is instead re-born entrained
 * in the new zone, keeping its satiety, mood, bond and birth tick. Throws RangeError for an
 * unknown zone.
 */
export function setTimezone(state: LifeState, timezone: string, params: LifeParams = DEFAULT_PARAMS): LifeState {
  assertTimezone(timezone);
  if (timezone === state.timezone) return state;
  if (!isNewborn(state)) return { ...state, timezone };
  return {
    ...state,
    timezone,
    ...bodyAtBirth(timezone, state.tick, params, 'entrained'),
    lastCalibrationTick: lastDawnTick(timezone, state.tick, params),
    wokenByPlayTick: null,
    lastEvent: null,
  };
}

/** No interaction yet (every one counts in stats and sets the last interaction tick) and young. */
function isNewborn(state: LifeState): boolean {
  const { feed, play, greet } = state.stats;
  return feed + play + greet === 0 && state.tick - state.lastInteractionTick < NEWBORN_MOVE_TICKS;
}
