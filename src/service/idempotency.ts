/**
 * Idempotent retries (issue #5; IETF httpapi idempotency-key draft, as Stripe does it). The first
 * answer to a request with an `Idempotency-Key` is stored under the pet as
 * `life_<petId>:idem:<sha256 hex of the key>` = {fingerprint, status, body}, written in the same
 * compare-and-set as the change it answers (so either both exist or neither) and kept 24 h. A
 * repeat reads it in its one load: same fingerprint → the stored answer, nothing applied again;
 * another fingerprint (body, method or route) → IdempotencyConflictError. Concurrent repeats: the
 * compare-and-set loser reloads, finds the record and replays it.
 */
import { createHash } from 'node:crypto';
import { CorruptStateError } from '../errors.js';

/** How long a key is remembered. */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

/** What a request brings for idempotency: its key and a fingerprint of what it asks. */
export interface IdempotencyRequest {
  /** The Idempotency-Key as sent (validated by the caller). */
  key: string;
  /** Hash of method, route and canonical body: equal for a true repeat. */
  fingerprint: string;
}

/** The first answer to a key, as stored. */
export interface StoredAnswer<B = unknown> {
  fingerprint: string;
  /** HTTP status of the first answer. */
  status: number;
  /** Its JSON body. */
  body: B;
}

/** `idem:<sha256 hex>`: the extra record name of a key (the key itself never reaches storage). */
export function idempotencyRecordName(key: string): string {
  return `idem:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

export function encodeStoredAnswer(answer: StoredAnswer): string {
  return JSON.stringify({ fingerprint: answer.fingerprint, status: answer.status, body: answer.body });
}

/**
 * Parses a stored answer (null when absent). `B` is the body type of the route that wrote it: the
 * fingerprint covers the route, so a record that matches was written by the same route.
 */
export function decodeStoredAnswer<B>(name: string, raw: string | null | undefined): StoredAnswer<B> | null {
  if (raw === null || raw === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new CorruptStateError(`idempotency record ${name} is not JSON`, { cause: error });
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    !('fingerprint' in value) ||
    typeof value.fingerprint !== 'string' ||
    !('status' in value) ||
    typeof value.status !== 'number' ||
    !('body' in value)
  ) {
    throw new CorruptStateError(`idempotency record ${name} lacks fingerprint, status or body`);
  }
  return { fingerprint: value.fingerprint, status: value.status, body: value.body as B };
}
