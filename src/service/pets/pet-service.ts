// Request path: the pet adapter, every request an Operation run by runOnPet.
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
import {
  CorruptStateError,
  ForbiddenError,
  IdempotencyConflictError,
  InvalidInputError,
  RateLimitedError,
  StorageUnavailableError,
  UnauthorizedError,
  type RateLimitStatus,
} from '../../errors.js';
import {
  canonicalTimezone,
  DEFAULT_PARAMS,
  entrainedDay,
  MS_PER_TICK,
  NEXT_EVENT_HORIZON_TICKS,
  nextLifeEvent,
  type Action,
  type Lang,
} from '../../engine/index.js';
import { assertPetId, type HitResult, type PetEvent, type StorageDriver } from '../../storage/index.js';
import { assertAccess, bearerHashOf, isOwnerOrAdmin, OPEN_ACCESS, type AccessPolicy } from './access.js';
import { createExpiringMap } from '../expiring-map.js';
import { systemClock, type Clock } from '../clock.js';
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
import { bringPetToNow as bringLivePetToNow, hydratePet, marksOf, type LivePet } from './live-pet.js';
import { deliverOutbox } from '../social/outbox.js';
import { EVENT_ID_PATTERN, MAX_EVENTS_PER_READ } from '../events/pet-events.js';
import { createPetQueue } from './pet-queue.js';
import { bringToNow as marksAtNow } from './time-model.js';
import { checkRateLimits, NO_RATE_LIMITS, rateLimitCounters, type RateLimitPolicy } from './rate-limits.js';
import { NO_OBSERVER, type RequestTiming, type ServiceObserver } from '../observer.js';
import { createReadCache } from './read-cache.js';
import { runBatch, type BatchItem } from './run-batch.js';
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
  /** Requests one pet may have queued or running in this process; one more is BusyError. @default 64 */
  queueDepth?: number;
  /** Time to live of a pet created by reads alone and never changed, ms; null = kept. @default 30 days */
  newbornTtlMs?: number | null;
  /** Told of compare-and-set conflicts and read-cache lookups (the HTTP layer's /metrics). @default NO_OBSERVER */
  observer?: ServiceObserver;
  /**
   * Test-only fault point (issue #13): awaited after a write that put a change for another pet in
   * the pet's outbox, before that change is delivered (the server pauses here under
   * FAULT_PAUSE_AFTER_FIRST_WRITE_MS so that a test can kill it between the two writes). @default none
   */
  afterFirstWrite?: (petId: string) => Promise<void>;
}

export interface ViewOptions {
  /** Language of texts. @default 'zh' */
  lang?: Lang;
}

/** What a request from outside brings to `perform`, besides the operation. */
export interface RequestContext<T, B> {
  /** The Bearer secret sent; null or absent when none. */
  bearer?: string | null;
  /** The owner id the Bearer secret was verified as (issue #13; owners.ts); null or absent when none. */
  owner?: string | null;
  /** The client's address, for the per-client limit; null or absent when unknown (not counted). */
  client?: string | null;
  /** Makes a change idempotent (ignored by read-only operations). */
  idempotency?: IdempotencyRequest | null;
  /** Turns the operation's value into the body answered (and stored, with a key). */
  render: (value: T, nowMs: number) => B;
  /** Status of a fresh answer, stored with the body. @default 200 */
  status?: number;
  /**
   * A trusted caller (the CLI, which holds the storage itself): no access check and no limits,
   * but still idempotency, so that it can retry an ambiguous failure safely.
   */
  trusted?: boolean;
  /** Filled in with the request's storage time (Server-Timing). */
  timing?: RequestTiming;
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
   * pet is claimed); never creates a pet; one round trip; not queued (issue #12).
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

export interface EventsOptions {
  /** Only events with a greater id (`<ms>-<seq>`); null or absent: every retained event. */
  after?: string | null;
  /** At most this many, 1–1000. @default 1000 */
  limit?: number;
  /** The Bearer secret sent; null or absent when none. */
  bearer?: string | null;
  /** The owner id that secret was verified as (issue #13); null or absent when none. */
  owner?: string | null;
}

/** Pets whose last read answer is kept (PetServiceOptions.readCacheSize). */
export const DEFAULT_READ_CACHE_SIZE = 2000;
/** Time to live of a pet created by reads alone and never changed (PetServiceOptions.newbornTtlMs): 30 days. */
export const DEFAULT_NEWBORN_TTL_MS = 30 * 86_400_000;
/** Requests one pet may have queued or running in this process (PetServiceOptions.queueDepth). */
export const DEFAULT_QUEUE_DEPTH = 64;
/** Clients, pets and claims remembered between requests, each (issue #10: bounded whatever strangers do). */
const MEMO_ENTRIES = 10_000;
/** How long a pet's claim, as last loaded, is trusted to refuse a wrong secret before queueing. */
const CLAIM_MEMO_MS = 60_000;

/** Operations one batch holds at most (POST /api/batch, GET /api/pets?ids=). */
export const MAX_BATCH_OPERATIONS = 100;

/** One operation of a batch: as `perform` takes it, on its pet. */
export interface BatchOperation {
  petId: string;
  operation: Operation<unknown>;
  /** Turns the operation's value into the body answered (and stored, with a key). */
  render: (value: unknown, nowMs: number) => unknown;
  /** Makes this change idempotent (ignored by read-only operations). */
  idempotency?: IdempotencyRequest | null;
  /** Status of a fresh answer. @default 200 */
  status?: number;
}

/** What the batch request brings, for each of its operations. */
export interface BatchContext {
  bearer?: string | null;
  /** The owner id the Bearer secret was verified as (issue #13); null or absent when none. */
  owner?: string | null;
  client?: string | null;
  /** A trusted caller: no access check, no limits (as RequestContext.trusted). */
  trusted?: boolean;
  timing?: RequestTiming;
}

/** One operation's answer: served, or the error it failed with (the HTTP layer maps it). */
export type BatchResult = { ok: true; value: Served<unknown> } | { ok: false; error: unknown };

/** A prepared `perform`: its plan, how its answer is served, and whether it comes from a stranger. */
interface Prepared<T, B> {
  plan: Plan<Step<T, B>>;
  serve: (ran: RunResult<Step<T, B>>) => Served<B>;
  stranger: boolean;
}

/** What a plan of `perform` leaves for the answer. */
type Step<T, B> =
  | { replayed: true; stored: StoredAnswer<B> }
  | { replayed: false; present: (version: number) => T; rendered: { body: B } | null };

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

  // Reads the entrained day newborns are made from now (from the engine's generated table, < 1 ms;
  // other parameters are measured, ≈ 45 ms cold, once per process) rather than in the first request that creates a pet.
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
    return cached ?? readCache.set(petId, key, raw, present(run.version));
  };
  const queue = createPetQueue({
    sharesFailure: (error) => error instanceof StorageUnavailableError,
    maxDepth: options.queueDepth ?? DEFAULT_QUEUE_DEPTH,
  });
  // What earlier requests found, so that strangers cannot fill a pet's queue (issue #10): a
  // client over its limit and a pet whose shared bucket is full are refused at once, with no
  // round trip; a request whose secret does not open a claimed pet (as last loaded) still goes to
  // storage, where it is counted and refused, but outside the queue, so it never delays the owner.
  const blockedClients = createExpiringMap<RateLimitStatus>(MEMO_ENTRIES);
  const blockedPets = createExpiringMap<RateLimitStatus>(MEMO_ENTRIES);
  const knownClaims = createExpiringMap<string | null>(MEMO_ENTRIES);
  const refusal = (blocked: RateLimitStatus) => {
    const what = blocked.policy === 'client' ? 'requests from this client' : 'requests to this pet';
    return new RateLimitedError(
      `too many requests: over ${blocked.limit} ${what} per ${blocked.windowS} s; retry after ${blocked.resetS} s`,
      blocked.resetS,
      [blocked],
    );
  };
  /** Throws when a limit is known to be exceeded; true when the request is a stranger's to a claimed pet. */
  const admit = (
    petId: string,
    operation: Operation<unknown>,
    bearerHash: Buffer | null,
    client: string | null,
    nowMs: number,
  ): { stranger: boolean } => {
    const blockedClient = client === null ? undefined : blockedClients.get(client, nowMs);
    if (blockedClient !== undefined) throw refusal(blockedClient);
    const claim = knownClaims.get(petId, nowMs);
    const owner = isOwnerOrAdmin(typeof claim === 'string' ? { claim_hash: claim } : {}, bearerHash, access);
    const blockedPet = owner ? undefined : blockedPets.get(petId, nowMs);
    if (blockedPet !== undefined) throw refusal(blockedPet);
    const needsSecret = operation.access === 'write' || access.readsRequireAuth;
    return { stranger: typeof claim === 'string' && !owner && needsSecret };
  };
  /**
   * Who may start over a pet whose stored state cannot be read: the admin token always; the
   * pet's secret when the meta still names its claim; anyone when the meta still shows it
   * unclaimed. When not even that can be read, only the admin token.
   */
  const assertMayOverwrite = (petId: string, error: CorruptStateError, bearer: string | null, owner: string | null): void => {
    if (error.petId !== petId) throw error;
    const bearerHash = bearerHashOf(bearer);
    const owners = error.owners === null ? {} : { owners: [...error.owners] };
    if (isOwnerOrAdmin(owners, bearerHash, access, owner)) return;
    if (error.claimHash === null && error.storedVersion === null) {
      const message = 'the stored state of this pet cannot be read, nor whether it is claimed: only the admin token can reset it';
      throw bearer === null ? new UnauthorizedError(message) : new ForbiddenError(message);
    }
    assertAccess({ ...(error.claimHash === null ? {} : { claim_hash: error.claimHash }), ...owners }, 'write', bearer, access, owner);
  };
  /** Remembers a limit found exceeded until its window resets. */
  const block = (
    memo: typeof blockedClients,
    key: string,
    policy: RateLimitStatus['policy'],
    limit: number,
    resetInMs: number,
    nowMs: number,
  ) => {
    const windowS = Math.ceil(rateLimits.windowMs / 1000);
    const resetS = Math.min(windowS, Math.max(1, Math.ceil(resetInMs / 1000)));
    memo.set(key, { policy, limit, remaining: 0, resetS, windowS }, nowMs + resetInMs, nowMs);
  };
  const runQueued = <R>(petId: string, plan: Plan<R>) =>
    plan.savesNothing || plan.changesNothing ? runOnPet(deps, petId, plan) : queue.run(petId, () => runOnPet(deps, petId, plan));
  /**
   * After any request that loaded a pet owing other pets a change (issue #13, outbox.ts): the
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

  /**
   * What `perform` and `batch` share: the request's guards (limits known exceeded, counters,
   * access, idempotency) around the operation, as a plan for runOnPet (or runBatch), and how the
   * answer is served from its run. Throws when a limit is known to be exceeded (no round trip).
   */
  const prepare = <T, B>(petId: string, operation: Operation<T>, request: RequestContext<T, B>): Prepared<T, B> => {
    const bearer = request.bearer ?? null;
    const owner = request.owner ?? null;
    const client = request.client ?? null;
    const trustedCaller = request.trusted === true;
    const startedMs = deps.clock.nowMs();
    const bearerHash = bearerHashOf(bearer);
    const admitted = trustedCaller ? { stranger: false } : admit(petId, operation, bearerHash, client, startedMs);
    // A verified owner secret is no stranger's (the memo knows claims, not owners).
    const stranger = admitted.stranger && owner === null;
    const counters = trustedCaller
      ? { hits: [], buckets: [] }
      : rateLimitCounters(rateLimits, petId, { client, bearerHash, weight: operation.weight ?? 1 });
    let counts: readonly HitResult[] = [];
    let limits: readonly RateLimitStatus[] = [];
    const status = request.status ?? 200;
    const idempotency = operation.savesNothing ? null : (request.idempotency ?? null);
    const recordName = idempotency === null ? null : idempotencyRecordName(idempotency.key);

    const plan: Plan<Step<T, B>> = {
      ...(request.timing === undefined ? {} : { timing: request.timing }),
      ...(recordName === null ? {} : { extras: [recordName] }),
      ...(counters.hits.length === 0
        ? {}
        : {
            hits: counters.hits,
            // The client's limit does not depend on the pet: refused before the pet is even read.
            checkHits: (hitCounts) => {
              counts = hitCounts;
              const check = checkRateLimits(counters, counts, rateLimits.windowMs, false);
              if (check.clientBlockedMs > 0 && client !== null) {
                block(blockedClients, client, 'client', rateLimits.perClient, check.clientBlockedMs, startedMs);
                limits = check.statuses;
                throw check.exceeded;
              }
            },
          }),
      ...(operation.savesNothing ? { savesNothing: true } : {}),
      ...(operation.changesNothing ? { changesNothing: true } : {}),
      ...(operation.birth ? { birth: operation.birth } : {}),
      ...(operation.startsOver
        ? { overwritesCorrupt: (error: CorruptStateError) => (trustedCaller ? undefined : assertMayOverwrite(petId, error, bearer, owner)) }
        : {}),
      precondition: (pet) => {
        knownClaims.set(petId, pet.meta.claim_hash ?? null, startedMs + CLAIM_MEMO_MS, startedMs);
        if (counters.hits.length > 0) {
          // The pet's limit: the owner's own bucket when the secret opens the pet, else the shared
          // one. Checked before access, so that a 429 does not tell whether a secret was right.
          const check = checkRateLimits(counters, counts, rateLimits.windowMs, isOwnerOrAdmin(pet.meta, bearerHash, access, owner));
          limits = check.statuses;
          if (check.sharedPetBlockedMs > 0) block(blockedPets, petId, 'pet', rateLimits.perPet, check.sharedPetBlockedMs, startedMs);
          if (check.exceeded !== null) throw check.exceeded;
        }
        if (!trustedCaller) assertAccess(pet.meta, operation.access, bearer, access, owner);
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
        const events = applied.events ? { events: applied.events } : {};
        if (recordName === null || idempotency === null) {
          return { changed: applied.changed, result: { replayed: false, present: applied.present, rendered: null }, ...events };
        }
        // The record forces a save at loadedVersion + 1 in this attempt, so the answer is final
        // now and goes into the same compare-and-set as the change.
        const body = request.render(applied.present(pet.loadedVersion + 1), nowMs);
        return {
          changed: true,
          result: { replayed: false, present: applied.present, rendered: { body } },
          ...events,
          extras: [
            {
              name: recordName,
              value: encodeStoredAnswer({ fingerprint: idempotency.fingerprint, status, body }),
              ttlMs: IDEMPOTENCY_TTL_MS,
            },
          ],
        };
      },
    };

    const serve = (ran: RunResult<Step<T, B>>): Served<B> => {
      // The claim as this request left it (a claim sets it).
      knownClaims.set(petId, ran.pet.meta.claim_hash ?? null, startedMs + CLAIM_MEMO_MS, startedMs);
      const step = ran.result;
      return step.replayed
        ? { body: step.stored.body, status: step.stored.status, replayed: true, limits }
        : {
            body:
              step.rendered !== null ? step.rendered.body : request.render(answerValueOf(petId, operation, ran, step.present), ran.nowMs),
            status,
            replayed: false,
            limits,
          };
    };
    return { plan, serve, stranger };
  };

  const perform = async <T, B>(petId: string, operation: Operation<T>, request: RequestContext<T, B>): Promise<Answer<Served<B>>> => {
    const { plan, serve, stranger } = prepare(petId, operation, request);
    // A stranger's request is refused by its own load; it never waits in (or fills) the owner's queue.
    const answer = stranger ? await finishOutbox(petId, await runOnPet(deps, petId, plan)) : await run(petId, plan);
    return { value: serve(answer.value), roundTrips: answer.roundTrips, attempts: answer.attempts };
  };

  const batch = async (operations: readonly BatchOperation[], context: BatchContext = {}): Promise<Answer<BatchResult[]>> => {
    if (operations.length > MAX_BATCH_OPERATIONS) {
      throw new InvalidInputError('invalid_body', `a batch holds at most ${MAX_BATCH_OPERATIONS} operations, got ${operations.length}`);
    }
    const results: (BatchResult | undefined)[] = operations.map(() => undefined);
    const items: BatchItem<Step<unknown, unknown>>[] = [];
    const serving: Array<{ index: number; serve: (ran: RunResult<Step<unknown, unknown>>) => Served<unknown> }> = [];
    operations.forEach((entry, index) => {
      try {
        assertPetId(entry.petId);
        // Each operation is its own request: the batch's Bearer secret and client, its own key.
        const { plan, serve } = prepare(entry.petId, entry.operation, {
          bearer: context.bearer ?? null,
          owner: context.owner ?? null,
          client: context.client ?? null,
          idempotency: entry.idempotency ?? null,
          render: entry.render,
          ...(entry.status === undefined ? {} : { status: entry.status }),
          ...(context.trusted === undefined ? {} : { trusted: context.trusted }),
        });
        items.push({ petId: entry.petId, plan });
        serving.push({ index, serve });
      } catch (error) {
        results[index] = { ok: false, error };
      }
    });
    const { outcomes, roundTrips } = await runBatch(deps, items, context.timing);
    // A pet still owing its friends a visit's half (issue #13) is finished here too, as by any request.
    const lastRuns = new Map<string, RunResult<Step<unknown, unknown>>>();
    outcomes.forEach((outcome, position) => {
      if (outcome.ok) lastRuns.set((items[position] as (typeof items)[number]).petId, outcome.run);
    });
    await Promise.all([...lastRuns].map(([petId, ran]) => finishOutbox(petId, { value: ran, roundTrips: 0, attempts: 1 })));
    outcomes.forEach((outcome, position) => {
      const { index, serve } = serving[position] as (typeof serving)[number];
      if (!outcome.ok) {
        results[index] = outcome;
        return;
      }
      try {
        results[index] = { ok: true, value: serve(outcome.run) };
      } catch (error) {
        results[index] = { ok: false, error };
      }
    });
    return { value: results as BatchResult[], roundTrips, attempts: 1 };
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

  const events = async (petId: string, eventsOptions: EventsOptions = {}): Promise<PetEvent[]> => {
    assertPetId(petId);
    const after = eventsOptions.after ?? null;
    const limit = eventsOptions.limit ?? MAX_EVENTS_PER_READ;
    if (after !== null && !EVENT_ID_PATTERN.test(after)) {
      throw new InvalidInputError('invalid_query', 'after must be an event id: <ms>-<seq>, e.g. 1767225600000-0');
    }
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENTS_PER_READ) {
      throw new InvalidInputError('invalid_query', `limit must be an integer from 1 to ${MAX_EVENTS_PER_READ}`);
    }
    const read = { after, limit };
    const bearer = eventsOptions.bearer ?? null;
    // Open reads, or the admin token: the log alone. Otherwise the claim is checked against the
    // meta read alongside (in parallel: one round trip of latency), before anything is answered.
    if (!access.readsRequireAuth || isOwnerOrAdmin({}, bearerHashOf(bearer), access)) return options.storage.readEvents(petId, read);
    const [record, logged] = await Promise.all([options.storage.load(petId), options.storage.readEvents(petId, read)]);
    assertAccess(record?.meta ?? {}, 'read', bearer, access, eventsOptions.owner ?? null);
    return logged;
  };

  const nextLifeEventMs = async (petId: string): Promise<number | null> => {
    assertPetId(petId);
    if (deps.timeScale === 0) return null;
    const record = await options.storage.load(petId);
    if (record === null) return null;
    // The stored pet, not brought to now: an event passed since its last save is still unwritten and due at once.
    const pet = hydratePet(petId, record, deps.clock.nowMs(), deps.defaults);
    const next = nextLifeEvent(pet.state, DEFAULT_PARAMS, NEXT_EVENT_HORIZON_TICKS);
    if (next === null) return null;
    const marks = marksOf(pet);
    const eventWorldMs = next.tick * MS_PER_TICK;
    let wallMs = Math.ceil(marks.wallMs + Math.max(0, eventWorldMs - marks.worldMs) / deps.timeScale);
    // Against rounding of the division: the first whole ms at which bringing to now reaches the tick.
    for (let step = 0; step < 4 && marksAtNow(marks, wallMs, deps.timeScale).worldMs < eventWorldMs; step++) wallMs += 1;
    return marksAtNow(marks, wallMs, deps.timeScale).worldMs < eventWorldMs ? null : wallMs;
  };

  const bringPetToNow = async (petId: string): Promise<void> => {
    await run<undefined>(petId, {
      changesNothing: true,
      // Never creates a pet: nothing stored, nothing to bring.
      precondition: (pet) => (pet.created ? { replay: undefined } : undefined),
      apply: () => ({ changed: false, result: undefined }),
    });
  };

  const peek = async (petIds: readonly string[]): Promise<(LivePet | null)[]> => {
    for (const petId of petIds) assertPetId(petId);
    // One round trip for every pet; an unreadable pet is null here.
    const { records } = await options.storage.loadMany(petIds.map((petId) => ({ petId })));
    const nowMs = deps.clock.nowMs();
    return records.map((loaded, index) => {
      if (!loaded.ok || loaded.record === null) return null;
      const record = loaded.record;
      try {
        const pet = hydratePet(petIds[index] as string, record, nowMs, deps.defaults);
        bringLivePetToNow(pet, nowMs, deps.timeScale);
        return pet;
      } catch (error) {
        return unreadableAsNull(error);
      }
    });
  };

  return {
    run,
    peek,
    perform,
    batch,
    events,
    nextLifeEventMs,
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

/** A pet whose stored state cannot be read is left out of a multi-pet read; other failures stay failures. */
function unreadableAsNull(error: unknown): null {
  if (error instanceof CorruptStateError) return null;
  throw error;
}
