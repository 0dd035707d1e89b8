// Request path: the pet adapter, every request an Operation run by runOnPet.
/**
 * The pet service: a short facade over the request path's named parts (DESIGN §15; the flow is
 * listed in docs/design.md, "How a request flows"). getState, interact, catchup, reset, update,
 * forecast and claim are Operations (operations.ts) run by runOnPet (run-on-pet.ts) — one load, at
 * most one compare-and-set save per attempt — behind a per-pet queue (pet-queue.ts).
 *
 * `perform` is a request from outside: admission.ts, request-plan.ts (limits counted in the same
 * load, access, idempotency in the same compare-and-set), the owner its Bearer proves resolved
 * here (owners.ts). `batch` is pet-batch.ts; the reads that apply nothing are pet-reads.ts. The
 * plain methods are for trusted callers (the CLI, the scheduler, tests): no limits, no access check.
 */
import { canonicalTimezone, DEFAULT_PARAMS, entrainedDay, type Action, type Lang } from '../../engine/index.js';
import { CorruptStateError, StorageUnavailableError } from '../../errors.js';
import { LIMIT_DEFAULTS } from '../../rules.js';
import type { PetEvent, StorageDriver } from '../../storage/index.js';
import { OPEN_ACCESS, type AccessPolicy } from './access.js';
import { createAdmission } from './admission.js';
import { systemClock, type Clock } from '../clock.js';
import type { LivePet } from './live-pet.js';
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
import { NO_OBSERVER, type ServiceObserver } from '../observer.js';
import { deliverOutbox } from '../social/outbox.js';
import { performBatch, type BatchContext, type BatchOperation, type BatchResult } from './pet-batch.js';
import { createPetQueue } from './pet-queue.js';
import { nextLifeEventMs, peekPets, readEvents, type EventsOptions } from './pet-reads.js';
import { NO_RATE_LIMITS, type RateLimitPolicy } from './rate-limits.js';
import { createReadCache } from './read-cache.js';
import { planRequest, type PlanDeps, type RequestContext, type Served } from './request-plan.js';
import { jitteredBackoff, runOnPet, type Plan, type RunDeps, type RunResult } from './run-on-pet.js';
import type { Answer, Forecast, StateDocument } from './types.js';
import { mayBeWarm, warmFactsOf, warmRead, type WarmReadDeps } from './warm-read.js';

export { MAX_BATCH_OPERATIONS } from './pet-batch.js';
export type { BatchContext, BatchOperation, BatchResult } from './pet-batch.js';
export type { EventsOptions } from './pet-reads.js';
export type { RequestContext, Served } from './request-plan.js';

/** Pets whose last read answer is kept (PetServiceOptions.readCacheSize). */
export const DEFAULT_READ_CACHE_SIZE = LIMIT_DEFAULTS.readCacheSize;
/** Time to live of a pet created by reads alone and never changed (PetServiceOptions.newbornTtlMs). */
export const DEFAULT_NEWBORN_TTL_MS = LIMIT_DEFAULTS.newbornTtlDays * 86_400_000;
/** Requests one pet may have queued or running in this process (PetServiceOptions.queueDepth). */
export const DEFAULT_QUEUE_DEPTH = LIMIT_DEFAULTS.petQueueDepth;

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
  /** Requests one pet may have queued or running in this process; one more is BusyError. @default 64 */
  queueDepth?: number;
  /** Time to live of a pet created by reads alone and never changed, ms; null = kept. @default 30 days */
  newbornTtlMs?: number | null;
  /** Finds the owner an owner secret proves (owners.ts), for requests that do not say it. @default none: no owner */
  owners?: { resolve(bearer: string | null): Promise<string | null> };
  /** Told of compare-and-set conflicts and read-cache lookups (the HTTP layer's /metrics). @default NO_OBSERVER */
  observer?: ServiceObserver;
  /**
   * Test-only fault point (DESIGN §8): awaited after a write that put a change for another pet in
   * the pet's outbox, before that change is delivered (the server pauses here under
   * FAULT_PAUSE_AFTER_FIRST_WRITE_MS so that a test can kill it between the two writes). @default none
   */
  afterFirstWrite?: (petId: string) => Promise<void>;
}

export interface ViewOptions {
  /** Language of texts. @default 'zh' */
  lang?: Lang;
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
  /**
   * `perform`'s warm read alone (warm-read.ts, docs/design.md §15): the answer of a held pet
   * already made for its stored values and minute, without a load; undefined when `perform`
   * must run (the HTTP server's shortest path tries this first).
   */
  performWarm<T, B>(petId: string, operation: Operation<T>, request: RequestContext<T, B>): Promise<Answer<Served<B>> | undefined>;
  /**
   * Runs up to MAX_BATCH_OPERATIONS operations, each as `perform` would (limits, access,
   * idempotency), in two storage round trips in all: one loadMany of every pet, one saveMany of
   * every changed pet (runBatch). Each pet's operations apply in order and are saved together
   * (atomic per pet); the batch is not: each operation answers its own result or error, in order.
   * Not queued per pet: a conflict with a concurrent change is retried for its pet only.
   */
  batch(operations: readonly BatchOperation[], context?: BatchContext): Promise<Answer<BatchResult[]>>;
  /** Runs a custom plan through the same queue and load → advance → apply → compare-and-set path. */
  run<R>(petId: string, plan: Plan<R>): Promise<Answer<RunResult<R>>>;
  /**
   * The pet's logged events after `after` (all retained when null/absent), ascending, at most
   * `limit` (1–1000, default 1000). Access as a read (the secret when reads require auth and the
   * pet is claimed); never creates a pet; one round trip; not queued (DESIGN §9).
   */
  events(petId: string, options?: EventsOptions): Promise<PetEvent[]>;
  /**
   * Wall-clock Unix ms at which the stored pet's next life event (sleep onset, waking, hunger
   * crossing) falls: at or before it, bringToNow writes it. Null when TIME_SCALE is 0, the pet is
   * not stored, or nothing falls within 7 simulated days. One round trip, no write.
   */
  nextLifeEventMs(petId: string): Promise<number | null>;
  /** A trusted read that saves the catch-up to now (its life events written once, by compare-and-set); never creates a pet. */
  bringToNow(petId: string): Promise<void>;
  /**
   * Several stored pets at once, each brought to now in memory (nothing saved, nothing created,
   * no access check): null for a pet not stored or unreadable. The one multi-pet read (owners'
   * and friends' lists, a visit's friend).
   */
  peek(petIds: readonly string[]): Promise<(LivePet | null)[]>;
}

/** Creates the pet service over a storage driver. */
export function createPetService(options: PetServiceOptions): PetService {
  const deps: RunDeps = {
    storage: options.storage,
    newbornTtlMs: options.newbornTtlMs === undefined ? DEFAULT_NEWBORN_TTL_MS : options.newbornTtlMs,
    clock: options.clock ?? systemClock,
    timeScale: options.timeScale ?? 1,
    defaults: { petName: options.defaultPetName ?? '小糖', timezone: canonicalTimezone(options.defaultTimezone ?? 'UTC') ?? '' },
    maxAttempts: options.maxAttempts ?? 20,
    backoffMs: options.backoffMs ?? jitteredBackoff(),
    observer: options.observer ?? NO_OBSERVER,
  };
  const observer = deps.observer ?? NO_OBSERVER;
  const access = options.access ?? OPEN_ACCESS;
  const rateLimits = options.rateLimits ?? NO_RATE_LIMITS;
  if (!Number.isFinite(deps.timeScale) || deps.timeScale < 0) throw new RangeError('timeScale must be a finite number ≥ 0');
  if (deps.defaults.timezone === '') throw new RangeError('defaultTimezone must be an IANA timezone name');
  if (!Number.isInteger(deps.maxAttempts) || deps.maxAttempts < 1) throw new RangeError('maxAttempts must be an integer ≥ 1');
  for (const [name, value] of [
    ['rateLimits.perPet', rateLimits.perPet],
    ['rateLimits.perClient', rateLimits.perClient],
  ] as const) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be an integer ≥ 0`);
  }
  if (!Number.isFinite(rateLimits.windowMs) || rateLimits.windowMs < 1000)
    throw new RangeError('rateLimits.windowMs must be at least 1000');
  const resolveOwner = async (bearer: string | null): Promise<string | null> =>
    bearer === null || options.owners === undefined ? null : options.owners.resolve(bearer);

  // Reads the entrained day newborns are made from now (from the engine's generated table;
  // other parameters are measured, a cold cost paid once per process) rather than in the first request that creates a pet.
  entrainedDay(DEFAULT_PARAMS);

  // Every request waiting behind one that found the storage unreachable would find it so too.
  const readCache = createReadCache(options.readCacheSize ?? DEFAULT_READ_CACHE_SIZE);
  /** The operation's value: from the read cache when the request saved nothing and the operation allows it. */
  const answerValueOf = <T>(petId: string, operation: Operation<T>, run: RunResult<unknown>, present: (version: number) => T): T => {
    const { pet } = run;
    const key = operation.cacheKey;
    if (key === undefined || run.saved || pet.created || pet.away !== null || pet.record === null || pet.record.meta === null) {
      return present(run.version);
    }
    const raw = pet.record.raw;
    const cached = readCache.get(petId, key, raw) as T | undefined;
    observer.readCache(cached !== undefined);
    return cached ?? readCache.set(petId, key, raw, present(run.version), warmFactsOf(pet.record, deps.timeScale));
  };
  const warmDeps: WarmReadDeps = {
    storage: options.storage,
    clock: deps.clock,
    timeScale: deps.timeScale,
    access,
    rateLimits,
    readCache,
    observer,
  };
  const queue = createPetQueue({
    sharesFailure: (error) => error instanceof StorageUnavailableError,
    maxDepth: options.queueDepth ?? DEFAULT_QUEUE_DEPTH,
  });
  const admission = createAdmission(access, rateLimits);
  const planDeps: PlanDeps = { clock: deps.clock, admission, access, rateLimits, answerValueOf };
  const readDeps = {
    storage: options.storage,
    clock: deps.clock,
    timeScale: deps.timeScale,
    defaults: deps.defaults,
    access,
    resolveOwner,
  };
  const runQueued = <R>(petId: string, plan: Plan<R>) =>
    plan.savesNothing || plan.changesNothing ? runOnPet(deps, petId, plan) : queue.run(petId, () => runOnPet(deps, petId, plan));
  /**
   * After any request that loaded a pet owing other pets a change (DESIGN §8, outbox.ts): the
   * change is delivered before the answer, so a half-done visit is finished by the next request.
   * A receiver whose stored state cannot be read keeps its entry waiting (this pet still answers).
   */
  const finishOutbox = async <R>(petId: string, answer: Answer<RunResult<R>>): Promise<Answer<RunResult<R>>> => {
    const { pet, saved } = answer.value;
    const outbox = pet.meta.outbox ?? [];
    if (outbox.length === 0) return answer;
    if (saved && pet.meta.outbox_seq !== pet.record?.meta?.outbox_seq) await options.afterFirstWrite?.(petId);
    try {
      await deliverOutbox(runQueued, petId, outbox);
    } catch (error) {
      if (!(error instanceof CorruptStateError) || error.petId === petId) throw error;
    }
    return answer;
  };
  const run = async <R>(petId: string, plan: Plan<R>) => finishOutbox(petId, await runQueued(petId, plan));

  const perform = async <T, B>(petId: string, operation: Operation<T>, request: RequestContext<T, B>): Promise<Answer<Served<B>>> => {
    if (mayBeWarm(warmDeps, operation, request)) {
      const warm = await warmRead(warmDeps, petId, operation, request);
      if (warm !== undefined) return warm;
    }
    const owner = request.owner !== undefined ? request.owner : await resolveOwner(request.bearer ?? null);
    const { plan, serve, stranger } = planRequest(planDeps, petId, operation, { ...request, owner });
    // A stranger's request is refused by its own load; it never waits in (or fills) the owner's queue.
    const answer = stranger ? await finishOutbox(petId, await runOnPet(deps, petId, plan)) : await run(petId, plan);
    return { value: serve(answer.value), roundTrips: answer.roundTrips, attempts: answer.attempts };
  };

  /** A trusted caller's operation: no limits, no access check, the value as it is. */
  const trusted = async <T>(petId: string, operation: Operation<T>): Promise<Answer<T>> => {
    const answer = await run(petId, {
      ...(operation.startsOver ? { overwritesCorrupt: () => undefined } : {}),
      ...(operation.savesNothing ? { savesNothing: true } : {}),
      ...(operation.changesNothing ? { changesNothing: true } : {}),
      ...(operation.birth ? { birth: operation.birth } : {}),
      precondition: (pet) => {
        operation.check?.(pet);
        return undefined;
      },
      apply: (pet, nowMs) => {
        const applied = operation.apply(pet, nowMs);
        return { changed: applied.changed, result: applied.present, ...(applied.events ? { events: applied.events } : {}) };
      },
    });
    return { value: answer.value.result(answer.value.version), roundTrips: answer.roundTrips, attempts: answer.attempts };
  };

  const bringPetToNow = async (petId: string): Promise<void> => {
    await run<undefined>(petId, {
      changesNothing: true,
      // Never creates a pet: nothing stored, nothing to bring.
      precondition: (pet) => (pet.created ? { replay: undefined } : undefined),
      apply: () => ({ changed: false, result: undefined }),
    });
  };

  return {
    run,
    peek: (petIds) => peekPets(readDeps, petIds),
    perform,
    performWarm: async (petId, operation, request) =>
      mayBeWarm(warmDeps, operation, request) ? warmRead(warmDeps, petId, operation, request) : undefined,
    batch: (operations, context) => performBatch({ run: deps, plan: planDeps, resolveOwner, finishOutbox }, operations, context),
    events: (petId, eventsOptions) => readEvents(readDeps, petId, eventsOptions),
    nextLifeEventMs: (petId) => nextLifeEventMs(readDeps, petId),
    bringToNow: bringPetToNow,
    getState: async (petId, view = {}) => trusted(petId, stateOperation(view.lang)),
    interact: async (petId, action, view = {}) => trusted(petId, interactOperation(action, view.lang)),
    catchup: async (petId, hours, view = {}) => trusted(petId, catchupOperation(hours, view.lang)),
    reset: async (petId, view = {}) => trusted(petId, resetOperation(view.lang)),
    update: async (petId, update, view = {}) => trusted(petId, updateOperation(update, view.lang)),
    forecast: async (petId, forecastOptions = {}) => trusted(petId, forecastOperation(forecastOptions)),
    claim: async (petId) => trusted(petId, claimOperation()),
  };
}
