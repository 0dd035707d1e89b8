/**
 * Errors the engine throws for input it cannot use. The engine imports nothing outside itself,
 * so the service maps these to its own coded errors (src/errors.ts) at the boundary.
 * Misused arguments (a tick in the past, an unknown timezone, bad params) throw RangeError.
 */

/** An action that is not one of ACTIONS; the engine never ticks instead. */
export class UnknownActionError extends TypeError {
  override readonly name = 'UnknownActionError';
  /** The rejected value, as given. */
  readonly action: unknown;
  constructor(action: unknown) {
    super(`unknown action: ${describeValue(action)} (expected feed, play or greet)`);
    this.action = action;
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return String(value);
  } catch {
    return typeof value;
  }
}

/** Stored systems that cannot be read into a state (wrong type, not finite, out of range). */
export class CorruptSystemsError extends Error {
  override readonly name = 'CorruptSystemsError';
  /** The system (e.g. `rhythm`) and field (e.g. `internal_phase`) at fault, when known. */
  readonly system: string;
  readonly field: string | null;
  constructor(system: string, field: string | null, message: string) {
    super(`${system}${field === null ? '' : `.${field}`}: ${message}`);
    this.system = system;
    this.field = field;
  }
}
