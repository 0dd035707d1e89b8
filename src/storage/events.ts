/**
 * Event ids (issue #12): Redis-stream-style `<ms>-<seq>` strings, strictly increasing per pet,
 * compared by (ms, seq) numerically. Every driver makes them the same way (Redis: XADD `*`).
 */

/** Events kept per pet (Redis `XADD … MAXLEN ~`; files and memory trim to exactly this). */
export const EVENT_LOG_MAX = 1000;

const EVENT_ID = /^(0|[1-9][0-9]{0,15})-(0|[1-9][0-9]{0,15})$/;

/** True for a well-formed `<ms>-<seq>` id. */
export function isEventId(value: unknown): value is string {
  return typeof value === 'string' && EVENT_ID.test(value);
}

function partsOf(id: string): [number, number] {
  const dash = id.indexOf('-');
  return [Number(id.slice(0, dash)), Number(id.slice(dash + 1))];
}

/** Negative when a < b, 0 when equal, positive when a > b (by ms, then seq). */
export function compareEventIds(a: string, b: string): number {
  const [msA, seqA] = partsOf(a);
  const [msB, seqB] = partsOf(b);
  return msA === msB ? seqA - seqB : msA - msB;
}

/** The id after `last` at wall clock `nowMs`: ms = max(now, last ms), seq = last seq + 1 when equal ms. */
export function nextEventId(last: string | null, nowMs: number): string {
  const ms = Math.floor(nowMs);
  if (last === null) return `${ms}-0`;
  const [lastMs, lastSeq] = partsOf(last);
  return ms > lastMs ? `${ms}-0` : `${lastMs}-${lastSeq + 1}`;
}
