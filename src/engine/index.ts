/**
 * The life engine's public surface: pure functions from a state and a tick to a new state.
 * Other layers import only from here; files inside the engine import each other directly.
 */
export { advance, NEXT_EVENT_HORIZON_TICKS, nextLifeEvent, tick, type NextLifeEvent } from './advance.js';
export { describeAway } from './away-report.js';
export { createLifeState, NEWBORN_MOVE_TICKS, setTimezone, type Birth, type CreateLifeStateOptions } from './create.js';
export { entrainedDay, type EntrainedDay } from './entrained.js';
export { CorruptSystemsError, UnknownActionError } from './errors.js';
export { express, simplify } from './expression.js';
export { interact } from './interact.js';
export {
  createParams,
  DEFAULT_PARAMS,
  DEFAULT_VISIT_PARAMS,
  validateParams,
  type LifeParams,
  type VisitParams,
} from './params.js';
export { fromSystems, toSystems, type FromSystemsOptions } from './systems.js';
export {
  canonicalTimezone,
  isValidTimezone,
  localMinute,
  msFromTick,
  MS_PER_TICK,
  TICKS_PER_DAY,
  TICKS_PER_HOUR,
  tickFromMs,
  utcOffsetMinutes,
} from './time.js';
export {
  ACTIONS,
  ADVANCE_EVENT_KINDS,
  CURRENT_STATES,
  LANGS,
  LIFE_EVENT_KINDS,
  SYSTEM_NAMES,
  type Action,
  type AdvanceEvent,
  type AdvanceEventKind,
  type AdvanceReport,
  type AdvanceResult,
  type CurrentState,
  type EnergySystem,
  type Expression,
  type InteractionResult,
  type InteractionStats,
  type Lang,
  type LifeEvent,
  type LifeEventKind,
  type LifeState,
  type MoodSystem,
  type RhythmSystem,
  type SatietySystem,
  type SimplifiedState,
  type StatsSystem,
  type SystemName,
  type Systems,
  type Vitals,
} from './types.js';
export { HUNGRY_AT, vitalsOf } from './vitals.js';
export { applyVisit, fadedFamiliarity, hungerShare, visitEffect, type VisitEffect, type VisitOutcome } from './visit.js';
