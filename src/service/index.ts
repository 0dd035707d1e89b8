/** The service layer: the pet adapter over storage, the clock seam and the time model. */
export { createManualClock, systemClock } from './clock.js';
export type { Clock, ManualClock } from './clock.js';
export { AWAY_REPORT_MIN_TICKS, documentOf, lifeReportOf } from './document.js';
export type { LivePet, PetDefaults } from './live-pet.js';
export {
  createPetService,
  MAX_CATCHUP_HOURS,
  MAX_FORECAST_HOURS,
  PET_NAME_MAX_LENGTH,
} from './pet-service.js';
export type { ForecastOptions, PetService, PetServiceOptions, PetUpdate, ViewOptions } from './pet-service.js';
export { jitteredBackoff, runOnPet } from './run-on-pet.js';
export type { Change, Plan, RunDeps, RunResult } from './run-on-pet.js';
export { bringToNow, fastForward, MS_PER_HOUR, MS_PER_TICK, tickOf, TICKS_PER_HOUR } from './time-model.js';
export type { TimeMarks } from './time-model.js';
export type {
  Answer,
  CatchupReport,
  Forecast,
  ForecastPoint,
  InteractionReport,
  LifeReport,
  StateDocument,
} from './types.js';
export { formatZoned } from './zoned-time.js';
