/**
 * The only table from error code to HTTP status, and the two error bodies: the API's
 * `{"error": {"code", "message"}}` and the original server's envelope
 * `{"success": false, "error": {"code", "message"}, "timestamp"}` for the compatibility routes.
 * Anything that is neither a PetLifeError nor an HTTPException is a 500 with a generic message;
 * its stack goes to the log, never to the client.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  BusyError,
  CorruptStateError,
  type ErrorCode,
  isPetLifeError,
  MethodNotAllowedError,
  type PetLifeError,
  RateLimitedError,
  UnauthorizedError,
} from '../errors.js';
import type { AppEnv } from './env.js';
import { rateLimitHeaders } from './rate-limit-headers.js';

/** Codes on the wire: the service's, plus one for failures it did not foresee. */
export type WireErrorCode = ErrorCode | 'internal_error';

const STATUS_BY_CODE: Record<WireErrorCode, ContentfulStatusCode> = {
  invalid_device_id: 400,
  invalid_action: 400,
  invalid_body: 400,
  invalid_query: 400,
  invalid_timezone: 400,
  invalid_idempotency_key: 400,
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_friends: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  already_claimed: 409,
  already_exists: 409,
  limit_reached: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_conflict: 422,
  rate_limited: 429,
  headers_too_large: 431,
  config_invalid: 500,
  corrupt_state: 500,
  internal_error: 500,
  storage_unavailable: 503,
  conflict_retries_exhausted: 503,
  busy: 503,
};

/** The code an HTTPException (from Hono's own middleware) stands for. */
const CODE_BY_STATUS: Partial<Record<number, WireErrorCode>> = {
  400: 'invalid_body',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'storage_unavailable',
};

const DEFAULT_MESSAGES: Partial<Record<WireErrorCode, string>> = {
  invalid_body: 'the request body must be a JSON object as documented at /docs',
  payload_too_large: 'the request body is too large',
  unsupported_media_type: 'send the body as Content-Type: application/json',
  internal_error: 'internal error; it has been logged',
};

/**
 * Errors whose own message describes the server's insides (a storage host and port, a connection
 * error, a parse failure): the client gets this text and the request id, the log gets the rest.
 */
const SAFE_MESSAGES: Partial<Record<WireErrorCode, string>> = {
  corrupt_state: 'the stored state of this pet cannot be read; it has been logged',
  config_invalid: 'the server is misconfigured; it has been logged',
  storage_unavailable:
    'the storage is unavailable; try again shortly. A change answered this way may or may not have been applied: ' +
    'send it again with the same Idempotency-Key to be sure it counts once',
};

export interface WireError {
  status: ContentfulStatusCode;
  code: WireErrorCode;
  message: string;
  /** Headers the error calls for (WWW-Authenticate on a 401; Retry-After and RateLimit on a 429). */
  headers?: Record<string, string>;
}

/** The challenge of a 401 (RFC 6750). */
export const BEARER_CHALLENGE = 'Bearer realm="pet-life"';

function headersOf(error: unknown): Record<string, string> | undefined {
  if (error instanceof UnauthorizedError) return { 'WWW-Authenticate': BEARER_CHALLENGE };
  if (error instanceof RateLimitedError) return { 'Retry-After': String(error.retryAfterS), ...rateLimitHeaders(error.limits) };
  if (error instanceof BusyError) return { 'Retry-After': String(error.retryAfterS) };
  if (error instanceof MethodNotAllowedError) return { Allow: error.allowed.join(', ') };
  return undefined;
}

export function statusOf(code: WireErrorCode): ContentfulStatusCode {
  return STATUS_BY_CODE[code];
}

/** Turns anything thrown into the status, code and client-safe message to answer with. */
export function toWireError(error: unknown): WireError {
  if (isPetLifeError(error)) {
    const code = error.code;
    // Corrupt or config errors describe the server's insides: keep the details in the log.
    const message =
      error instanceof CorruptStateError && error.petId !== null
        ? `the stored state of pet ${error.petId} cannot be read; it has been logged. A reset with its secret or the admin token starts it over`
        : (SAFE_MESSAGES[code] ?? error.message);
    const headers = headersOf(error);
    return { status: statusOf(code), code, message, ...(headers ? { headers } : {}) };
  }
  if (error instanceof HTTPException) {
    const code = CODE_BY_STATUS[error.status] ?? (error.status >= 500 ? 'internal_error' : 'invalid_body');
    const status = (error.status >= 400 && error.status <= 599 ? error.status : 500) as ContentfulStatusCode;
    // Hono's own texts for these are bare ("Unsupported Media Type"); ours say what to send.
    const preferDefault = code === 'unsupported_media_type';
    const message = (preferDefault ? DEFAULT_MESSAGES[code] : error.message) || DEFAULT_MESSAGES[code] || 'request refused';
    return { status, code, message: code === 'internal_error' ? (DEFAULT_MESSAGES.internal_error ?? '') : message };
  }
  return { status: 500, code: 'internal_error', message: DEFAULT_MESSAGES.internal_error ?? 'internal error' };
}

/** Which body shape errors take on this request (declared with the context's variables). */
export type { ErrorStyle } from './env.js';

/** Builds the JSON error response for `wire` in the style the route asked for. */
export function errorResponse(c: Context<AppEnv>, wire: WireError, headers?: Record<string, string>): Response {
  return c.json(errorBodyOf(c, wire), wire.status, wire.headers || headers ? { ...wire.headers, ...headers } : undefined);
}

/** The JSON body of `wire` in the style the route asked for (also each failed operation of a batch). */
export function errorBodyOf(c: Context<AppEnv>, wire: WireError): object {
  // A server-side failure names the request id, which the log line of its details carries too.
  const error =
    wire.status >= 500
      ? { code: wire.code, message: wire.message, request_id: c.get('requestId') ?? null }
      : { code: wire.code, message: wire.message };
  const nowMs = c.get('clock')?.nowMs() ?? Date.now();
  return c.get('errorStyle') === 'compat' ? { success: false, error, timestamp: new Date(nowMs).toISOString() } : { error };
}

/** Answers `error` (a 404 or 405 found by a handler) through the table, without the error log of app.onError. */
export function answerError(c: Context<AppEnv>, error: PetLifeError): Response {
  return errorResponse(c, toWireError(error));
}
