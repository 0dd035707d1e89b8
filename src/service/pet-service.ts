/**
 * The pet adapter (the seed's LifeAdapter): getState, interact, catchup, reset, update, forecast
 * and claim, each an Operation (operations.ts) run by runOnPet — one load, at most one
 * compare-and-set save per attempt, whatever the number of ticks — behind a per-pet queue
 * (pet-queue.ts) so that requests for one pet in this process take turns instead of racing.
 *
 * `perform` adds what a request from outside brings (issue #5): rate-limit counters hit in the
 * same load, the access check against the claim (same load), and an Idempotency-Key whose record
 * is read in the same load and written in the same compare-and-set. The plain methods are for
 * trusted callers (the CLI, which holds the storage itself; tests): no limits, no access check.
 */
import { IdempotencyConflictError, StorageUnavailableError, type RateLimitStatus } from '../errors.js';
import { DEFAULT_PARAMS, entrainedDay, isValidTimezone, type Action, type Lang } from '../engine/index.js';
import type { StorageDriver } from '../storage/index.js';
import { assertAccess, OPEN_ACCESS, type AccessPolicy } from './access.js';
import { systemClock, type Clock } from './clock.js';
import {
  decodeStoredAnswer,
  encodeStoredAnswer,
  IDEMPOTENCY_TTL_MS,
  idempotencyRecordName,
  type IdempotencyRequest,
  type StoredAnswer,
} from './idempotency.js';
import {
  catchupOperation,
  claimOperation,
  forecastOperation,
  interactOperation,
  resetOperation,
  stateOperation,
  updateOperation,
  type ClaimResult,
  type ForecastOptions,
  type Operation,
  type PetUpdate,
} from './operations.js';
import { createPetQueue } from './pet-queue.js';
import { checkRateLimits, NO_RATE_LIMITS, rateLimitCounters, type RateLimitPolicy } from './rate-limits.js';
import { createReadCache } from './read-cache.js';
import { jitteredBackoff, runOnPet, type Plan, type RunDeps, type RunResult } from './run-on-pet.js';
import type { Answer, Forecast, StateDocument } from './types.js';

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
  /** Admin token and whether reads of claimed pets need the secret (perform only). @default OPEN_ACCESS */
  access?: AccessPolicy;
  /** Limits per pet and per client (perform only). @default NO_RATE_LIMITS */
  rateLimits?: RateLimitPolicy;
  /** Pets whose last read answer is kept for the next read of the same stored bytes (perform only; 0: none). @default 2000 */
  readCacheSize?: number;
}

export interface ViewOptions {
  /** Language of texts. @default 'zh' */
  lang?: Lang;
}

/** What a request from outside brings to `perform`, besides the operation. */
export interface RequestContext<T, B> {
  /** The Bearer secret sent; null or absent when none. */
  bearer?: string | null;
  /** The client's address, for the per-client limit; null or absent when unknown (not counted). */
  client?: string | null;
  /** Makes a change idempotent (ignored by read-only operations). */
  idempotency?: IdempotencyRequest | null;
  /** Turns the operation's value into the body answered (and stored, with a key). */
  render: (value: T, nowMs: number) => B;
  /** Status of a fresh answer, stored with the body. @default 200 */
  status?: number;
}

/** What `perform` answers. */
export interface Served<B> {
  body: B;
  status: number;
  /** The stored first answer to the same Idempotency-Key: nothing was applied this time. */
  replayed: boolean;
  /** Where each rate limit stands after this request (empty when none applies). */
  limits: readonly RateLimitStatus[];
}

export interface PetService {
  /** Loads the pet (creating it on first sight) and brings it to now. */
  getState(petId: string, options?: ViewOptions): Promise<Answer<StateDocument>>;
  /** Brings the pet to now, then applies `action`. */
  interact(petId: string, action: Action, options?: ViewOptions): Promise<Answer<StateDocument>>;
  /** Brings the pet to now, then fast-forwards its world clock by `hours` (0 < hours ≤ 87600). */
  catchup(petId: string, hours: number, options?: ViewOptions): Promise<Answer<StateDocument>>;
  /** Starts the pet's life over (keeping its name, timezone, world clock and claim). */
  reset(petId: string, options?: ViewOptions): Promise<Answer<StateDocument>>;
  /** Renames the pet and/or moves it to another timezone. */
  update(petId: string, update: PetUpdate, options?: ViewOptions): Promise<Answer<StateDocument>>;
  /** Simulates the next hours from now without saving anything (one read, zero writes). */
  forecast(petId: string, options?: ForecastOptions): Promise<Answer<Forecast>>;
  /** Claims the pet: its secret, once (AlreadyClaimedError when it has one). */
  claim(petId: string): Promise<Answer<ClaimResult>>;
  /**
   * Runs an operation for a request from outside: rate limits, access, idempotency, then the
   * operation — still one load and one compare-and-set per attempt.
   */
  perform<T, B>(petId: string, operation: Operation<T>, request: RequestContext<T, B>): Promise<Answer<Served<B>>>;
  /** Runs a custom plan through the same queue and load → advance → apply → compare-and-set path. */
  run<R>(petId: string, plan: Plan<R>): Promise<Answer<RunResult<R>>>;
}

/** Pets whose last read answer is kept (PetServiceOptions.readCacheSize). */
export const DEFAULT_READ_CACHE_SIZE = 2000;

/** What a plan of `perform` leaves for the answer. */
type Step<T, B> =
  | { replayed: true; stored: StoredAnswer<B> }
  | { replayed: false; present: (version: number) => T; rendered: { body: B } | null };

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
  const access = options.access ?? OPEN_ACCESS;
  const rateLimits = options.rateLimits ?? NO_RATE_LIMITS;
  if (!Number.isFinite(deps.timeScale) || deps.timeScale < 0) throw new RangeError('timeScale must be a finite number ≥ 0');
  if (!isValidTimezone(deps.defaults.timezone)) throw new RangeError('defaultTimezone must be an IANA timezone name');
  if (!Number.isInteger(deps.maxAttempts) || deps.maxAttempts < 1) throw new RangeError('maxAttempts must be an integer ≥ 1');
  for (const [name, value] of [['rateLimits.perPet', rateLimits.perPet], ['rateLimits.perClient', rateLimits.perClient]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be an integer ≥ 0`);
  }
  if (!Number.isFinite(rateLimits.windowMs) || rateLimits.windowMs < 1000) throw new RangeError('rateLimits.windowMs must be at least 1000');

  // Measures the entrained day newborns are made from now (≈ 45 ms cold, once per process) rather
  // than in the first request that creates a pet.
  entrainedDay(DEFAULT_PARAMS);

  // Every request waiting behind one that found the storage unreachable would find it so too.
  const readCache = createReadCache(options.readCacheSize ?? DEFAULT_READ_CACHE_SIZE);
  /** The operation's value: from the read cache when the request saved nothing and the operation allows it. */
  const valueOf = <T>(petId: string, operation: Operation<T>, run: RunResult<unknown>, present: (version: number) => T): T => {
    const { pet } = run;
    const key = operation.cacheKey;
    if (key === undefined || run.saved || pet.created || pet.away !== null || pet.record === null || pet.record.meta === null) {
      return present(run.version);
    }
    const raw = pet.record.raw;
    return (readCache.get(petId, key, raw) as T | undefined) ?? readCache.set(petId, key, raw, present(run.version));
  };
  const queue = createPetQueue({ sharesFailure: (error) => error instanceof StorageUnavailableError });
  const run = <R>(petId: string, plan: Plan<R>) =>
    plan.readOnly || plan.readsOnly ? runOnPet(deps, petId, plan) : queue.run(petId, () => runOnPet(deps, petId, plan));

  const perform = async <T, B>(petId: string, operation: Operation<T>, request: RequestContext<T, B>): Promise<Answer<Served<B>>> => {
    const counters = rateLimitCounters(rateLimits, petId, request.client ?? null);
    let limits: readonly RateLimitStatus[] = [];
    const bearer = request.bearer ?? null;
    const status = request.status ?? 200;
    const idempotency = operation.readOnly ? null : (request.idempotency ?? null);
    const recordName = idempotency === null ? null : idempotencyRecordName(idempotency.key);

    const plan: Plan<Step<T, B>> = {
      ...(recordName === null ? {} : { extras: [recordName] }),
      ...(counters.hits.length === 0
        ? {}
        : {
            hits: counters.hits,
            checkHits: (counts) => {
              limits = checkRateLimits(counters, counts, rateLimits.windowMs);
            },
          }),
      ...(operation.readOnly ? { readOnly: true } : {}),
      ...(operation.readsOnly ? { readsOnly: true } : {}),
      ...(operation.birth ? { birth: operation.birth } : {}),
      precondition: (pet) => {
        assertAccess(pet.meta, operation.access, bearer, access);
        if (recordName !== null && idempotency !== null) {
          const stored = decodeStoredAnswer<B>(recordName, pet.record?.extras[recordName]);
          if (stored !== null) {
            if (stored.fingerprint !== idempotency.fingerprint) {
              throw new IdempotencyConflictError('this Idempotency-Key was used for a different request (body or route); use a new key');
            }
            return { replay: { replayed: true, stored } };
          }
        }
        operation.check?.(pet);
        return undefined;
      },
      apply: (pet, nowMs) => {
        const applied = operation.apply(pet, nowMs);
        if (recordName === null || idempotency === null) {
          return { changed: applied.changed, result: { replayed: false, present: applied.present, rendered: null } };
        }
        // The record forces a save at loadedVersion + 1 in this attempt, so the answer is final
        // now and goes into the same compare-and-set as the change.
        const body = request.render(applied.present(pet.loadedVersion + 1), nowMs);
        return {
          changed: true,
          result: { replayed: false, present: applied.present, rendered: { body } },
          extras: [{ name: recordName, value: encodeStoredAnswer({ fingerprint: idempotency.fingerprint, status, body }), ttlMs: IDEMPOTENCY_TTL_MS }],
        };
      },
    };

    const answer = await run(petId, plan);
    const step = answer.value.result;
    const served: Served<B> = step.replayed
      ? { body: step.stored.body, status: step.stored.status, replayed: true, limits }
      : {
          body: step.rendered !== null ? step.rendered.body : request.render(valueOf(petId, operation, answer.value, step.present), answer.value.nowMs),
          status,
          replayed: false,
          limits,
        };
    return { value: served, roundTrips: answer.roundTrips, attempts: answer.attempts };
  };

  /** A trusted caller's operation: no limits, no access check, the value as it is. */
  const trusted = async <T>(petId: string, operation: Operation<T>): Promise<Answer<T>> => {
    const answer = await run(petId, {
      ...(operation.readOnly ? { readOnly: true } : {}),
      ...(operation.readsOnly ? { readsOnly: true } : {}),
      ...(operation.birth ? { birth: operation.birth } : {}),
      precondition: (pet) => {
        operation.check?.(pet);
        return undefined;
      },
      apply: (pet, nowMs) => {
        const applied = operation.apply(pet, nowMs);
        return { changed: applied.changed, result: applied.present };
      },
    });
    return { value: answer.value.result(answer.value.version), roundTrips: answer.roundTrips, attempts: answer.attempts };
  };

  return {
    run,
    perform,
    getState: async (petId, view = {}) => trusted(petId, stateOperation(view.lang)),
    interact: async (petId, action, view = {}) => trusted(petId, interactOperation(action, view.lang)),
    catchup: async (petId, hours, view = {}) => trusted(petId, catchupOperation(hours, view.lang)),
    reset: async (petId, view = {}) => trusted(petId, resetOperation(view.lang)),
    update: async (petId, update, view = {}) => trusted(petId, updateOperation(update, view.lang)),
    forecast: async (petId, forecastOptions = {}) => trusted(petId, forecastOperation(forecastOptions)),
    claim: async (petId) => trusted(petId, claimOperation()),
  };
}
