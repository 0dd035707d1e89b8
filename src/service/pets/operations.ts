// Request path: what each request does to a pet, as an Operation.
/**
 * What each request does to a pet, as an Operation: the access it needs, how it changes the pet
 * (run inside runOnPet, so it may run again on fresh state after a compare-and-set conflict) and
 * the value it answers. Input reaching here is already parsed; the checks guard callers other
 * than HTTP (the CLI, tests) and run before any I/O.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  canonicalTimezone,
  createLifeState,
  interact as applyInteraction,
  setTimezone,
  vitalsOf,
  type Action,
  type AdvanceReport,
  type Lang,
  type LifeState,
} from '../../engine/index.js';
import { AlreadyClaimedError, AlreadyExistsError, InvalidInputError, NotFoundError } from '../../errors.js';
import {
  ACTION_MESSAGE,
  isAction,
  CATCHUP_HOURS_MESSAGE,
  FORECAST_HOURS_MESSAGE,
  isPetName,
  MAX_CATCHUP_HOURS,
  MAX_FORECAST_HOURS,
  MAX_FORECAST_STEP_MINUTES,
  PET_NAME_MESSAGE,
  STEP_MINUTES_MESSAGE,
  TIMEZONE_MESSAGE,
  UPDATE_MESSAGE,
} from '../../rules.js';
import { hashSecret, newClaimSecret, type AccessNeed } from './access.js';
import { documentOf, lifeReportOf } from './document.js';
import { forecastOf } from './forecast.js';
import { marksOf, moveTo, type LivePet, type PetDefaults } from './live-pet.js';
import { lifeEventDrafts, petEventDraft } from '../events/pet-events.js';
import { fastForward, MAX_WORLD_MS, MS_PER_HOUR } from './time-model.js';
import type { PetEventDraft } from '../../storage/index.js';
import type { CatchupReport, Forecast, StateDocument } from './types.js';

/** Points one forecast answers at most (a week at a 6-minute step is 1,681). */
export const MAX_FORECAST_POINTS = 2_000;
/**
 * How far catch-ups may put a pet's world clock ahead of the wall clock: 100 years. A catch-up
 * past it is refused (400) rather than stored and failing later.
 */
export const MAX_CLOCK_AHEAD_HOURS = 876_000;
/** Simulated hours of catch-up that count as one more request in the rate limits (≈ 6 weeks, little engine work). */
export const CATCHUP_HOURS_PER_UNIT = 1_000;
/** Forecast points that count as one more request in the rate limits. */
export const FORECAST_POINTS_PER_UNIT = 200;

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

/** What a claim answers, once: the secret itself is never stored. */
export interface ClaimResult {
  device_id: string;
  /** 256 random bits, base64url; send it as `Authorization: Bearer <secret>`. */
  secret: string;
}

/** What an operation did, and how to present it once the pet is saved (or not). */
export interface Applied<T> {
  /** The pet changed and must be saved. */
  changed: boolean;
  /** The answer, from the pet as it stands at `version` (call after the pet is final). */
  present: (version: number) => T;
  /** Events of the operation itself (docs/design.md §9), saved with the change. */
  events?: readonly PetEventDraft[];
}

/** One thing a request does to a pet. */
export interface Operation<T> {
  /** `write` needs the claim secret on a claimed pet; `read` only when reads require auth. */
  access: AccessNeed;
  /** Never saves, whatever happened (forecast): no save, no idempotency record, no queue. */
  savesNothing?: boolean;
  /**
   * Changes nothing itself (a state read) but may save the catch-up to now: skips the per-pet
   * queue, so readers of one pet never wait on each other; that save is still a compare-and-set.
   */
  changesNothing?: boolean;
  /**
   * The answer depends only on the stored pet and this key whenever the request saves nothing
   * (no tick passed, nothing changed): the service may answer it from its read cache.
   */
  cacheKey?: string;
  /**
   * Starts the pet over (reset): it may replace a pet whose stored state cannot be read, by
   * whoever may change it (its secret when the meta still names one, else the admin token).
   */
  startsOver?: boolean;
  /** Units the request counts for in the rate limits: the work it asks for. @default 1 */
  weight?: number;
  /** Refuses before any change, after access and idempotency checks (a second claim). */
  check?: (pet: LivePet) => void;
  /** Name and timezone of the pet if this request creates it (POST /api/pets, a first GET). */
  birth?: Partial<PetDefaults>;
  /** Changes the pet (replacing `pet.state`, editing `pet.meta`). */
  apply: (pet: LivePet, nowMs: number) => Applied<T>;
}

function assertAction(action: unknown): asserts action is Action {
  if (!isAction(action)) {
    throw new InvalidInputError('invalid_action', ACTION_MESSAGE);
  }
}

function assertCatchupHours(hours: number): void {
  if (!Number.isFinite(hours) || hours <= 0 || hours > MAX_CATCHUP_HOURS) {
    throw new InvalidInputError('invalid_body', CATCHUP_HOURS_MESSAGE);
  }
}

/** The trimmed name; throws unless it is a pet name (rules.ts). */
function checkedName(name: string): string {
  const trimmed = name.trim();
  if (!isPetName(trimmed)) throw new InvalidInputError('invalid_body', PET_NAME_MESSAGE);
  return trimmed;
}

/** The canonical spelling of `timezone` (`asia/shanghai` → `Asia/Shanghai`); throws unless the runtime knows it. */
function checkedTimezone(timezone: string): string {
  const canonical = canonicalTimezone(timezone);
  if (canonical === null) throw new InvalidInputError('invalid_timezone', TIMEZONE_MESSAGE);
  return canonical;
}

/** The update with its timezone in canonical spelling; throws on bad input. */
function checkedUpdate(update: PetUpdate): PetUpdate {
  if (update.pet_name === undefined && update.timezone === undefined) {
    throw new InvalidInputError('invalid_body', UPDATE_MESSAGE);
  }
  if (update.pet_name !== undefined) checkedName(update.pet_name);
  if (update.timezone === undefined) return update;
  return { ...update, timezone: checkedTimezone(update.timezone) };
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
    hungers: 0,
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

/** The state document, extended by `extend`, as the answer of a change or a read. */
const documentAnswer =
  (pet: LivePet, lang: Lang, extend?: (document: StateDocument) => void) =>
  (version: number): StateDocument => {
    const document = documentOf(pet, version, lang);
    extend?.(document);
    return document;
  };

/** What a new pet may be given (POST /api/pets). */
export interface PetBirth {
  pet_name?: string;
  timezone?: string;
}

function birthOf(input: PetBirth): Partial<PetDefaults> {
  const birth: Partial<PetDefaults> = {};
  if (input.pet_name !== undefined) birth.petName = checkedName(input.pet_name);
  if (input.timezone !== undefined) birth.timezone = checkedTimezone(input.timezone);
  return birth;
}

/** A new pet id: `pet_` + 128 random bits, base64url (26 characters, URL-safe, never a leading `-`). */
export function newPetId(): string {
  return `pet_${randomBytes(16).toString('base64url')}`;
}

/**
 * Reads the pet, brought to now. A pet never seen is created, in `timezone` when given (ignored
 * for a pet that exists), else in the service's default zone.
 */
export function stateOperation(lang: Lang = 'zh', timezone?: string): Operation<StateDocument> {
  const birth = timezone === undefined ? null : birthOf({ timezone });
  return {
    access: 'read',
    changesNothing: true,
    cacheKey: `state:${lang}`,
    ...(birth === null ? {} : { birth }),
    apply: (pet) => ({ changed: false, present: documentAnswer(pet, lang) }),
  };
}

/**
 * Reads a stored pet brought to now, saving nothing (GET /api/pets?ids=: many pets in one round
 * trip). A pet never stored is NotFoundError: a multi-read creates nothing. The catch-up to now
 * is saved by the pet's next change or single read.
 */
export function peekOperation(lang: Lang = 'zh'): Operation<StateDocument> {
  return {
    access: 'read',
    savesNothing: true,
    // Its answer is a state read's whenever it saves nothing (no tick passed): the same cache entry.
    cacheKey: `state:${lang}`,
    check: (pet) => {
      if (pet.created) throw new NotFoundError(`no pet with the id ${pet.petId} is stored`);
    },
    apply: (pet) => ({ changed: false, present: documentAnswer(pet, lang) }),
  };
}

/**
 * Creates the pet, entrained to its local time of birth (engine createLifeState), named and in
 * the zone given or the service's defaults. AlreadyExistsError when anything is stored under its
 * id (checked on the load; the save expects version 0, so a concurrent creator loses the race,
 * reloads and gets the same error).
 */
export function createOperation(input: PetBirth = {}, lang: Lang = 'zh', owner: string | null = null): Operation<StateDocument> {
  const birth = birthOf(input);
  return {
    access: 'create',
    birth,
    check: (pet) => {
      if (!pet.created) throw new AlreadyExistsError(`a pet with the id ${pet.petId} already exists`);
    },
    apply: (pet, nowMs) => {
      // Created by an owner (docs/design.md §8): it holds the pet from its first save.
      if (owner !== null) pet.meta = { ...pet.meta, owners: [owner] };
      return {
        changed: true,
        present: documentAnswer(pet, lang),
        // No owner id: the log is open to strangers (docs/design.md §8).
        events: [petEventDraft('created', pet, nowMs)],
      };
    },
  };
}

/** Brings the pet to now, then applies `action`. */
export function interactOperation(action: Action, lang: Lang = 'zh'): Operation<StateDocument> {
  assertAction(action);
  return {
    access: 'write',
    apply: (pet, nowMs) => {
      const outcome = applyInteraction(pet.state, action);
      pet.state = outcome.state;
      const interaction = { action: outcome.action, event: outcome.event.kind };
      return {
        changed: true,
        events: [petEventDraft('interacted', pet, nowMs, { ...interaction })],
        present: documentAnswer(pet, lang, (document) => {
          document.interaction = interaction;
        }),
      };
    },
  };
}

/** Brings the pet to now, then fast-forwards its world clock by `hours` (0 < hours ≤ 87600). */
export function catchupOperation(hours: number, lang: Lang = 'zh'): Operation<StateDocument> {
  assertCatchupHours(hours);
  return {
    access: 'write',
    weight: 1 + Math.floor(hours / CATCHUP_HOURS_PER_UNIT),
    apply: (pet, nowMs) => {
      const targetMs = pet.meta.world_ms + hours * MS_PER_HOUR;
      const aheadHours = (targetMs - Math.max(nowMs, pet.meta.wall_ms)) / MS_PER_HOUR;
      if (aheadHours > MAX_CLOCK_AHEAD_HOURS || targetMs > MAX_WORLD_MS) {
        throw new InvalidInputError(
          'invalid_body',
          `this catch-up would put the pet's clock ${Math.round(aheadHours)} hours ahead of the wall clock; at most ${MAX_CLOCK_AHEAD_HOURS} (100 years) is allowed`,
        );
      }
      const started = performance.now();
      const report = moveTo(pet, fastForward(marksOf(pet), hours)) ?? emptyReport(pet.state);
      const tookMs = performance.now() - started;
      const catchup: CatchupReport = { ...lifeReportOf(report, lang), requested_hours: hours, took_ms: Math.round(tookMs * 1000) / 1000 };
      return {
        changed: true,
        // The catch-up's own advance: its sleep, waking and hunger events (bounded like any advance's).
        events: lifeEventDrafts(report.ticks > 0 ? report : null, pet.state.timezone, nowMs),
        present: documentAnswer(pet, lang, (document) => {
          document.catchup = catchup;
        }),
      };
    },
  };
}

/** Starts the pet's life over, keeping its name, timezone, world clock and claim. */
export function resetOperation(lang: Lang = 'zh'): Operation<StateDocument> {
  return {
    access: 'write',
    startsOver: true,
    apply: (pet, nowMs) => {
      pet.state = createLifeState({ tick: pet.state.tick, timezone: pet.meta.timezone });
      pet.meta = { ...pet.meta, created_at: new Date(nowMs).toISOString() };
      // The new life starts now: what the old one did while away is no news.
      pet.away = null;
      return { changed: true, present: documentAnswer(pet, lang), events: [petEventDraft('reset', pet, nowMs)] };
    },
  };
}

/** Renames the pet and/or moves it to another timezone. */
export function updateOperation(requested: PetUpdate, lang: Lang = 'zh'): Operation<StateDocument> {
  const update = checkedUpdate(requested);
  return {
    access: 'write',
    apply: (pet, nowMs) => {
      const data: PetUpdate = {};
      if (update.pet_name !== undefined) {
        data.pet_name = update.pet_name.trim();
        pet.meta = { ...pet.meta, pet_name: data.pet_name };
      }
      if (update.timezone !== undefined) data.timezone = update.timezone;
      if (update.timezone !== undefined && update.timezone !== pet.meta.timezone) {
        pet.state = setTimezone(pet.state, update.timezone);
        pet.meta = { ...pet.meta, timezone: update.timezone };
      }
      return { changed: true, present: documentAnswer(pet, lang), events: [petEventDraft('updated', pet, nowMs, { ...data })] };
    },
  };
}

/** Simulates the next hours from now without saving anything (one read, zero writes). */
export function forecastOperation(options: ForecastOptions = {}): Operation<Forecast> {
  const hours = options.hours ?? 24;
  const stepMinutes = options.stepMinutes ?? 10;
  if (!Number.isFinite(hours) || hours < 1 || hours > MAX_FORECAST_HOURS) {
    throw new InvalidInputError('invalid_query', FORECAST_HOURS_MESSAGE);
  }
  if (!Number.isInteger(stepMinutes) || stepMinutes < 1 || stepMinutes > MAX_FORECAST_STEP_MINUTES) {
    throw new InvalidInputError('invalid_query', STEP_MINUTES_MESSAGE);
  }
  const points = Math.floor((hours * 60) / stepMinutes) + 1;
  if (points > MAX_FORECAST_POINTS) {
    const step = Math.ceil((hours * 60) / (MAX_FORECAST_POINTS - 1));
    throw new InvalidInputError(
      'invalid_query',
      `a forecast answers at most ${MAX_FORECAST_POINTS} points; for ${hours} hours use step_minutes of at least ${step}`,
    );
  }
  return {
    access: 'read',
    savesNothing: true,
    weight: 1 + Math.floor(points / FORECAST_POINTS_PER_UNIT),
    apply: (pet) => {
      const forecast = forecastOf(pet, hours, stepMinutes);
      return { changed: false, present: () => forecast };
    },
  };
}

/**
 * Claims the pet (created on first sight): a new secret, answered once, whose SHA-256 is stored
 * in meta.claim_hash. A claimed pet's second claim is AlreadyClaimedError (after the access
 * check: without its secret or the admin token, a claimed pet answers 401/403 first).
 */
export function claimOperation(): Operation<ClaimResult> {
  return {
    access: 'write',
    check: (pet) => {
      if (pet.meta.claim_hash !== undefined) throw new AlreadyClaimedError('this pet has already been claimed');
      // Owners hold it (docs/design.md §8): a claim secret would outlive any owner who leaves.
      if ((pet.meta.owners?.length ?? 0) > 0) throw new AlreadyClaimedError('this pet has owners: it cannot be claimed');
    },
    apply: (pet, nowMs) => {
      const secret = newClaimSecret();
      pet.meta = { ...pet.meta, claim_hash: hashSecret(secret).toString('hex') };
      return { changed: true, present: () => ({ device_id: pet.petId, secret }), events: [petEventDraft('claimed', pet, nowMs)] };
    },
  };
}
