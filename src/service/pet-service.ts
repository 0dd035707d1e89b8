/**
 * The pet adapter (the seed's LifeAdapter): getState, interact, catchup, reset, update and
 * forecast, each as a plan run by runOnPet — one load, at most one compare-and-set save per
 * attempt, whatever the number of ticks. Input reaching here is already parsed; the checks
 * below guard callers other than HTTP (the CLI, tests).
 */
import { performance } from 'node:perf_hooks';
import {
  ACTIONS,
  createLifeState,
  interact as applyInteraction,
  isValidTimezone,
  setTimezone,
  vitalsOf,
  type Action,
  type AdvanceReport,
  type Lang,
  type LifeState,
} from '../engine/index.js';
import { InvalidInputError } from '../errors.js';
import type { StorageDriver } from '../storage/index.js';
import { systemClock, type Clock } from './clock.js';
import { documentOf, lifeReportOf } from './document.js';
import { marksOf, moveTo } from './live-pet.js';
import { jitteredBackoff, runOnPet, type Plan, type RunDeps, type RunResult } from './run-on-pet.js';
import { forecastOf } from './forecast.js';
import { fastForward } from './time-model.js';
import type { Answer, CatchupReport, Forecast, StateDocument } from './types.js';

/** Catch-up is bounded to ten years of simulated time. */
export const MAX_CATCHUP_HOURS = 87_600;
/** Forecasts look at most a week ahead. */
export const MAX_FORECAST_HOURS = 168;
export const PET_NAME_MAX_LENGTH = 64;

export interface PetServiceOptions {
  storage: StorageDriver;
  /** Where wall-clock time comes from. @default systemClock */
  clock?: Clock;
  /** Simulated ms per wall ms; 0 = time moves only by catch-up. @default 1 */
  timeScale?: number;
  /** Name of a new pet. @default '小糖' */
  defaultPetName?: string;
  /** IANA timezone of a new pet. @default 'UTC' */
  defaultTimezone?: string;
  /** Compare-and-set attempts before ConflictRetriesExhaustedError. @default 20 */
  maxAttempts?: number;
  /** Delay before the next attempt, ms. @default full-jitter exponential, at most 64 ms */
  backoffMs?: (attempt: number) => number;
}

export interface ViewOptions {
  /** Language of texts. @default 'zh' */
  lang?: Lang;
}

export interface PetUpdate {
  pet_name?: string;
  timezone?: string;
}

export interface ForecastOptions {
  /** Hours ahead, 1–168. @default 24 */
  hours?: number;
  /** Minutes between points, 1–60. @default 10 */
  stepMinutes?: number;
}

export interface PetService {
  /** Loads the pet (creating it on first sight) and brings it to now. */
  getState(petId: string, options?: ViewOptions): Promise<Answer<StateDocument>>;
  /** Brings the pet to now, then applies `action`. */
  interact(petId: string, action: Action, options?: ViewOptions): Promise<Answer<StateDocument>>;
  /** Brings the pet to now, then fast-forwards its world clock by `hours` (0 < hours ≤ 87600). */
  catchup(petId: string, hours: number, options?: ViewOptions): Promise<Answer<StateDocument>>;
  /** Starts the pet's life over (keeping its name, timezone and world clock). */
  reset(petId: string, options?: ViewOptions): Promise<Answer<StateDocument>>;
  /** Renames the pet and/or moves it to another timezone. */
  update(petId: string, update: PetUpdate, options?: ViewOptions): Promise<Answer<StateDocument>>;
  /** Simulates the next hours from now without saving anything (one read, zero writes). */
  forecast(petId: string, options?: ForecastOptions): Promise<Answer<Forecast>>;
  /**
   * Runs a custom plan through the same load → advance → apply → compare-and-set path
   * (issue #5 builds idempotency and auth on this).
   */
  run<R>(petId: string, plan: Plan<R>): Promise<Answer<RunResult<R>>>;
}

function assertAction(action: unknown): asserts action is Action {
  if (!(ACTIONS as readonly unknown[]).includes(action)) {
    throw new InvalidInputError('invalid_action', `action must be one of ${ACTIONS.join(', ')}`);
  }
}

function assertCatchupHours(hours: number): void {
  if (!Number.isFinite(hours) || hours <= 0 || hours > MAX_CATCHUP_HOURS) {
    throw new InvalidInputError('invalid_body', `hours must be a number above 0 and at most ${MAX_CATCHUP_HOURS}`);
  }
}

/** The report of an interval in which no whole tick passed. */
function emptyReport(state: LifeState): AdvanceReport {
  const vitals = vitalsOf(state);
  const now = { energy: vitals.energy, hunger: vitals.hunger, mood: vitals.mood };
  return {
    fromTick: state.tick,
    toTick: state.tick,
    ticks: 0,
    sleeps: 0,
    wakes: 0,
    minutesAsleep: 0,
    lowestEnergy: vitals.energy,
    highestHunger: vitals.hunger,
    lowestMood: vitals.mood,
    start: now,
    end: { ...now },
    events: [],
    segments: 0,
  };
}

function assertUpdate(update: PetUpdate): void {
  if (update.pet_name === undefined && update.timezone === undefined) {
    throw new InvalidInputError('invalid_body', 'send pet_name and/or timezone');
  }
  if (update.pet_name !== undefined) {
    const name = update.pet_name.trim();
    if (name.length === 0 || name.length > PET_NAME_MAX_LENGTH || /\p{Cc}/u.test(name)) {
      throw new InvalidInputError('invalid_body', `pet_name must be 1–${PET_NAME_MAX_LENGTH} characters without control characters`);
    }
  }
  if (update.timezone !== undefined && !isValidTimezone(update.timezone)) {
    throw new InvalidInputError('invalid_timezone', 'timezone must be an IANA timezone name such as Asia/Shanghai or UTC');
  }
}

function documentAnswer(answer: Answer<RunResult<unknown>>, lang: Lang): StateDocument {
  return documentOf(answer.value.pet, answer.value.version, lang);
}

/** Creates the pet service over a storage driver. */
export function createPetService(options: PetServiceOptions): PetService {
  const deps: RunDeps = {
    storage: options.storage,
    clock: options.clock ?? systemClock,
    timeScale: options.timeScale ?? 1,
    defaults: { petName: options.defaultPetName ?? '小糖', timezone: options.defaultTimezone ?? 'UTC' },
    maxAttempts: options.maxAttempts ?? 20,
    backoffMs: options.backoffMs ?? jitteredBackoff(),
  };
  if (!Number.isFinite(deps.timeScale) || deps.timeScale < 0) throw new RangeError('timeScale must be a finite number ≥ 0');
  if (!isValidTimezone(deps.defaults.timezone)) throw new RangeError('defaultTimezone must be an IANA timezone name');
  if (!Number.isInteger(deps.maxAttempts) || deps.maxAttempts < 1) throw new RangeError('maxAttempts must be an integer ≥ 1');

  const run = <R>(petId: string, plan: Plan<R>) => runOnPet(deps, petId, plan);
  const answer = (result: Answer<RunResult<unknown>>, lang: Lang = 'zh', extend?: (document: StateDocument) => void) => {
    const document = documentAnswer(result, lang);
    extend?.(document);
    return { value: document, roundTrips: result.roundTrips, attempts: result.attempts };
  };

  return {
    run,

    async getState(petId, view = {}) {
      const result = await run(petId, { apply: () => ({ changed: false, result: null }) });
      return answer(result, view.lang);
    },

    async interact(petId, action, view = {}) {
      assertAction(action);
      const result = await run(petId, {
        apply: (pet) => {
          const outcome = applyInteraction(pet.state, action);
          pet.state = outcome.state;
          return { changed: true, result: { action: outcome.action, event: outcome.event.kind } };
        },
      });
      return answer(result, view.lang, (document) => {
        document.interaction = result.value.result;
      });
    },

    async catchup(petId, hours, view = {}) {
      assertCatchupHours(hours);
      const lang = view.lang ?? 'zh';
      const result = await run(petId, {
        apply: (pet) => {
          const started = performance.now();
          const report = moveTo(pet, fastForward(marksOf(pet), hours)) ?? emptyReport(pet.state);
          const tookMs = performance.now() - started;
          const catchup: CatchupReport = {
            ...lifeReportOf(report, lang),
            requested_hours: hours,
            took_ms: Math.round(tookMs * 1000) / 1000,
          };
          return { changed: true, result: catchup };
        },
      });
      return answer(result, lang, (document) => {
        document.catchup = result.value.result;
      });
    },

    async reset(petId, view = {}) {
      const result = await run(petId, {
        apply: (pet, nowMs) => {
          pet.state = createLifeState({ tick: pet.state.tick, timezone: pet.meta.timezone });
          pet.meta = { ...pet.meta, created_at: new Date(nowMs).toISOString() };
          // The new life starts now: what the old one did while away is no news.
          pet.away = null;
          return { changed: true, result: null };
        },
      });
      return answer(result, view.lang);
    },

    async update(petId, update, view = {}) {
      assertUpdate(update);
      const result = await run(petId, {
        apply: (pet) => {
          if (update.pet_name !== undefined) pet.meta = { ...pet.meta, pet_name: update.pet_name.trim() };
          if (update.timezone !== undefined && update.timezone !== pet.meta.timezone) {
            pet.state = setTimezone(pet.state, update.timezone);
            pet.meta = { ...pet.meta, timezone: update.timezone };
          }
          return { changed: true, result: null };
        },
      });
      return answer(result, view.lang);
    },

    async forecast(petId, forecastOptions = {}) {
      const hours = forecastOptions.hours ?? 24;
      const stepMinutes = forecastOptions.stepMinutes ?? 10;
      if (!Number.isFinite(hours) || hours < 1 || hours > MAX_FORECAST_HOURS) {
        throw new InvalidInputError('invalid_query', `hours must be a number from 1 to ${MAX_FORECAST_HOURS}`);
      }
      if (!Number.isInteger(stepMinutes) || stepMinutes < 1 || stepMinutes > 60) {
        throw new InvalidInputError('invalid_query', 'step_minutes must be an integer from 1 to 60');
      }
      const result = await run(petId, {
        readOnly: true,
        apply: (pet) => ({ changed: false, result: forecastOf(pet, hours, stepMinutes) }),
      });
      return { value: result.value.result, roundTrips: result.roundTrips, attempts: result.attempts };
    },
  };
}
