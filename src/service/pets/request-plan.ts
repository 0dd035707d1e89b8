/**
 * A request from outside as a plan for runOnPet (or runBatch): admission (admission.ts: limits
 * known exceeded, the stranger's path), the rate-limit counters hit in the pet's load
 * (rate-limits.ts), access (access.ts) and idempotency (idempotency.ts) checked on the loaded pet
 * in one place, then the operation; and how the answer's data is served from the run. DESIGN §15.
 */
import { IdempotencyConflictError, type CorruptStateError, type RateLimitStatus } from '../../errors.js';
import type { HitResult } from '../../storage/index.js';
import { assertAccess, bearerHashOf, isOwnerOrAdmin, type AccessPolicy } from './access.js';
import type { Admission } from './admission.js';
import type { Clock } from '../clock.js';
import {
  decodeStoredAnswer,
  encodeStoredAnswer,
  IDEMPOTENCY_TTL_MS,
  idempotencyRecordName,
  type IdempotencyRequest,
  type StoredAnswer,
} from './idempotency.js';
import type { RequestTiming } from '../observer.js';
import type { Operation } from './operations.js';
import { checkRateLimits, enforcedLimits, rateLimitCounters, type RateLimitPolicy } from './rate-limits.js';
import type { LivePet } from './live-pet.js';
import type { Plan, RunResult } from './run-on-pet.js';

/** What a request from outside brings to `perform`, besides the operation. */
export interface RequestContext<T, B> {
  /** The Bearer secret sent; null or absent when none. */
  bearer?: string | null;
  /** The owner id the Bearer secret was verified as (DESIGN §8; owners.ts); null or absent when none. */
  owner?: string | null;
  /** The client's address, for the per-client limit; null or absent when unknown (not counted). */
  client?: string | null;
  /** Makes a change idempotent (ignored by read-only operations). */
  idempotency?: IdempotencyRequest | null;
  /** Turns the operation's value into the body answered (and stored, with a key). */
  render: (value: T, nowMs: number) => B;
  /** Status of a fresh answer, stored with the body. @default 200 */
  status?: number;
  /**
   * A trusted caller (the CLI, which holds the storage itself): no access check and no limits,
   * but still idempotency, so that it can retry an ambiguous failure safely.
   */
  trusted?: boolean;
  /** Filled in with the request's storage time (Server-Timing). */
  timing?: RequestTiming;
}

/** What `perform` answers. */
export interface Served<B> {
  body: B;
  status: number;
  /** The stored first answer to the same Idempotency-Key: nothing was applied this time. */
  replayed: boolean;
  /** Where each rate limit stands after this request (empty when none applies). */
  limits: readonly RateLimitStatus[];
}

/** A prepared `perform`: its plan, how its answer is served, and whether it comes from a stranger. */
export interface Prepared<T, B> {
  plan: Plan<Step<T, B>>;
  serve: (ran: RunResult<Step<T, B>>) => Served<B>;
  stranger: boolean;
}

/** What a plan of `perform` leaves for the answer. */
export type Step<T, B> =
  | { replayed: true; stored: StoredAnswer<B> }
  | { replayed: false; present: (version: number) => T; rendered: { body: B } | null };

/** What planning a request needs of the service. */
export interface PlanDeps {
  clock: Clock;
  admission: Admission;
  access: AccessPolicy;
  rateLimits: RateLimitPolicy;
  /** The operation's value: from the read cache when the request saved nothing and the operation allows it. */
  answerValueOf: <T>(petId: string, operation: Operation<T>, run: RunResult<unknown>, present: (version: number) => T) => T;
}

export function planRequest<T, B>(deps: PlanDeps, petId: string, operation: Operation<T>, request: RequestContext<T, B>): Prepared<T, B> {
  const { admission, rateLimits, access, answerValueOf } = deps;
  const bearer = request.bearer ?? null;
  const owner = request.owner ?? null;
  const client = request.client ?? null;
  const trustedCaller = request.trusted === true;
  const startedMs = deps.clock.nowMs();
  const bearerHash = bearerHashOf(bearer);
  const admitted = trustedCaller ? { stranger: false } : admission.admit(petId, operation, bearerHash, client, startedMs);
  // A verified owner secret is no stranger's (the memo knows claims, not owners).
  const stranger = admitted.stranger && owner === null;
  const counters = trustedCaller
    ? { hits: [], buckets: [] }
    : rateLimitCounters(rateLimits, petId, { client, bearerHash, weight: operation.weight ?? 1 });
  let counts: readonly HitResult[] = [];
  let limits: readonly RateLimitStatus[] = [];
  const status = request.status ?? 200;
  const idempotency = operation.savesNothing ? null : (request.idempotency ?? null);
  const recordName = idempotency === null ? null : idempotencyRecordName(idempotency.key);

  /**
   * The pet's limit: the owner's own bucket when the secret opens the pet, else the shared one.
   * Checked before access, so that a 429 does not tell whether a secret was right. Nothing to
   * check until the counts are known (counted in the save: run-on-pet.ts).
   */
  const checkPetLimit = (pet: LivePet): void => {
    if (counters.hits.length === 0 || counts.length === 0) return;
    const check = checkRateLimits(counters, counts, rateLimits.windowMs, isOwnerOrAdmin(pet.meta, bearerHash, access, owner));
    limits = check.statuses;
    if (check.sharedPetBlockedMs > 0) admission.block('pet', petId, check.sharedPetBlockedMs, startedMs);
    if (check.exceeded !== null) throw check.exceeded;
  };

  const plan: Plan<Step<T, B>> = {
    ...(request.timing === undefined ? {} : { timing: request.timing }),
    ...(recordName === null ? {} : { extras: [recordName] }),
    ...(counters.hits.length === 0
      ? {}
      : {
          hits: counters.hits,
          // The client's limit does not depend on the pet: refused before the pet is even read.
          checkHits: (hitCounts) => {
            counts = hitCounts;
            const check = checkRateLimits(counters, counts, rateLimits.windowMs, false);
            if (check.clientBlockedMs > 0 && client !== null) {
              admission.block('client', client, check.clientBlockedMs, startedMs);
              limits = check.statuses;
              throw check.exceeded;
            }
          },
          checkLimits: checkPetLimit,
          hitLimits: (pet: LivePet) => enforcedLimits(counters, isOwnerOrAdmin(pet.meta, bearerHash, access, owner)),
        }),
    ...(operation.savesNothing ? { savesNothing: true } : {}),
    ...(operation.changesNothing ? { changesNothing: true } : {}),
    ...(operation.birth ? { birth: operation.birth } : {}),
    ...(operation.startsOver
      ? {
          overwritesCorrupt: (error: CorruptStateError) =>
            trustedCaller ? undefined : admission.assertMayOverwrite(petId, error, bearer, owner),
        }
      : {}),
    precondition: (pet) => {
      admission.rememberClaim(petId, pet.meta.claim_hash ?? null, startedMs);
      checkPetLimit(pet);
      if (!trustedCaller) assertAccess(pet.meta, operation.access, bearer, access, owner);
      if (recordName !== null && idempotency !== null) {
        const stored = decodeStoredAnswer<B>(recordName, pet.record?.extras[recordName]);
        if (stored !== null) {
          if (stored.fingerprint !== idempotency.fingerprint) {
            throw new IdempotencyConflictError('this Idempotency-Key was used for a different request (body or route); use a new key');
          }
          return { replay: { replayed: true, stored } };
        }
      }
      operation.check?.(pet);
      return undefined;
    },
    apply: (pet, nowMs) => {
      const applied = operation.apply(pet, nowMs);
      const events = applied.events ? { events: applied.events } : {};
      if (recordName === null || idempotency === null) {
        return { changed: applied.changed, result: { replayed: false, present: applied.present, rendered: null }, ...events };
      }
      // The record forces a save at loadedVersion + 1 in this attempt, so the answer is final
      // now and goes into the same compare-and-set as the change.
      const body = request.render(applied.present(pet.loadedVersion + 1), nowMs);
      return {
        changed: true,
        result: { replayed: false, present: applied.present, rendered: { body } },
        ...events,
        extras: [
          {
            name: recordName,
            value: encodeStoredAnswer({ fingerprint: idempotency.fingerprint, status, body }),
            ttlMs: IDEMPOTENCY_TTL_MS,
          },
        ],
      };
    },
  };

  const serve = (ran: RunResult<Step<T, B>>): Served<B> => {
    // The claim as this request left it (a claim sets it).
    admission.rememberClaim(petId, ran.pet.meta.claim_hash ?? null, startedMs);
    const step = ran.result;
    return step.replayed
      ? { body: step.stored.body, status: step.stored.status, replayed: true, limits }
      : {
          body: step.rendered !== null ? step.rendered.body : request.render(answerValueOf(petId, operation, ran, step.present), ran.nowMs),
          status,
          replayed: false,
          limits,
        };
  };
  return { plan, serve, stranger };
}
