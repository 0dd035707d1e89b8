/**
 * Records tied to no pet, with their own compare-and-set (docs/design.md §8: owners, invite codes):
 * `life_~<purpose>:<subject>` (globalKey) holding `<version>:<value>`, so one key carries both
 * and every driver reads and writes it in one single-key step (Redis: GET, RECORD_SAVE_SCRIPT,
 * RECORD_TAKE_SCRIPT). Pure: no I/O.
 */
import { CorruptStateError } from '../errors.js';
import { type KeyLayout, PLAIN_LAYOUT, globalKey } from './keys.js';
import type { RecordRef, RecordSaveRequest, StoredRecord } from './types.js';

/** The key of a record (purpose and subject validated by globalKey), in `layout`. */
export function recordKey(ref: RecordRef, layout: KeyLayout = PLAIN_LAYOUT): string {
  return globalKey(ref.purpose, ref.subject, layout);
}

/** Throws TypeError for a request no driver may store (a programming error, not input). */
export function assertRecordSave(request: RecordSaveRequest): void {
  if (!Number.isSafeInteger(request.expectedVersion) || request.expectedVersion < 0) {
    throw new TypeError('expectedVersion must be an integer ≥ 0');
  }
  if (typeof request.value !== 'string') throw new TypeError('value must be a string');
  const ttl = request.ttlMs;
  if (ttl !== undefined && ttl !== null && (!Number.isSafeInteger(ttl) || ttl < 1)) {
    throw new TypeError('ttlMs must be a positive integer, null or absent');
  }
}

/** The stored form: `<version>:<value>`. */
export function encodeRecord(version: number, value: string): string {
  return `${version}:${value}`;
}

/** Parses a stored `<version>:<value>`; null for null; CorruptStateError for anything else. */
export function decodeRecord(key: string, raw: string | null | undefined): StoredRecord | null {
  if (raw === null || raw === undefined) return null;
  const match = /^(\d{1,15}):/.exec(raw);
  if (match === null) throw new CorruptStateError(`${key} is not a versioned record`);
  const version = Number(match[1]);
  return { version, value: raw.slice(match[0].length) };
}

/**
 * The compare-and-set of one record: KEYS[1] = the record; ARGV[1] = expected version (0: only
 * if absent), ARGV[2] = value, ARGV[3] = ttl ms or '' for none. Returns {1, new version} or
 * {0, stored version}; a stored value without a version prefix is a CORRUPT error.
 */
export const RECORD_SAVE_SCRIPT = `local raw = redis.call('GET', KEYS[1])
local current = 0
if raw then
  local prefix = string.match(raw, '^(%d+):')
  if not prefix then return redis.error_reply('CORRUPT ' .. KEYS[1] .. ' is not a versioned record') end
  current = tonumber(prefix)
end
if current ~= tonumber(ARGV[1]) then return {0, current} end
local nextVersion = current + 1
if ARGV[3] == '' then
  redis.call('SET', KEYS[1], nextVersion .. ':' .. ARGV[2])
else
  redis.call('SET', KEYS[1], nextVersion .. ':' .. ARGV[2], 'PX', ARGV[3])
end
return {1, nextVersion}
`;

/** Reads and deletes one record atomically (a one-use code): KEYS[1]; returns its raw value or nil. */
export const RECORD_TAKE_SCRIPT = `local raw = redis.call('GET', KEYS[1])
if raw then redis.call('DEL', KEYS[1]) end
return raw
`;

/** RECORD_SAVE_SCRIPT's reply as a result. */
export function parseRecordSaveReply(reply: unknown): { ok: true; version: number } | { ok: false; version: number } {
  if (!Array.isArray(reply) || reply.length !== 2) throw new CorruptStateError(`unexpected record save reply: ${JSON.stringify(reply)}`);
  const [ok, version] = reply.map(Number) as [number, number];
  return ok === 1 ? { ok: true, version } : { ok: false, version };
}
