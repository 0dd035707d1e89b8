/**
 * Fixed-window rate limits per pet and per client address (issue #5), counted in the storage so
 * that they hold across processes and instances: the counters `life_~rl-pet:<petId>` and
 * `life_~rl-client:<address>` are hit in the same round trip as the pet's load
 * (StorageDriver.loadCounted), once per request (compare-and-set retries do not count again).
 * A request over a limit is refused with RateLimitedError before anything is applied or written.
 */
import { RateLimitedError, type RateLimitStatus } from '../errors.js';
import type { HitRequest, HitResult } from '../storage/index.js';

export interface RateLimitPolicy {
  /** Requests per window to one pet; 0 = no limit. */
  perPet: number;
  /** Requests per window from one client address; 0 = no limit. */
  perClient: number;
  /** Window length, ms. */
  windowMs: number;
}

/** Both limits off. */
export const NO_RATE_LIMITS: RateLimitPolicy = Object.freeze({ perPet: 0, perClient: 0, windowMs: 60_000 });

/** The counters of one request, and which limit each stands for. */
export interface RateLimitCounters {
  hits: HitRequest[];
  policies: Array<{ policy: RateLimitStatus['policy']; limit: number }>;
}

/** The counters a request for `petId` from `client` hits (none when both limits are off). */
export function rateLimitCounters(policy: RateLimitPolicy, petId: string, client: string | null): RateLimitCounters {
  const counters: RateLimitCounters = { hits: [], policies: [] };
  if (policy.perPet > 0) {
    counters.hits.push({ purpose: 'rl-pet', subject: petId, windowMs: policy.windowMs });
    counters.policies.push({ policy: 'pet', limit: policy.perPet });
  }
  // An unknown address (no socket, no trusted header) is not counted: lumping every such client
  // into one bucket would let one of them lock out the rest.
  if (policy.perClient > 0 && client !== null) {
    counters.hits.push({ purpose: 'rl-client', subject: client, windowMs: policy.windowMs });
    counters.policies.push({ policy: 'client', limit: policy.perClient });
  }
  return counters;
}

/**
 * Where each limit stands after the counts of the load; throws RateLimitedError when any count is
 * over its limit (Retry-After: when the last exceeded window resets).
 */
export function checkRateLimits(
  counters: RateLimitCounters,
  counts: readonly HitResult[],
  windowMs: number,
): RateLimitStatus[] {
  const windowS = Math.ceil(windowMs / 1000);
  const statuses: RateLimitStatus[] = [];
  let retryAfterS = 0;
  const over: string[] = [];
  counters.policies.forEach(({ policy, limit }, index) => {
    const count = counts[index];
    if (count === undefined) return;
    const resetS = Math.min(windowS, Math.max(1, Math.ceil(count.resetInMs / 1000)));
    statuses.push({ policy, limit, remaining: Math.max(0, limit - count.count), resetS, windowS });
    if (count.count > limit) {
      retryAfterS = Math.max(retryAfterS, resetS);
      over.push(policy === 'pet' ? `${limit} requests to this pet` : `${limit} requests from this client`);
    }
  });
  if (over.length > 0) {
    throw new RateLimitedError(`too many requests: over ${over.join(' and ')} per ${windowS} s; retry after ${retryAfterS} s`, retryAfterS, statuses);
  }
  return statuses;
}
