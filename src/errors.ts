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
  | 'invalid_idempotency_key'
  | 'bad_request'
  | 'request_timeout'
  | 'headers_too_large'
  | 'not_found'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'method_not_allowed'
  | 'unauthorized'
  | 'forbidden'
  | 'already_claimed'
  | 'already_exists'
  | 'not_friends'
  | 'limit_reached'
  | 'idempotency_conflict'
  | 'rate_limited'
  | 'storage_unavailable'
  | 'conflict_retries_exhausted'
  | 'busy'
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

/** No route, page or file answers this path. */
export class NotFoundError extends PetLifeError {
  override readonly name = 'NotFoundError';
  override readonly code = 'not_found';
}

/** The path exists, but not for this method; `allowed` lists the methods it answers (the Allow header). */
export class MethodNotAllowedError extends PetLifeError {
  override readonly name = 'MethodNotAllowedError';
  override readonly code = 'method_not_allowed';
  readonly allowed: readonly string[];
  constructor(message: string, allowed: readonly string[]) {
    super(message);
    this.allowed = allowed;
  }
}

/** The storage backend cannot be reached or refused the operation. */
export class StorageUnavailableError extends PetLifeError {
  override readonly name = 'StorageUnavailableError';
  override readonly code = 'storage_unavailable';
}

/** What a CorruptStateError knows about the pet at fault. */
export interface CorruptStateDetails {
  cause?: unknown;
  /** The pet whose stored state is corrupt. */
  petId?: string;
  /** The stored claim_hash, when the meta still parses leniently (a JSON object with a string claim_hash). */
  claimHash?: string | null;
  /** The stored meta's version, when it still parses leniently (a non-negative integer). */
  storedVersion?: number | null;
  /** The stored meta's owners (docs/design.md §8), when it still parses leniently as a list of strings. */
  owners?: readonly string[] | null;
}

/**
 * Stored data that cannot be parsed into a pet. Carries the pet id and, when they can still be
 * read, the stored claim_hash and version, so a reset of a corrupt pet can check the claim
 * secret first and save above the stored version.
 */
export class CorruptStateError extends PetLifeError {
  override readonly name = 'CorruptStateError';
  override readonly code = 'corrupt_state';
  readonly petId: string | null;
  readonly claimHash: string | null;
  readonly storedVersion: number | null;
  readonly owners: readonly string[] | null;
  constructor(message: string, details: CorruptStateDetails = {}) {
    super(message, 'cause' in details ? { cause: details.cause } : undefined);
    this.petId = details.petId ?? null;
    this.claimHash = details.claimHash ?? null;
    this.storedVersion = details.storedVersion ?? null;
    this.owners = details.owners ?? null;
  }
}

/** A claimed pet's change (or, with READS_REQUIRE_AUTH, read) came without a Bearer secret. */
export class UnauthorizedError extends PetLifeError {
  override readonly name = 'UnauthorizedError';
  override readonly code = 'unauthorized';
}

/** The Bearer secret sent is neither the pet's claim secret nor the admin token. */
export class ForbiddenError extends PetLifeError {
  override readonly name = 'ForbiddenError';
  override readonly code = 'forbidden';
}

/** A claim of a pet that has already been claimed (its secret is shown only once). */
export class AlreadyClaimedError extends PetLifeError {
  override readonly name = 'AlreadyClaimedError';
  override readonly code = 'already_claimed';
}

/** A pet created with an id that is already taken (POST /api/pets). */
export class AlreadyExistsError extends PetLifeError {
  override readonly name = 'AlreadyExistsError';
  override readonly code = 'already_exists';
}

/** A visit to a pet that is not a friend of the visitor (docs/design.md §8). */
export class NotFriendsError extends PetLifeError {
  override readonly name = 'NotFriendsError';
  override readonly code = 'not_friends';
}

/** A limit of docs/design.md §8 would be passed: pets per owner, owners per pet, friends per pet. */
export class LimitReachedError extends PetLifeError {
  override readonly name = 'LimitReachedError';
  override readonly code = 'limit_reached';
}

/** An Idempotency-Key reused with another body or on another route. */
export class IdempotencyConflictError extends PetLifeError {
  override readonly name = 'IdempotencyConflictError';
  override readonly code = 'idempotency_conflict';
}

/** Where one rate limit stands after a request was counted. */
export interface RateLimitStatus {
  /** `pet` (requests to one pet) or `client` (requests from one address). */
  readonly policy: 'pet' | 'client';
  /** Requests allowed per window. */
  readonly limit: number;
  /** Requests left in the current window (0 when over). */
  readonly remaining: number;
  /** Seconds until the window resets (at least 1). */
  readonly resetS: number;
  /** Length of the window, seconds. */
  readonly windowS: number;
}

/** Too many requests to this pet or from this client in the current window; nothing was applied. */
export class RateLimitedError extends PetLifeError {
  override readonly name = 'RateLimitedError';
  override readonly code = 'rate_limited';
  /** Seconds until a retry can succeed (the Retry-After header). */
  readonly retryAfterS: number;
  /** Every limit counted for the request, for the RateLimit headers. */
  readonly limits: readonly RateLimitStatus[];
  constructor(message: string, retryAfterS: number, limits: readonly RateLimitStatus[]) {
    super(message);
    this.retryAfterS = retryAfterS;
    this.limits = limits;
  }
}

/** Compare-and-set kept failing: too many concurrent writers on one pet. */
export class ConflictRetriesExhaustedError extends PetLifeError {
  override readonly name = 'ConflictRetriesExhaustedError';
  override readonly code = 'conflict_retries_exhausted';
}

/**
 * Someone else saved the pet since it was loaded. Carries the code of exhausted retries, so that
 * one escaping a caller without a retry loop still maps to 503, never to a 500.
 */
export class VersionConflictError extends PetLifeError {
  override readonly name = 'VersionConflictError';
  override readonly code = 'conflict_retries_exhausted';
  readonly petId: string;
  /** The version the save expected. */
  readonly expectedVersion: number;
  /** The version stored now. */
  readonly actualVersion: number;
  constructor(petId: string, expectedVersion: number, actualVersion: number) {
    super(`pet ${petId} was saved by someone else (expected version ${expectedVersion}, found ${actualVersion})`);
    this.petId = petId;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }
}

export function isVersionConflictError(error: unknown): error is VersionConflictError {
  return error instanceof VersionConflictError;
}

/** Too many requests for one pet are already waiting in this process; nothing was applied. */
export class BusyError extends PetLifeError {
  override readonly name = 'BusyError';
  override readonly code = 'busy';
  /** Seconds after which a retry is likely to find room (the Retry-After header). */
  readonly retryAfterS: number;
  constructor(message: string, retryAfterS = 1) {
    super(message);
    this.retryAfterS = retryAfterS;
  }
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
