// The clock seam: the one place wall-clock time enters the service.
/**
 * Where wall-clock time enters the service. Everything else receives times as arguments, so
 * tests pin or move time with a manual clock instead of sleeping.
 */

export interface Clock {
  /** Wall-clock time, Unix ms. */
  nowMs(): number;
}

/** The real clock. */
export const systemClock: Clock = { nowMs: () => Date.now() };

/** A clock that moves only when told to (tests, the CLI's what-if runs). */
export interface ManualClock extends Clock {
  /** Sets the time, Unix ms (may move backwards, to test clock skew). */
  set(ms: number): void;
  /** Moves the time by `ms` (negative moves it back). */
  advance(ms: number): void;
}

/** Creates a manual clock starting at `startMs` (Unix ms). */
export function createManualClock(startMs: number): ManualClock {
  let now = startMs;
  return {
    nowMs: () => now,
    set: (ms) => {
      now = ms;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}
