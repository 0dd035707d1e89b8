/**
 * The service's error types: one base class, one subclass per failure, each with a stable
 * `code` that callers and tests branch on. src/http/errors.ts maps codes to HTTP statuses.
 */

export type ErrorCode =
  | 'invalid_device_id'
  | 'invalid_action'
  | 'invalid_body'
  | 'invalid_query'
  | 'invalid_timezone'
  | 'not_found'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'method_not_allowed'
  | 'unauthorized'
  | 'forbidden'
  | 'idempotency_conflict'
  | 'rate_limited'
  | 'storage_unavailable'
  | 'conflict_retries_exhausted'
  | 'config_invalid'
  | 'corrupt_state';

export abstract class PetLifeError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Input that the service refuses (bad id, action, hours, body, timezone). */
export class InvalidInputError extends PetLifeError {
  override readonly name = 'InvalidInputError';
  readonly code: ErrorCode;
  constructor(code: Extract<ErrorCode, `invalid_${string}`>, message: string) {
    super(message);
    this.code = code;
  }
}

/** The storage backend cannot be reached or refused the operation. */
export class StorageUnavailableError extends PetLifeError {
  override readonly name = 'StorageUnavailableError';
  override readonly code = 'storage_unavailable';
}

/** Stored data that cannot be parsed into a pet. */
export class CorruptStateError extends PetLifeError {
  override readonly name = 'CorruptStateError';
  override readonly code = 'corrupt_state';
}

/** Compare-and-set kept failing: too many concurrent writers on one pet. */
export class ConflictRetriesExhaustedError extends PetLifeError {
  override readonly name = 'ConflictRetriesExhaustedError';
  override readonly code = 'conflict_retries_exhausted';
}

/** The environment does not describe a valid configuration; lists every problem. */
export class ConfigError extends PetLifeError {
  override readonly name = 'ConfigError';
  override readonly code = 'config_invalid';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

export function isPetLifeError(error: unknown): error is PetLifeError {
  return error instanceof PetLifeError;
}
