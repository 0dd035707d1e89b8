/**
 * Stored form of a state: one snake_case JSON object per system (types.ts), readable by clients
 * of the original Python server. Derived fields are written for readers and ignored on load;
 * times are Unix seconds (tick·60). fromSystems is tolerant: missing systems get newborn values,
 * and state written by the Python server (rhythm + energy only) loads with S derived from energy.
 */
import { lastDawnTick, NEWBORN_MOOD, NEWBORN_SATIETY, NEWBORN_SLEEP_PRESSURE } from './create.js';
import { CorruptSystemsError } from './errors.js';
import { satietyOfHunger } from './needs.js';
import { constantsOf, DEFAULT_PARAMS, type LifeParams } from './params.js';
import { externalPhase, wrapUnit } from './rhythm.js';
import { circadianDrive } from './sleep.js';
import { assertTimezone, utcOffsetMinutes } from './time.js';
import {
  ACTIONS,
  LIFE_EVENT_KINDS,
  type InteractionStats,
  type LifeEvent,
  type LifeEventKind,
  type LifeState,
  type SystemName,
  type Systems,
} from './types.js';
import { pressureFromEnergy, vitalsOf } from './vitals.js';

const SECONDS_PER_TICK = 60;

/** The stored systems of `state`, derived fields included (energy, rates, phases, hunger…). */
export function toSystems(state: LifeState, params: LifeParams = DEFAULT_PARAMS): Systems {
  const vitals = vitalsOf(state, params);
  const now = state.tick * SECONDS_PER_TICK;
  return {
    rhythm: {
      internal_phase: state.internalPhase,
      external_phase: vitals.externalPhase,
      phase_difference: vitals.phaseDifference,
      last_calibration: state.lastCalibrationTick * SECONDS_PER_TICK,
      last_update: now,
    },
    energy: {
      energy: vitals.energy,
      consumption_rate: vitals.consumptionRate,
      recovery_rate: vitals.recoveryRate,
      circadian_value: vitals.circadianValue,
      sleep_pressure: state.sleepPressure,
      asleep: state.asleep,
      last_update: now,
    },
    satiety: { satiety: state.satiety, hunger: vitals.hunger, last_update: now },
    mood: {
      mood: state.mood,
      bond: state.bond,
      neglected: vitals.neglected,
      last_interaction: state.lastInteractionTick * SECONDS_PER_TICK,
      woken_by_play: state.wokenByPlayTick === null ? null : state.wokenByPlayTick * SECONDS_PER_TICK,
      last_event: state.lastEvent === null ? null : { kind: state.lastEvent.kind, at: state.lastEvent.tick * SECONDS_PER_TICK },
      last_update: now,
    },
    stats: { ...state.stats },
  };
}

/** Options of fromSystems. */
export interface FromSystemsOptions {
  /** IANA timezone of the pet (kept in the pet's meta, not in the systems). */
  timezone: string;
  /** Tick of the state; default floor(last_update / 60) of the first system that has one. */
  tick?: number;
  /** @default DEFAULT_PARAMS */
  params?: LifeParams;
}

type Fields = Record<string, unknown>;

/**
 * Reads stored systems into a state. Missing systems get newborn values; numbers must be finite
 * and in range, else CorruptSystemsError. fromSystems(toSystems(s), {timezone: s.timezone})
 * equals s exactly. Throws RangeError for an unknown timezone or a non-integer tick.
 */
export function fromSystems(systems: Partial<Record<SystemName, unknown>>, options: FromSystemsOptions): LifeState {
  const { timezone, params = DEFAULT_PARAMS } = options;
  assertTimezone(timezone);
  const constants = constantsOf(params);
  if (typeof systems !== 'object' || systems === null) throw new CorruptSystemsError('systems', null, 'not an object');
  const rhythm = objectOf(systems, 'rhythm');
  const energy = objectOf(systems, 'energy');
  const satietySystem = objectOf(systems, 'satiety');
  const moodSystem = objectOf(systems, 'mood');
  const statsSystem = objectOf(systems, 'stats');

  const tick = options.tick ?? tickFromStored([rhythm, energy, satietySystem, moodSystem]);
  if (!Number.isSafeInteger(tick)) throw new RangeError('tick must be an integer');

  const internalPhase = rhythm
    ? wrapUnit(numberIn(rhythm, 'rhythm', 'internal_phase', 0, 1))
    : externalPhase(tick, utcOffsetMinutes(timezone, tick));
  const lastCalibrationTick =
    rhythm && rhythm['last_calibration'] !== undefined
      ? Math.min(tick, storedTick(rhythm, 'rhythm', 'last_calibration'))
      : lastDawnTick(timezone, tick, params);

  let sleepPressure = NEWBORN_SLEEP_PRESSURE;
  let asleep = false;
  if (energy) {
    if (energy['sleep_pressure'] !== undefined) {
      sleepPressure = numberIn(energy, 'energy', 'sleep_pressure', 0, 1);
    } else if (energy['energy'] !== undefined) {
      // Python server: only energy 0–100; invert the energy mapping at the stored body clock.
      const drive = circadianDrive(internalPhase, params.circadianPeakPhase);
      sleepPressure = pressureFromEnergy(numberIn(energy, 'energy', 'energy', 0, 100), drive, constants);
    }
    if (energy['asleep'] !== undefined) {
      if (typeof energy['asleep'] !== 'boolean') throw new CorruptSystemsError('energy', 'asleep', 'not a boolean');
      asleep = energy['asleep'];
    }
  }

  let satiety = NEWBORN_SATIETY;
  if (satietySystem) {
    if (satietySystem['satiety'] !== undefined) satiety = numberIn(satietySystem, 'satiety', 'satiety', 0, 1);
    else if (satietySystem['hunger'] !== undefined) {
      satiety = satietyOfHunger(numberIn(satietySystem, 'satiety', 'hunger', 0, 100));
    }
  }

  let mood = NEWBORN_MOOD;
  let bond = 0;
  let lastInteractionTick = tick;
  let wokenByPlayTick: number | null = null;
  let lastEvent: LifeEvent | null = null;
  if (moodSystem) {
    if (moodSystem['mood'] !== undefined) mood = numberIn(moodSystem, 'mood', 'mood', 0, 100);
    if (moodSystem['bond'] !== undefined) bond = numberIn(moodSystem, 'mood', 'bond', 0, 1);
    if (moodSystem['last_interaction'] !== undefined) {
      lastInteractionTick = Math.min(tick, storedTick(moodSystem, 'mood', 'last_interaction'));
    }
    if (moodSystem['woken_by_play'] !== undefined && moodSystem['woken_by_play'] !== null) {
      wokenByPlayTick = Math.min(tick, storedTick(moodSystem, 'mood', 'woken_by_play'));
    }
    lastEvent = eventOf(moodSystem['last_event'], tick);
  }

  const stats: InteractionStats = { feed: 0, play: 0, greet: 0 };
  if (statsSystem) {
    for (const action of ACTIONS) {
      const count = statsSystem[action];
      if (count === undefined) continue;
      if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
        throw new CorruptSystemsError('stats', action, 'not a non-negative integer');
      }
      stats[action] = count;
    }
    const visits = statsSystem['visits'];
    if (visits !== undefined) {
      if (typeof visits !== 'number' || !Number.isSafeInteger(visits) || visits < 0) {
        throw new CorruptSystemsError('stats', 'visits', 'not a non-negative integer');
      }
      stats.visits = visits;
    }
  }

  return {
    tick,
    timezone,
    internalPhase,
    sleepPressure,
    asleep,
    satiety,
    bond,
    mood,
    lastInteractionTick,
    lastCalibrationTick,
    wokenByPlayTick,
    lastEvent,
    stats,
  };
}

function objectOf(systems: Partial<Record<SystemName, unknown>>, name: SystemName): Fields | null {
  const value = systems[name];
  if (value === undefined || value === null) return null;
  if (!isFields(value)) throw new CorruptSystemsError(name, null, 'not an object');
  return value;
}

function numberIn(fields: Fields, system: string, field: string, min: number, max: number): number {
  const value = fields[field];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new CorruptSystemsError(system, field, 'not a finite number');
  }
  if (value < min || value > max) throw new CorruptSystemsError(system, field, `outside [${min}, ${max}]`);
  return value;
}

/** A Unix-seconds field as the tick containing it. */
function storedTick(fields: Fields, system: string, field: string, key = field): number {
  const seconds = fields[key];
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
    throw new CorruptSystemsError(system, field, 'not a finite number of Unix seconds');
  }
  const tick = Math.floor(seconds / SECONDS_PER_TICK);
  if (!Number.isSafeInteger(tick)) throw new CorruptSystemsError(system, field, 'out of range');
  return tick;
}

function tickFromStored(candidates: (Fields | null)[]): number {
  const names: SystemName[] = ['rhythm', 'energy', 'satiety', 'mood'];
  for (const [index, fields] of candidates.entries()) {
    if (fields && fields['last_update'] !== undefined) return storedTick(fields, names[index] ?? 'systems', 'last_update');
  }
  throw new CorruptSystemsError('systems', 'last_update', 'no system says when it was written; pass options.tick');
}

function eventOf(value: unknown, tick: number): LifeEvent | null {
  if (value === undefined || value === null) return null;
  if (!isFields(value)) throw new CorruptSystemsError('mood', 'last_event', 'not an object');
  const kind = value['kind'];
  if (!isEventKind(kind)) throw new CorruptSystemsError('mood', 'last_event', 'unknown kind');
  return { kind, tick: Math.min(tick, storedTick(value, 'mood', 'last_event.at', 'at')) };
}

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEventKind(value: unknown): value is LifeEventKind {
  return typeof value === 'string' && (LIFE_EVENT_KINDS as readonly string[]).includes(value);
}
