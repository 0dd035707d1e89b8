/**
 * The pet.json codec of the file driver: what the file holds (PetFile), its schema, and its
 * reading — checked, expiry applied, turned into the PetRecord every driver returns (through the
 * same decodeLoad as the Redis drivers). A corrupt file is a CorruptStateError naming the pet;
 * a replace still reads its save token and event log leniently.
 */
import path from 'node:path';
import { z } from 'zod';
import { SYSTEM_NAMES } from '../engine/types.js';
import { EVENT_LOG_STATE_SCHEMA, type EventLogState } from './file-events.js';
import { readOptional } from './file-io.js';
import { corrupt, decodeLoad, encodeValue } from './keys.js';
import { firstIssue } from './schemas.js';
import type { JsonObject, PetMeta, PetRecord } from './types.js';

export const PET_FILE = 'pet.json';

/** What `pet.json` holds. */
export interface PetFile {
  meta: PetMeta | null;
  systems: Partial<Record<string, JsonObject>>;
  /** Unix ms after which the pet counts as gone, or null. */
  expires_at: number | null;
  /** The token of the save that wrote this file, when it wrote extras: its pending extras count. */
  extras_token?: string | null;
  /** The event log's committed state; absent/null: no log. */
  events?: EventLogState | null;
  /** Extras as older versions kept them, inside pet.json (read; moved out by the next save). */
  extras?: Record<string, { value: string; expires_at: number }>;
}

/**
 * The shape of `pet.json` (each value inside is then checked by decodeLoad, as for Redis). The
 * meta must be an object with a numeric version, as CAS_SCRIPT requires, so a save never
 * compares against garbage.
 */
const PET_FILE_SCHEMA = z.looseObject({
  meta: z.looseObject({ version: z.number() }).nullable(),
  systems: z.record(z.string(), z.unknown()),
  extras: z.record(z.string(), z.object({ value: z.string(), expires_at: z.number() })).optional(),
  expires_at: z.number().nullable().optional(),
  extras_token: z.string().nullable().optional(),
  events: EVENT_LOG_STATE_SCHEMA.nullable().optional(),
});

/** Parses `pet.json` of pet `petId`; anything else is a CorruptStateError naming the pet. */
export function parsePetFile(petId: string, raw: string): PetFile {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw corrupt(petId, `${PET_FILE} of pet ${petId} is not JSON`, null, error);
  }
  const checked = PET_FILE_SCHEMA.safeParse(value);
  if (!checked.success) {
    // The claim_hash may still be readable (a reset checks the secret before overwriting).
    const meta = typeof value === 'object' && value !== null && 'meta' in value ? value.meta : null;
    throw corrupt(petId, `${PET_FILE} of pet ${petId} is not a pet file (${firstIssue(checked.error)})`, JSON.stringify(meta ?? null));
  }
  return value as PetFile;
}

/** The event log state of a pet.json that may be corrupt, when it still has a valid one. */
export function lenientEvents(raw: string | null): EventLogState | null {
  try {
    const value = JSON.parse(raw ?? 'null') as { events?: unknown } | null;
    const checked = PET_FILE_SCHEMA.shape.events.safeParse(value?.events);
    return checked.success ? (checked.data ?? null) : null;
  } catch {
    return null;
  }
}

/** The extras_token of a pet.json that may be corrupt, when it still has a string one. */
export function lenientToken(raw: string | null): string | null {
  try {
    const value = JSON.parse(raw ?? 'null') as { extras_token?: unknown } | null;
    return typeof value?.extras_token === 'string' ? value.extras_token : null;
  } catch {
    return null;
  }
}

/** The pet in `folder` (pet.json read and checked), or null when absent or expired at `t`. */
export async function readPetFile(petId: string, folder: string, t: number): Promise<PetFile | null> {
  const raw = await readOptional(path.join(folder, PET_FILE));
  if (raw === null) return null;
  const file = parsePetFile(petId, raw);
  if (file.expires_at !== null && file.expires_at !== undefined && file.expires_at <= t) return null;
  return file;
}

/**
 * A pet file as load() returns it: re-encoded and decoded through the Redis drivers' checks.
 * `extraValues` are the values read from `extras/`; a name missing there may still be inside an
 * older pet.json (live at `t`).
 */
export function petFileToRecord(
  petId: string,
  file: PetFile | null,
  extras: readonly string[],
  extraValues: ReadonlyMap<string, string>,
  t: number,
): PetRecord | null {
  if (file === null) return null;
  const values = [
    file.meta === null ? null : encodeValue(file.meta),
    ...SYSTEM_NAMES.map((name) => {
      const state = file.systems[name];
      return state === undefined ? null : encodeValue(state);
    }),
    ...extras.map((name) => {
      const found = extraValues.get(name);
      if (found !== undefined) return found;
      const legacy = file.extras?.[name];
      return legacy !== undefined && legacy.expires_at > t ? legacy.value : null;
    }),
  ];
  return decodeLoad(petId, values, extras);
}
