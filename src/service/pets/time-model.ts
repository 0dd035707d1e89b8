// Request path: the time model, pure arithmetic on a pet's world and wall instants.
/**
 * The time model of docs/design.md §2, as pure arithmetic on a pet's two stored instants:
 * `world_ms` (the pet's own clock at its last advance) and `wall_ms` (the wall clock then).
 * A request at wall time `now` moves the world clock by (now − wall_ms) × TIME_SCALE, keeping
 * fractions of a minute; a wall clock that went backwards moves nothing. Ticks are whole
 * minutes of the world clock since the Unix epoch.
 */
// The tick grid is the engine's (engine/time.ts); re-exported for the service's callers.
export { MS_PER_TICK, TICKS_PER_HOUR } from '../../engine/index.js';
export const MS_PER_HOUR = 3_600_000;

export interface TimeMarks {
  /** The pet's world clock, Unix ms (fractional ms allowed: nothing is rounded away). */
  worldMs: number;
  /** The wall clock at the last advance, Unix ms; never moves back. */
  wallMs: number;
}

/**
 * The last instant a world clock may reach: 9999-12-31T23:59:59.999Z, the end of four-digit ISO
 * 8601 years. A pet whose clock runs fast (a large TIME_SCALE) stops there instead of reaching
 * dates that cannot be written.
 */
export const MAX_WORLD_MS = 253_402_300_799_999;

/** Brings the marks to wall time `nowMs` at `timeScale` simulated ms per wall ms. */
export function bringToNow(marks: TimeMarks, nowMs: number, timeScale: number): TimeMarks {
  const elapsedWallMs = Math.max(0, nowMs - marks.wallMs);
  return {
    worldMs: Math.max(marks.worldMs, Math.min(MAX_WORLD_MS, marks.worldMs + elapsedWallMs * timeScale)),
    wallMs: Math.max(marks.wallMs, nowMs),
  };
}

/** Moves the world clock ahead by `hours` simulated hours (catch-up); the wall clock stays. */
export function fastForward(marks: TimeMarks, hours: number): TimeMarks {
  return { worldMs: marks.worldMs + hours * MS_PER_HOUR, wallMs: marks.wallMs };
}
