/**
 * The checks every driver applies to what it is asked (a caller bug, not bad input, so
 * TypeError/RangeError, before any I/O) and the rules they share about a request: a save's TTL,
 * a hit's weight, a replace's result. Ids and names are checked in keys.ts.
 */
import { SYSTEM_NAMES } from '../engine/types.js';
import { CorruptStateError } from '../errors.js';
import { assertEventDrafts } from './events.js';
import type { HitRequest, LoadManyResult, PetRecord, ReplaceRequest, SaveManyItem, SaveManyResult, SaveResult } from './types.js';

/** A save, or a replace (`expectedVersion: 'any'`): what CAS_SCRIPT and the other drivers' writes take. */
export type WriteRequest = ReplaceRequest & { expectedVersion: number | 'any' };

/** Checks a save or replace request (a caller bug, not bad input, so TypeError/RangeError). */
export function assertSaveRequest(request: WriteRequest): void {
  const { expectedVersion, meta, systems, extras = [], ttlMs, events } = request;
  assertEventDrafts(events);
  if (expectedVersion === 'any') {
    if (!Number.isSafeInteger(meta.version) || meta.version < 1) {
      throw new RangeError(`meta.version of a replace must be a positive integer, got ${meta.version}`);
    }
  } else {
    if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
      throw new RangeError(`expectedVersion must be a non-negative integer or 'any', got ${String(expectedVersion)}`);
    }
    if (meta.version !== expectedVersion + 1) {
      throw new RangeError(`meta.version must be expectedVersion + 1 (${expectedVersion + 1}), got ${meta.version}`);
    }
  }
  if (ttlMs !== null) assertTtlOption(ttlMs);
  for (const name of Object.keys(systems)) {
    if (!(SYSTEM_NAMES as readonly string[]).includes(name)) throw new TypeError(`unknown system ${JSON.stringify(name)}`);
  }
  for (const extra of extras) {
    if (!Number.isSafeInteger(extra.ttlMs) || extra.ttlMs <= 0) {
      throw new RangeError(`extra ${extra.name}: ttlMs must be a positive integer, got ${extra.ttlMs}`);
    }
  }
}

/** The pet TTL of a save: its own `ttlMs` (null = none), else the driver's; undefined = none. */
export function saveTtl(request: WriteRequest, driverTtlMs: number | undefined): number | undefined {
  if (request.ttlMs === null) return undefined;
  return request.ttlMs ?? driverTtlMs;
}

/** Checks a pet TTL option (`ttlMs`): absent, or a positive integer number of ms. */
export function assertTtlOption(ttlMs: number | undefined): void {
  if (ttlMs !== undefined && (!Number.isSafeInteger(ttlMs) || ttlMs <= 0)) {
    throw new RangeError(`ttlMs must be a positive integer, got ${ttlMs}`);
  }
}

/** A replace's result: always a success (a replace has nothing to conflict with). */
export function assertReplaced(result: SaveResult): SaveResult & { ok: true } {
  if (!result.ok) throw new CorruptStateError(`a replace reported a conflict: ${JSON.stringify(result)}`);
  return result;
}

/** The weight of a hit request: a positive integer, 1 when absent. Throws RangeError otherwise. */
export function weightOf(request: HitRequest): number {
  const weight = request.weight ?? 1;
  if (!Number.isSafeInteger(weight) || weight < 1) throw new RangeError(`a hit's weight must be a positive integer, got ${String(weight)}`);
  return weight;
}

/** Checks a hit's window: a positive integer number of ms. */
export function assertWindow(windowMs: number): void {
  if (!Number.isSafeInteger(windowMs) || windowMs <= 0) {
    throw new RangeError(`windowMs must be a positive integer, got ${windowMs}`);
  }
}

/** Checks that a saveMany names each pet at most once (two compare-and-sets of one pet in one call would race). */
export function assertDistinctPets(items: readonly SaveManyItem[]): void {
  if (!Array.isArray(items)) throw new TypeError('saveMany takes an array of {petId, request}');
  const seen = new Set<string>();
  for (const { petId } of items) {
    if (seen.has(petId)) throw new TypeError(`saveMany names pet ${JSON.stringify(petId)} twice`);
    seen.add(petId);
  }
}

/** A loadMany item's answer for a failed read: the pet's own CorruptStateError; anything else is rethrown. */
export function corruptLoad(error: unknown): LoadManyResult {
  if (error instanceof CorruptStateError) return { ok: false, error };
  throw error;
}

/** `read()` as a loadMany item's answer (a corrupt pet answers its error; nothing else is caught). */
export function loadResult(read: () => PetRecord | null): LoadManyResult {
  try {
    return { ok: true, record: read() };
  } catch (error) {
    return corruptLoad(error);
  }
}

/** A saveMany item's answer for a failed compare-and-set: a refusal carrying the CorruptStateError; anything else is rethrown. */
export function corruptSave(error: unknown): SaveManyResult {
  if (error instanceof CorruptStateError) return { ok: false, version: error.storedVersion ?? 0, error };
  throw error;
}

/** `write()` as a saveMany item's answer. */
export function saveResult(write: () => SaveResult): SaveManyResult {
  try {
    return write();
  } catch (error) {
    return corruptSave(error);
  }
}
