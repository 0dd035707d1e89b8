/**
 * The service's one path to storage (DESIGN §4): load the pet in one round trip (creating it on
 * first sight), bring it to now, let the plan change it, save it in one compare-and-set round
 * trip. On a conflict (someone saved first) everything is redone on the fresh state, up to
 * `maxAttempts` times with a small jittered backoff, then ConflictRetriesExhaustedError.
 *
 * Seams for issue #5: a plan may read extra records in the same load (`extras`), refuse or
 * short-circuit before any change (`precondition`: Bearer auth against meta.claim_hash, an
 * idempotent replay) and write extra records in the same save (`Change.extras`).
 */
import { assertPetId, type ExtraRecord, type StorageDriver } from '../storage/index.js';
import { ConflictRetriesExhaustedError } from '../errors.js';
import type { Clock } from './clock.js';
import { bringPetToNow, hydratePet, type LivePet, type PetDefaults } from './live-pet.js';
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
   * Runs on the loaded pet (already brought to now) before `apply`. Throw to refuse (e.g.
   * UnauthorizedError); return `{ replay }` to answer without changing or saving anything.
   */
  precondition?: (pet: LivePet) => { replay: R } | undefined;
  /** Changes the pet (replacing `pet.state`, editing `pet.meta`) and says what it did. */
  apply: (pet: LivePet, nowMs: number) => Change<R>;
  /** Never save, whatever happened (forecast): one round trip, zero writes. */
  readOnly?: boolean;
}

export interface RunResult<R> {
  result: R;
  /** The pet as answered (saved, unless nothing needed saving or the plan was read-only). */
  pet: LivePet;
  /** The version now stored (the loaded one when nothing was written). */
  version: number;
  saved: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `plan` on pet `petId` with compare-and-set retries. */
export async function runOnPet<R>(deps: RunDeps, petId: string, plan: Plan<R>): Promise<Answer<RunResult<R>>> {
  assertPetId(petId);
  let roundTrips = 0;
  for (let attempt = 1; ; attempt += 1) {
    const record = await deps.storage.load(petId, plan.extras ? { extras: plan.extras } : {});
    roundTrips += 1;
    const nowMs = deps.clock.nowMs();
    const pet = hydratePet(petId, record, nowMs, deps.defaults);
    bringPetToNow(pet, nowMs, deps.timeScale);

    const early = plan.precondition?.(pet);
    if (early) {
      return { value: { result: early.replay, pet, version: pet.loadedVersion, saved: false }, roundTrips, attempts: attempt };
    }
    const change = plan.apply(pet, nowMs);
    const mustSave = !plan.readOnly && (change.changed || pet.created || pet.away !== null);
    if (!mustSave) {
      return { value: { result: change.result, pet, version: pet.loadedVersion, saved: false }, roundTrips, attempts: attempt };
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
    if (saved.ok) {
      return { value: { result: change.result, pet, version: saved.version, saved: true }, roundTrips, attempts: attempt };
    }
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
