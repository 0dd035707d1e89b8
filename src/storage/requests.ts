/**
 * The checks every driver applies to what it is asked (a caller bug, not bad input, so
 * TypeError/RangeError, before any I/O) and the rules they share about a request: a save's TTL,
 * a hit's weight, a replace's result. Ids and names are checked in keys.ts.
 */
import { SYSTEM_NAMES } from '../engine/types.js';
import { CorruptStateError } from '../errors.js';
import { assertEventDrafts } from './events.js';
import type { HitRequest, ReplaceRequest, SaveResult } from './types.js';

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
