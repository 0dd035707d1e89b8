/**
 * The pet's event log (docs/design.md §9): what a save appends (PetEventDraft) and what readEvents returns
 * (PetEvent). Ids are Redis-stream ids `<ms>-<seq>`, strictly increasing per pet; the Redis
 * drivers get them from XADD `*`, memory and files make them the same way (nextEventId). Pure:
 * id rules, draft checks, the encoding of one event, no I/O.
 */
import type { JsonObject, PetEvent, PetEventDraft } from './types.js';

/** Events kept per pet: Redis `XADD … MAXLEN ~ 1000` (at least this many), memory and files exactly this many. */
export const EVENT_LOG_MAX = 1000;

/** The events channel is named in the key layout (keys.ts), with the keys. */
export { EVENTS_CHANNEL } from './keys.js';

/** Most events one save may append (a catch-up is bounded by the service far below this). */
export const MAX_EVENTS_PER_SAVE = 200;

const EVENT_ID_PATTERN = /^(\d{1,16})-(\d{1,16})$/;

/** True for a `<ms>-<seq>` id (both parts non-negative safe integers, no sign, no spaces). */
export function isEventId(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = EVENT_ID_PATTERN.exec(value);
  return match !== null && Number.isSafeInteger(Number(match[1])) && Number.isSafeInteger(Number(match[2]));
}

/** The (ms, seq) of an id; throws RangeError for anything that is not one. */
export function parseEventId(id: string): [number, number] {
  const match = EVENT_ID_PATTERN.exec(id);
  if (match === null || !isEventId(id)) throw new RangeError(`not an event id: ${JSON.stringify(id)}`);
  return [Number(match[1]), Number(match[2])];
}

/** Negative, zero or positive as `a` is before, equal to or after `b` (by ms, then seq, numerically). */
export function compareEventIds(a: string, b: string): number {
  const [msA, seqA] = parseEventId(a);
  const [msB, seqB] = parseEventId(b);
  return msA === msB ? seqA - seqB : msA - msB;
}

/** The id after `last` (null: none yet) at wall clock `nowMs`: ms = max(now, last ms), seq + 1 on the same ms (XADD `*`). */
export function nextEventId(last: string | null, nowMs: number): string {
  const ms = Math.max(0, Math.floor(nowMs));
  if (last === null) return `${ms}-0`;
  const [lastMs, lastSeq] = parseEventId(last);
  return ms > lastMs ? `${ms}-0` : `${lastMs}-${lastSeq + 1}`;
}

/** Checks what a save would append (a caller bug, so TypeError/RangeError, before any I/O). */
export function assertEventDrafts(events: unknown): asserts events is readonly PetEventDraft[] | undefined {
  if (events === undefined) return;
  if (!Array.isArray(events)) throw new TypeError('events must be an array of {type, pet_time, at, data}');
  if (events.length > MAX_EVENTS_PER_SAVE) throw new RangeError(`at most ${MAX_EVENTS_PER_SAVE} events per save, got ${events.length}`);
  for (const event of events as unknown[]) {
    if (typeof event !== 'object' || event === null) throw new TypeError('an event must be an object');
    const { type, pet_time: petTime, at, data } = event as Record<string, unknown>;
    if (typeof type !== 'string' || !/^[a-z][a-z_]{0,31}$/.test(type))
      throw new TypeError(`event type must be a lowercase word, got ${JSON.stringify(type)}`);
    if (typeof petTime !== 'string' || petTime === '') throw new TypeError('event pet_time must be an ISO 8601 string');
    if (typeof at !== 'string' || at === '') throw new TypeError('event at must be an ISO 8601 string');
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new TypeError('event data must be a JSON object');
  }
}

/** Checks readEvents' options; returns `after` (null: from the start) and `limit`. */
export function readEventsOptions(options: { after?: string | null; limit?: number } = {}): { after: string | null; limit: number } {
  const after = options.after ?? null;
  if (after !== null && !isEventId(after)) throw new RangeError(`after must be an event id <ms>-<seq>, got ${JSON.stringify(after)}`);
  const limit = options.limit ?? EVENT_LOG_MAX;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${String(limit)}`);
  return { after, limit };
}

/** Checks a driver's `eventLogMax` option. */
export function assertEventLogMax(max: number): void {
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`eventLogMax must be a positive integer, got ${String(max)}`);
}

/** The stored form of a draft: compact JSON of {type, pet_time, at, data} (the id and device are not stored in it). */
export function encodeEvent(draft: PetEventDraft): string {
  return JSON.stringify({ type: draft.type, pet_time: draft.pet_time, at: draft.at, data: draft.data });
}

/** An event as readEvents returns it, from its id, the pet (= device) id and its stored JSON; null when the JSON is not an event. */
export function decodeEvent(id: string, petId: string, raw: string): PetEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { type, pet_time: petTime, at, data } = value as Record<string, unknown>;
  if (typeof type !== 'string' || typeof petTime !== 'string' || typeof at !== 'string') return null;
  const object = typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as JsonObject) : {};
  return { id, type, device_id: petId, pet_time: petTime, at, data: object };
}
