/**
 * When a failed delivery is tried again (docs/design.md §13, as Standard Webhooks senders do): the
 * first retry within seconds, then growing delays; after the last one the delivery is given up.
 * An endpoint failing for DISABLE_AFTER_MS is disabled.
 */

/** Delays after the 1st, 2nd, … failed attempt. */
export const RETRY_DELAYS_MS: readonly number[] = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

/** An endpoint that has failed every attempt for this long is disabled. */
export const DISABLE_AFTER_MS = 3 * 24 * 3_600_000;

/** The delay after `failures` failed attempts (1-based), or null when the delivery is given up. */
export function retryDelayMs(failures: number): number | null {
  return RETRY_DELAYS_MS[failures - 1] ?? null;
}
