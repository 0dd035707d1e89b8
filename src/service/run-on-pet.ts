/**
 * The service's one path to storage (DESIGN §4): load the pet in one round trip (creating it on
 * first sight), bring it to now, let the plan change it, save it in one compare-and-set round
 * trip. On a conflict (someone saved first) everything is redone on the fresh state, up to
 * `maxAttempts` times with a small jittered backoff, then ConflictRetriesExhaustedError.
 *
 * Issue #5 builds on three seams: a plan may hit rate-limit counters and read extra records in
 * the same load (`hits`, `extras`; StorageDriver.loadCounted), refuse or short-circuit before any
 * change (`checkHits`: over a limit; `precondition`: Bearer auth against meta.claim_hash, an
 * idempotent replay) and write extra records in the same save (`Change.extras`). Still one read
 * and one compare-and-set per attempt.
 *
 * A request that crosses no whole tick and changes nothing saves nothing; it then answers with
 * the stored instants, not its own "now", so that what it shows never runs ahead of what is
 * stored (a clock stepped back would otherwise show an earlier pet_time on the next request).
 */
import { assertPetId, type ExtraRecord, type HitRequest, type HitResult, type StorageDriver } from '../storage/index.js';
import { ConflictRetriesExhaustedError } from '../errors.js';
import type { Clock } from './clock.js';
import { bringPetToNow, hydratePet, marksOf, type LivePet, type PetDefaults } from './live-pet.js';
import { systemsForSave } from './systems.js';
import type { Answer } from './types.js';

export interface RunDeps {
  storage: StorageDriver;
  clock: Clock;
  timeScale: number;
  defaults: PetDefaults;
  maxAttempts: number;
  /** Delay before attempt `attempt + 1`, ms. */
  backoffMs: (attempt: number) => number;
}

/** What a plan did to the pet. */
export interface Change<R> {
  /** The plan changed the pet and it must be saved (new and advanced pets are saved anyway). */
  changed: boolean;
  result: R;
  /** Extra records written in the same compare-and-set (issue #5: idempotency records). */
  extras?: readonly ExtraRecord[];
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
   * Runs on the loaded pet (already brought to now) before `apply`. Throw to refuse (e.g.
   * UnauthorizedError); return `{ replay }` to answer without changing or saving anything.
   */
  precondition?: (pet: LivePet) => { replay: R } | undefined;
  /** Changes the pet (replacing `pet.state`, editing `pet.meta`) and says what it did. */
  apply: (pet: LivePet, nowMs: number) => Change<R>;
  /** Never save, whatever happened (forecast): one round trip, zero writes. */
  readOnly?: boolean;
  /** Applies no change of its own (a state read): runs outside the per-pet queue. */
  readsOnly?: boolean;
  /** Name and timezone of the pet if this request creates it (over the service's defaults). */
  birth?: Partial<PetDefaults>;
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
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `plan` on pet `petId` with compare-and-set retries. */
export async function runOnPet<R>(deps: RunDeps, petId: string, plan: Plan<R>): Promise<Answer<RunResult<R>>> {
  assertPetId(petId);
  let roundTrips = 0;
  let hits: readonly HitResult[] = [];
  const extras = plan.extras ? { extras: plan.extras } : {};
  for (let attempt = 1; ; attempt += 1) {
    let record: Awaited<ReturnType<StorageDriver['load']>>;
    if (attempt === 1 && plan.hits !== undefined && plan.hits.length > 0) {
      const counted = await deps.storage.loadCounted(petId, { ...extras, hits: plan.hits });
      roundTrips += 1;
      hits = counted.hits;
      plan.checkHits?.(hits);
      record = counted.record;
    } else {
      record = await deps.storage.load(petId, extras);
      roundTrips += 1;
    }
    const nowMs = deps.clock.nowMs();
    const pet = hydratePet(petId, record, nowMs, plan.birth ? { ...deps.defaults, ...plan.birth } : deps.defaults);
    const stored = marksOf(pet);
    bringPetToNow(pet, nowMs, deps.timeScale);
    const done = (result: R, version: number, saved: boolean): Answer<RunResult<R>> => ({
      value: { result, pet, version, saved, nowMs, hits },
      roundTrips,
      attempts: attempt,
    });

    const early = plan.precondition?.(pet);
    if (early) return done(early.replay, pet.loadedVersion, false);
    const change = plan.apply(pet, nowMs);
    const mustSave =
      !plan.readOnly && (change.changed || (change.extras?.length ?? 0) > 0 || pet.created || pet.away !== null);
    if (!mustSave) {
      // No tick passed and nothing changed: answer what is stored (never ahead of it, never behind).
      if (pet.away === null) {
        pet.meta.world_ms = stored.worldMs;
        pet.meta.wall_ms = stored.wallMs;
      }
      return done(change.result, pet.loadedVersion, false);
    }

    const version = pet.loadedVersion + 1;
    pet.meta = { ...pet.meta, version };
    const saved = await deps.storage.save(petId, {
      expectedVersion: pet.loadedVersion,
      meta: pet.meta,
      systems: systemsForSave(pet.state),
      ...(change.extras ? { extras: change.extras } : {}),
    });
    roundTrips += 1;
    if (saved.ok) return done(change.result, saved.version, true);
    if (attempt >= deps.maxAttempts) {
      throw new ConflictRetriesExhaustedError(
        `pet ${petId} is being changed by too many requests at once (${attempt} attempts); try again`,
      );
    }
    await sleep(deps.backoffMs(attempt));
  }
}

/**
 * Full-jitter exponential backoff: 0–2 ms after the first conflict, 0–4, 0–8 … capped at 0–64 ms.
 * Measured with 64 concurrent writers on one pet: at most 12 attempts (bench and
 * test/service/pet-service.test.ts), against a limit of 20.
 */
export function jitteredBackoff(random: () => number = Math.random): (attempt: number) => number {
  return (attempt) => random() * Math.min(64, 2 ** attempt);
}
