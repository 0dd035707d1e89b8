/**
 * What the service remembers between requests so that strangers cannot fill a pet's queue
 * (DESIGN §14): a client over its limit and a pet whose shared bucket is full are refused at once,
 * with no round trip; a request whose secret does not open a claimed pet (as last loaded) still
 * goes to storage, where it is counted and refused, but outside the queue, so it never delays the
 * owner. Also who may start over a pet whose stored state cannot be read. Bounded memos only.
 */
import { type CorruptStateError, ForbiddenError, UnauthorizedError, type RateLimitStatus } from '../../errors.js';
import { assertAccess, bearerHashOf, isOwnerOrAdmin, type AccessPolicy } from './access.js';
import { createExpiringMap } from '../expiring-map.js';
import type { Operation } from './operations.js';
import { rateLimitedBy, type RateLimitPolicy } from './rate-limits.js';

/** Clients, pets and claims remembered between requests, each (bounded whatever strangers do). */
const MEMO_ENTRIES = 10_000;
/** How long a pet's claim, as last loaded, is trusted to refuse a wrong secret before queueing. */
const CLAIM_MEMO_MS = 60_000;

export interface Admission {
  /** Throws when a limit is known to be exceeded; true when the request is a stranger's to a claimed pet. */
  admit(
    petId: string,
    operation: Operation<unknown>,
    bearerHash: Buffer | null,
    client: string | null,
    nowMs: number,
  ): { stranger: boolean };
  /** Remembers a limit found exceeded until its window resets. */
  block(policy: RateLimitStatus['policy'], key: string, resetInMs: number, nowMs: number): void;
  /** Remembers the pet's claim as a request found (or left) it. */
  rememberClaim(petId: string, claimHash: string | null, nowMs: number): void;
  /**
   * Who may start over a pet whose stored state cannot be read: the admin token always; the
   * pet's secret when the meta still names its claim; anyone when the meta still shows it
   * unclaimed. When not even that can be read, only the admin token.
   */
  assertMayOverwrite(petId: string, error: CorruptStateError, bearer: string | null, owner: string | null): void;
}

export function createAdmission(access: AccessPolicy, rateLimits: RateLimitPolicy): Admission {
  const blockedClients = createExpiringMap<RateLimitStatus>(MEMO_ENTRIES);
  const blockedPets = createExpiringMap<RateLimitStatus>(MEMO_ENTRIES);
  const knownClaims = createExpiringMap<string | null>(MEMO_ENTRIES);
  return {
    admit(petId, operation, bearerHash, client, nowMs) {
      const blockedClient = client === null ? undefined : blockedClients.get(client, nowMs);
      if (blockedClient !== undefined) throw rateLimitedBy(blockedClient);
      const claim = knownClaims.get(petId, nowMs);
      const owner = isOwnerOrAdmin(typeof claim === 'string' ? { claim_hash: claim } : {}, bearerHash, access);
      const blockedPet = owner ? undefined : blockedPets.get(petId, nowMs);
      if (blockedPet !== undefined) throw rateLimitedBy(blockedPet);
      const needsSecret = operation.access === 'write' || access.readsRequireAuth;
      return { stranger: typeof claim === 'string' && !owner && needsSecret };
    },

    block(policy, key, resetInMs, nowMs) {
      const limit = policy === 'client' ? rateLimits.perClient : rateLimits.perPet;
      const windowS = Math.ceil(rateLimits.windowMs / 1000);
      const resetS = Math.min(windowS, Math.max(1, Math.ceil(resetInMs / 1000)));
      const memo = policy === 'client' ? blockedClients : blockedPets;
      memo.set(key, { policy, limit, remaining: 0, resetS, windowS }, nowMs + resetInMs, nowMs);
    },

    rememberClaim(petId, claimHash, nowMs) {
      knownClaims.set(petId, claimHash, nowMs + CLAIM_MEMO_MS, nowMs);
    },

    assertMayOverwrite(petId, error, bearer, owner) {
      if (error.petId !== petId) throw error;
      const bearerHash = bearerHashOf(bearer);
      const owners = error.owners === null ? {} : { owners: [...error.owners] };
      if (isOwnerOrAdmin(owners, bearerHash, access, owner)) return;
      if (error.claimHash === null && error.storedVersion === null) {
        const message = 'the stored state of this pet cannot be read, nor whether it is claimed: only the admin token can reset it';
        throw bearer === null ? new UnauthorizedError(message) : new ForbiddenError(message);
      }
      assertAccess({ ...(error.claimHash === null ? {} : { claim_hash: error.claimHash }), ...owners }, 'write', bearer, access, owner);
    },
  };
}
