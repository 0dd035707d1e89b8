// Request path: a pet as one request sees it, loaded and brought to now.
/**
 * A pet as one request sees it: loaded (or created on first sight), then brought to the wall
 * clock's now by the time model. Stored data the engine cannot read becomes CorruptStateError.
 */
import { advance, createLifeState, fromSystems, tickFromMs, type AdvanceReport, type LifeState } from '../../engine/index.js';
import { CorruptStateError } from '../../errors.js';
import type { PetMeta, PetRecord } from '../../storage/index.js';
import { bringToNow, MS_PER_TICK, type TimeMarks } from './time-model.js';

export interface LivePet {
  readonly petId: string;
  /** The engine state; handlers replace it as they change the pet. */
  state: LifeState;
  /** Working copy of the meta; `version` is still the loaded one. */
  meta: PetMeta;
  /** The version loaded: the compare-and-set expectation (0 when nothing or no meta was stored). */
  readonly loadedVersion: number;
  /** Nothing at all was stored for this pet: it is created by this request. */
  readonly created: boolean;
  /** What the raw load returned (extras included), for preconditions (Idempotency-Key replays, the claim). */
  readonly record: PetRecord | null;
  /** What happened between its previous request and now; null when no tick passed. */
  away: AdvanceReport | null;
}

export interface PetDefaults {
  petName: string;
  timezone: string;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function validMeta(meta: PetMeta, petId: string): PetMeta {
  if (!isFiniteNumber(meta.world_ms) || !isFiniteNumber(meta.wall_ms) || !Number.isInteger(meta.version)) {
    throw new CorruptStateError(`meta of pet ${petId} lacks world_ms, wall_ms or version`, {
      petId,
      claimHash: meta.claim_hash ?? null,
      owners: meta.owners ?? null,
    });
  }
  return meta;
}

/** Builds the pet from what storage returned (null: a pet never seen), at wall time `nowMs`. */
export function hydratePet(petId: string, record: PetRecord | null, nowMs: number, defaults: PetDefaults): LivePet {
  if (record === null) {
    const meta: PetMeta = {
      version: 0,
      pet_name: defaults.petName,
      timezone: defaults.timezone,
      created_at: new Date(nowMs).toISOString(),
      world_ms: nowMs,
      wall_ms: nowMs,
    };
    const state = createLifeState({ tick: tickFromMs(nowMs), timezone: defaults.timezone });
    return { petId, state, meta, loadedVersion: 0, created: true, record: null, away: null };
  }

  const storedMeta = record.meta === null ? null : validMeta({ ...record.meta }, petId);
  const timezone = storedMeta?.timezone ?? defaults.timezone;
  let state: LifeState;
  try {
    state =
      storedMeta === null
        ? fromSystems(record.systems, { timezone })
        : fromSystems(record.systems, { timezone, tick: tickFromMs(storedMeta.world_ms) });
  } catch (error) {
    if (error instanceof CorruptStateError) throw error;
    throw new CorruptStateError(`stored systems of pet ${petId} cannot be read`, {
      cause: error,
      petId,
      claimHash: record.meta?.claim_hash ?? null,
      owners: record.meta?.owners ?? null,
      storedVersion: record.version,
    });
  }

  // State written by the original Python server has systems but no meta: its own clock is
  // the last instant it was advanced to, and it has been away since then.
  const meta: PetMeta = storedMeta ?? {
    version: 0,
    pet_name: defaults.petName,
    timezone,
    created_at: new Date(Math.min(nowMs, state.tick * MS_PER_TICK)).toISOString(),
    world_ms: state.tick * MS_PER_TICK,
    wall_ms: Math.min(nowMs, state.tick * MS_PER_TICK),
  };
  return { petId, state, meta, loadedVersion: record.version, created: false, record, away: null };
}

/** The pet's time marks. */
export function marksOf(pet: LivePet): TimeMarks {
  return { worldMs: pet.meta.world_ms, wallMs: pet.meta.wall_ms };
}

/** Sets the marks and advances the engine to the world clock's whole tick; returns the report (null if no tick passed). */
export function moveTo(pet: LivePet, marks: TimeMarks): AdvanceReport | null {
  pet.meta.world_ms = marks.worldMs;
  pet.meta.wall_ms = marks.wallMs;
  const toTick = tickFromMs(marks.worldMs);
  if (toTick <= pet.state.tick) return null;
  const result = advance(pet.state, toTick);
  pet.state = result.state;
  return result.report;
}

/** Brings the pet to wall time `nowMs` (docs/design.md §2), recording what happened as `away`. */
export function bringPetToNow(pet: LivePet, nowMs: number, timeScale: number): void {
  pet.away = moveTo(pet, bringToNow(marksOf(pet), nowMs, timeScale));
}
