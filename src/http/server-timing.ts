/**
 * `Server-Timing` of an API answer (docs/operations.md, "Server-Timing"), so that browser devtools show where the time went:
 * `storage` (waiting on storage round trips, as the service measured them for this request),
 * `engine` (the rest of the service's time: queueing, simulating, rendering) and `total` (since the
 * request frame began). Milliseconds, to the microsecond.
 */
import type { RequestTiming } from '../service/index.js';

/** What the request frame keeps per API request; the service adds to `storageMs`, the pet call sets `serviceMs`. */
export interface FrameTiming extends RequestTiming {
  /** performance.now() when the frame began. */
  readonly startedMs: number;
  /** Milliseconds spent in the service (storage included). */
  serviceMs: number;
}

const ms = (value: number) => Math.round(value * 1000) / 1000;

/** The header value at `nowMs` (performance.now()). */
export function serverTimingOf(timing: FrameTiming, nowMs: number): string {
  const storage = timing.storageMs;
  return `storage;dur=${ms(storage)}, engine;dur=${ms(Math.max(0, timing.serviceMs - storage))}, total;dur=${ms(nowMs - timing.startedMs)}`;
}
