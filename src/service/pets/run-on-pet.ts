// Request path: the one load, change, save loop every request goes through.
/**
 * The service's one path to storage (docs/design.md §4): load the pet in one round trip
 * (creating it on first sight), bring it to now, let the plan change it, save it in one
 * compare-and-set round trip. On a conflict (someone saved first) everything is redone on the fresh state (the one
 * the conflicting save answered, when the driver answers it: the Redis drivers do, so no read), up to
 * `maxAttempts` times with a small jittered backoff, then ConflictRetriesExhaustedError.
 *
 * Access, retries and rate limits (docs/reliability.md) build on three seams: a plan may hit rate-limit counters and read extra records in
 * the same load (`hits`, `extras`; StorageDriver.loadCounted), refuse or short-circuit before any
 * change (`checkHits`: over a limit; `precondition`: Bearer auth against meta.claim_hash, an
 * idempotent replay) and write extra records in the same save (`Change.extras`). Still one read
 * and one compare-and-set per attempt.
 *
 * A request that crosses no whole tick and changes nothing saves nothing; it then answers with
 * the stored instants, not its own "now", so that what it shows never runs ahead of what is
 * stored (a clock stepped back would otherwise show an earlier pet_time on the next request).
 */
import {
  assertPetId,
  type ExtraRecord,
  type HitRequest,
  type HitResult,
  type PetEventDraft,
  type PetMeta,
  type PetRecord,
  type SaveRequest,
  type SaveResult,
  type StorageDriver,
} from '../../storage/index.js';
import { ConflictRetriesExhaustedError, CorruptStateError } from '../../errors.js';
import type { Clock } from '../clock.js';
import { bringPetToNow, hydratePet, marksOf, type LivePet, type PetDefaults } from './live-pet.js';
import { lifeEventDrafts } from '../events/pet-events.js';
import { systemsForSave } from './stored-systems.js';
import type { RequestTiming, ServiceObserver } from '../observer.js';
import type { Answer } from './types.js';

export interface RunDeps {
  storage: StorageDriver;
  /**
   * Time to live of a pet created by reads alone and never changed, ms (docs/design.md §14: strangers
   * reading random ids cannot fill the store); null = such pets are kept like any other.
   */
  newbornTtlMs: number | null;
  clock: Clock;
  timeScale: number;
  defaults: PetDefaults;
  maxAttempts: number;
  /** Delay before attempt `attempt + 1`, ms. */
  backoffMs: (attempt: number) => number;
  /** Told of every compare-and-set conflict. @default nothing */
  observer?: ServiceObserver;
}

/** What a plan did to the pet. */
export interface Change<R> {
  /** The plan changed the pet and it must be saved (new and advanced pets are saved anyway). */
  changed: boolean;
  result: R;
  /** Extra records written in the same compare-and-set (idempotency records). */
  extras?: readonly ExtraRecord[];
  /**
   * The operation's own events (docs/design.md §9), appended after the life events of bringing the pet to
   * now, in the same compare-and-set. Built by `apply`, so a retry builds them anew.
   */
  events?: readonly PetEventDraft[];
}

export interface Plan<R> {
  /** Extra record names to read with the pet, in the same round trip. */
  extras?: readonly string[];
  /**
   * Counters (rate limits) hit in the first attempt's load, in the same round trip; the retries
   * of a compare-and-set conflict load without them, so a request counts once.
   */
  hits?: readonly HitRequest[];
  /** Sees the counts (same order as `hits`) before anything else; throw to refuse (RateLimitedError). */
  checkHits?: (counts: readonly HitResult[]) => void;
  /**
   * With a driver that counts in its save (StorageDriver.saveCounted) and a pet it holds, the hits
   * are not counted in a load but in the save, or alone when nothing is saved or a precondition
   * refuses (one round trip either way; docs/design.md §15). `checkLimits` then sees the pet
   * (the limits whose bucket depends on it) after `checkHits`, and `hitLimits` gives the limit
   * each hit may reach for the save to write (0 = not enforced), as `checkLimits` enforces them.
   */
  checkLimits?: (pet: LivePet) => void;
  hitLimits?: (pet: LivePet) => readonly number[];
  /**
   * Runs on the loaded pet (already brought to now) before `apply`. Throw to refuse (e.g.
   * UnauthorizedError); return `{ replay }` to answer without changing or saving anything.
   */
  precondition?: (pet: LivePet) => { replay: R } | undefined;
  /** Changes the pet (replacing `pet.state`, editing `pet.meta`) and says what it did. */
  apply: (pet: LivePet, nowMs: number) => Change<R>;
  /** Never save, whatever happened (forecast): one round trip, zero writes. */
  savesNothing?: boolean;
  /** Applies no change of its own (a state read; catching up to now may still save): runs outside the per-pet queue. */
  changesNothing?: boolean;
  /** Name and timezone of the pet if this request creates it (over the service's defaults). */
  birth?: Partial<PetDefaults>;
  /**
   * The plan may start over a pet whose stored state cannot be read (a reset): then this runs
   * with the CorruptStateError (throw to refuse: the access check against what the error could
   * still read of the meta), and the plan is applied to a newborn that replaces the stored pet
   * whatever is stored (StorageDriver.replace). Without it, a corrupt pet is an error.
   */
  overwritesCorrupt?: (error: CorruptStateError) => void;
  /** The request's timing: the time of each storage round trip is added to `storageMs`. */
  timing?: RequestTiming;
}

export interface RunResult<R> {
  result: R;
  /** The pet as answered (saved, unless nothing needed saving or the plan was read-only). */
  pet: LivePet;
  /** The version now stored (the loaded one when nothing was written). */
  version: number;
  saved: boolean;
  /** Wall time the pet was brought to (the last attempt's), Unix ms. */
  nowMs: number;
  /** The counts of `plan.hits` (empty when the plan hit none). */
  hits: readonly HitResult[];
  /** Ids of the events the save appended, in order (empty when nothing was saved). */
  eventIds: readonly string[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `plan` on pet `petId` with compare-and-set retries. */
export async function runOnPet<R>(deps: RunDeps, petId: string, plan: Plan<R>): Promise<Answer<RunResult<R>>> {
  assertPetId(petId);
  let roundTrips = 0;
  let hits: readonly HitResult[] = [];
  const timing = plan.timing;
  /** Adds the time since `startedMs` to the request's storage time. */
  const stored = (startedMs: number) => {
    if (timing !== undefined) timing.storageMs += performance.now() - startedMs;
  };
  const extras = plan.extras ? { extras: plan.extras } : {};
  /** The pet as a conflicting save found it stored (§11): the next attempt starts from it, without a read. */
  let answered: PetRecord | null | undefined;
  /** A held pet whose hits are not counted yet (attempt 1 only). */
  let deferred: { record: PetRecord | null } | undefined;
  /** The deferred hits, seen by the plan (the pet's limits when the pet is known). */
  const settle = (counts: HitResult[], pet: LivePet | null): void => {
    deferred = undefined;
    hits = counts;
    plan.checkHits?.(hits);
    if (pet !== null) plan.checkLimits?.(pet);
  };
  /**
   * The deferred hits counted when nothing is saved: the counted load a held pet would have had
   * (the counters only, one round trip; the pet it answers is not used).
   */
  const countAlone = async (pet: LivePet | null): Promise<void> => {
    const started = timing === undefined ? 0 : performance.now();
    roundTrips += 1;
    const counted = await deps.storage.loadCounted(petId, { hits: plan.hits ?? [] }).finally(() => stored(started));
    settle(counted.hits, pet);
  };
  for (let attempt = 1; ; attempt += 1) {
    const defaults = plan.birth ? { ...deps.defaults, ...plan.birth } : deps.defaults;
    let pet: LivePet;
    let nowMs: number;
    const loadStarted = timing === undefined ? 0 : performance.now();
    let loaded = false;
    try {
      let record: Awaited<ReturnType<StorageDriver['load']>>;
      if (attempt === 1) deferred = await heldForCountedSave(deps, petId, plan);
      if (answered !== undefined) {
        record = answered;
        answered = undefined;
        loaded = true;
      } else if (deferred !== undefined) {
        record = deferred.record;
        loaded = true;
      } else if (attempt === 1 && plan.hits !== undefined && plan.hits.length > 0) {
        roundTrips += 1;
        const counted = await deps.storage.loadCounted(petId, { ...extras, hits: plan.hits });
        stored(loadStarted);
        loaded = true;
        hits = counted.hits;
        plan.checkHits?.(hits);
        record = counted.record;
      } else {
        roundTrips += 1;
        record = await deps.storage.load(petId, extras);
        stored(loadStarted);
        loaded = true;
      }
      nowMs = deps.clock.nowMs();
      pet = hydratePet(petId, record, nowMs, defaults);
    } catch (error) {
      if (!loaded) stored(loadStarted);
      // The held pet did not decode: its hits still count, as a counted load's would.
      if (deferred !== undefined) await countAlone(null);
      // Unreadable, by the driver's checks or the engine's: only a plan that starts over may go on.
      if (!(error instanceof CorruptStateError) || plan.overwritesCorrupt === undefined) throw error;
      const replaceStarted = timing === undefined ? 0 : performance.now();
      const overwritten = await overwriteCorrupt(deps, petId, plan, error, defaults, deps.clock.nowMs()).finally(() =>
        stored(replaceStarted),
      );
      return { ...overwritten, roundTrips: roundTrips + 1, attempts: attempt };
    }
    const marks = marksOf(pet);
    bringPetToNow(pet, nowMs, deps.timeScale);
    // What happened while away, before the plan changes anything (a reset forgets `away`).
    const lifeEvents = lifeEventDrafts(pet.away, pet.state.timezone, nowMs);
    const done = (result: R, version: number, saved: boolean, eventIds: readonly string[] = []): Answer<RunResult<R>> => ({
      value: { result, pet, version, saved, nowMs, hits, eventIds },
      roundTrips,
      attempts: attempt,
    });

    let early: { replay: R } | undefined;
    let refused = false;
    try {
      early = plan.precondition?.(pet);
    } catch (error) {
      if (deferred === undefined) throw error;
      refused = true;
    }
    if (deferred !== undefined && (refused || early !== undefined)) {
      // Refused or replayed: the hits count first (a limit refuses before access, as after a
      // counted load), then the same precondition again, now with the counts.
      await countAlone(pet);
      early = plan.precondition?.(pet);
    }
    if (early) return done(early.replay, pet.loadedVersion, false);
    const change = plan.apply(pet, nowMs);
    const events = [...lifeEvents, ...(change.events ?? [])];
    const mustSave =
      !plan.savesNothing && (change.changed || (change.extras?.length ?? 0) > 0 || events.length > 0 || pet.created || pet.away !== null);
    if (!mustSave) {
      if (deferred !== undefined) await countAlone(pet);
      // No tick passed and nothing changed: answer what is stored (never ahead of it, never behind).
      if (pet.away === null) {
        pet.meta.world_ms = marks.worldMs;
        pet.meta.wall_ms = marks.wallMs;
      }
      return done(change.result, pet.loadedVersion, false);
    }

    const version = pet.loadedVersion + 1;
    pet.meta = { ...markNewborn(pet, change.changed || (change.extras?.length ?? 0) > 0), version };
    const saveStarted = timing === undefined ? 0 : performance.now();
    const request: SaveRequest = {
      expectedVersion: pet.loadedVersion,
      meta: pet.meta,
      systems: systemsForSave(pet.state),
      ...(change.extras ? { extras: change.extras } : {}),
      ...(events.length > 0 ? { events } : {}),
      ...ttlOf(deps, pet.meta),
    };
    let saved: SaveResult;
    try {
      saved = deferred === undefined ? await deps.storage.save(petId, request) : await countedSave(deps, petId, plan, pet, request, settle);
    } finally {
      stored(saveStarted);
    }
    roundTrips += 1;
    if (saved.ok) return done(change.result, saved.version, true, saved.eventIds);
    // The conflict's record has no extra records: a plan that reads some loads again.
    if (saved.record !== undefined && (plan.extras?.length ?? 0) === 0) answered = saved.record;
    deps.observer?.conflict(attempt < deps.maxAttempts);
    if (attempt >= deps.maxAttempts) {
      throw new ConflictRetriesExhaustedError(
        `pet ${petId} is being changed by too many requests at once (${attempt} attempts); try again`,
      );
    }
    await sleep(deps.backoffMs(attempt));
  }
}

/**
 * The held pet of a plan whose hits its save may count (StorageDriver.loadHeld, saveCounted), no
 * round trip; undefined when the driver cannot, the plan reads extra records, or the pet is not held.
 */
async function heldForCountedSave<R>(deps: RunDeps, petId: string, plan: Plan<R>): Promise<{ record: PetRecord | null } | undefined> {
  const { storage } = deps;
  if (plan.hits === undefined || plan.hits.length === 0 || plan.hitLimits === undefined || (plan.extras?.length ?? 0) > 0) return undefined;
  if (storage.saveCounted === undefined || storage.loadHeld === undefined) return undefined;
  const record = await storage.loadHeld(petId);
  return record === undefined ? undefined : { record };
}

/**
 * The save with the plan's hits counted in it: the plan sees the counts (and refuses when over a
 * limit, in which case the save wrote nothing).
 */
async function countedSave<R>(
  deps: RunDeps,
  petId: string,
  plan: Plan<R>,
  pet: LivePet,
  request: SaveRequest,
  settle: (counts: HitResult[], pet: LivePet) => void,
): Promise<SaveResult> {
  const hits = plan.hits ?? [];
  const limits = plan.hitLimits?.(pet) ?? hits.map(() => 0);
  const counted = await (deps.storage.saveCounted as NonNullable<StorageDriver['saveCounted']>)(petId, request, { hits, limits });
  settle(counted.hits, pet);
  // The plan enforces the limits the save was given: a refused save was refused by the plan too.
  if (counted.result === null) throw new Error(`the save of pet ${petId} was refused by a rate limit the request is within`);
  return counted.result;
}

/**
 * The meta to save: a pet created by this request without a change of its own (a read) is marked
 * `newborn`; any change removes the mark for good. Pets stored before the mark existed have none
 * and are kept like any other.
 */
export function markNewborn(pet: LivePet, changed: boolean): PetMeta {
  const { newborn: _newborn, ...rest } = pet.meta;
  if (changed) return rest;
  return pet.created || pet.meta.newborn === true ? { ...rest, newborn: true } : rest;
}

/** The per-save TTL: the newborn TTL for a pet still marked newborn, else the driver's own (PET_TTL_DAYS). */
export function ttlOf(deps: RunDeps, meta: PetMeta): { ttlMs?: number } {
  return meta.newborn === true && deps.newbornTtlMs !== null ? { ttlMs: deps.newbornTtlMs } : {};
}

/**
 * A plan with `overwritesCorrupt` on a pet whose stored state cannot be read: a newborn (in the
 * service's defaults; the stored name and zone are unreadable too), keeping the claim when the
 * meta still yields it, changed by the plan and written over whatever is stored in one round trip.
 */
async function overwriteCorrupt<R>(
  deps: RunDeps,
  petId: string,
  plan: Plan<R>,
  error: CorruptStateError,
  defaults: PetDefaults,
  nowMs: number,
): Promise<Omit<Answer<RunResult<R>>, 'roundTrips' | 'attempts'>> {
  plan.overwritesCorrupt?.(error);
  const pet = hydratePet(petId, null, nowMs, defaults);
  if (error.claimHash !== null) pet.meta = { ...pet.meta, claim_hash: error.claimHash };
  // Its owners too (docs/design.md §8): a reset must not leave an owned pet open.
  if (error.owners !== null && error.owners.length > 0) pet.meta = { ...pet.meta, owners: [...error.owners] };
  const change = plan.apply(pet, nowMs);
  // Above the stored version (when readable), so a save prepared against the corrupt pet conflicts.
  const version = (error.storedVersion ?? 0) + 1;
  const { newborn: _newborn, ...meta } = pet.meta;
  pet.meta = { ...meta, version };
  const replaced = await deps.storage.replace(petId, {
    meta: pet.meta,
    systems: systemsForSave(pet.state),
    ...(change.extras ? { extras: change.extras } : {}),
    ...(change.events && change.events.length > 0 ? { events: change.events } : {}),
  });
  return { value: { result: change.result, pet, version, saved: true, nowMs, hits: [], eventIds: replaced.eventIds } };
}

/**
 * Full-jitter exponential backoff: 0–2 ms after the first conflict, 0–4, 0–8 … capped at 0–64 ms.
 * Measured with 64 concurrent writers on one pet: at most 12 attempts (bench and
 * test/service/pet-service.test.ts), against a limit of 20.
 */
export function jitteredBackoff(random: () => number = Math.random): (attempt: number) => number {
  return (attempt) => random() * Math.min(64, 2 ** attempt);
}
