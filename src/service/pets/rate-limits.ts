// Request path: fixed-window rate limits per pet and per client, counted in storage.
/**
 * Fixed-window rate limits per pet and per client address (docs/reliability.md), counted in the storage so
 * that they hold across processes and instances: the counters are hit in the same round trip as
 * the pet's load (StorageDriver.loadCounted), once per request (compare-and-set retries do not
 * count again). A request over a limit is refused with RateLimitedError before anything is
 * applied or written.
 *
 * Hardening (docs/design.md §14):
 * - The per-pet limit has two buckets: `life_~rl-pet:<petId>` counts everyone, and a request with
 *   a Bearer secret also counts in its own bucket `life_~rl-pet-key:<petId>:<hash of the secret>`.
 *   Which one is enforced is decided after the load: the owner's (or admin's) bucket when the
 *   secret opens the pet, else the shared one. Strangers' bursts fill the shared bucket and never
 *   the owner's, which they cannot name without the secret.
 * - A request counts by the work it asks for (`weight`: a ten-year catch-up or a 2,000-point
 *   forecast costs more than a read), never more than a limit so that it can pass in a fresh window.
 */
import { createHash } from 'node:crypto';
import { RateLimitedError, type RateLimitStatus } from '../../errors.js';
import type { HitRequest, HitResult } from '../../storage/index.js';

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

type Bucket = 'pet' | 'pet-key' | 'client';

/** The counters of one request, and which limit each stands for. */
export interface RateLimitCounters {
  hits: HitRequest[];
  buckets: Array<{ bucket: Bucket; limit: number }>;
}

export interface CounterOptions {
  /** The client's address bucket; null when unknown (not counted). */
  client: string | null;
  /** The Bearer secret's SHA-256, when one was sent. */
  bearerHash: Buffer | null;
  /** Units this request counts for. @default 1 */
  weight?: number;
}

/** The counters a request for `petId` hits (none when both limits are off). */
export function rateLimitCounters(policy: RateLimitPolicy, petId: string, options: CounterOptions): RateLimitCounters {
  const counters: RateLimitCounters = { hits: [], buckets: [] };
  const weight = Math.max(1, Math.floor(options.weight ?? 1));
  const add = (bucket: Bucket, purpose: string, subject: string, limit: number) => {
    counters.hits.push({ purpose, subject, windowMs: policy.windowMs, weight: Math.min(weight, limit) });
    counters.buckets.push({ bucket, limit });
  };
  if (policy.perPet > 0) {
    add('pet', 'rl-pet', petId, policy.perPet);
    if (options.bearerHash !== null) {
      // 128 bits of the secret's hash name the bucket: enough to keep owners apart, never the secret.
      const tag = createHash('sha256').update(options.bearerHash).digest('hex').slice(0, 32);
      add('pet-key', 'rl-pet-key', `${petId}:${tag}`, policy.perPet);
    }
  }
  // An unknown address (no socket, no trusted header) is not counted: lumping every such client
  // into one bucket would let one of them lock out the rest.
  if (policy.perClient > 0 && options.client !== null) add('client', 'rl-client', options.client, policy.perClient);
  return counters;
}

/** Where the limits of a request stand, and whether any is exceeded. */
export interface LimitCheck {
  statuses: RateLimitStatus[];
  /** The error to throw, when a limit is exceeded. */
  exceeded: RateLimitedError | null;
  /** Ms until the exceeded client limit resets (0 when the client limit is not exceeded). */
  clientBlockedMs: number;
  /** Ms until the exceeded shared pet limit resets (0 when it is not exceeded). */
  sharedPetBlockedMs: number;
}

/**
 * Where each enforced limit stands after the counts of the load: the client's, and the pet's from
 * the owner's bucket when `owner` (the secret opened the pet), else from the shared one.
 */
export function checkRateLimits(counters: RateLimitCounters, counts: readonly HitResult[], windowMs: number, owner: boolean): LimitCheck {
  const windowS = Math.ceil(windowMs / 1000);
  const statuses: RateLimitStatus[] = [];
  let retryAfterS = 0;
  let clientBlockedMs = 0;
  let sharedPetBlockedMs = 0;
  const over: string[] = [];
  const enforced = enforcedPetBucket(counters, owner);
  counters.buckets.forEach(({ bucket, limit }, index) => {
    const count = counts[index];
    if (count === undefined) return;
    if (bucket === 'pet' && count.count > limit) sharedPetBlockedMs = count.resetInMs;
    if (bucket !== 'client' && bucket !== enforced) return;
    const policy = bucket === 'client' ? 'client' : 'pet';
    const resetS = Math.min(windowS, Math.max(1, Math.ceil(count.resetInMs / 1000)));
    statuses.push({ policy, limit, remaining: Math.max(0, limit - count.count), resetS, windowS });
    if (count.count > limit) {
      retryAfterS = Math.max(retryAfterS, resetS);
      if (bucket === 'client') clientBlockedMs = count.resetInMs;
      over.push(`${limit} ${LIMITED[policy]}`);
    }
  });
  const exceeded = over.length > 0 ? rateLimited(over, retryAfterS, windowS, statuses) : null;
  return { statuses, exceeded, clientBlockedMs, sharedPetBlockedMs };
}

/** The pet bucket enforced: the owner's own when the secret opens the pet (and has a bucket), else the shared one. */
function enforcedPetBucket(counters: RateLimitCounters, owner: boolean): Bucket {
  return owner && counters.buckets.some(({ bucket }) => bucket === 'pet-key') ? 'pet-key' : 'pet';
}

/**
 * The limit each counter may reach for the request to go ahead (0 = not enforced), as
 * checkRateLimits enforces them: what a save that counts them itself refuses over
 * (StorageDriver.saveCounted; docs/design.md §15).
 */
export function enforcedLimits(counters: RateLimitCounters, owner: boolean): number[] {
  const enforced = enforcedPetBucket(counters, owner);
  return counters.buckets.map(({ bucket, limit }) => (bucket === 'client' || bucket === enforced ? limit : 0));
}

/** What each policy's limit counts, as the refusal says it. */
const LIMITED: Record<RateLimitStatus['policy'], string> = { pet: 'requests to this pet', client: 'requests from this client' };

/**
 * The one way a refusal is built (counted, remembered, owners created): `over` says each exceeded
 * limit (e.g. "20 requests to this pet"), `statuses` every limit counted (the RateLimit headers).
 */
export function rateLimited(
  over: readonly string[],
  retryAfterS: number,
  windowS: number,
  statuses: readonly RateLimitStatus[],
): RateLimitedError {
  return new RateLimitedError(
    `too many requests: over ${over.join(' and ')} per ${windowS} s; retry after ${retryAfterS} s`,
    retryAfterS,
    statuses,
  );
}

/** The refusal of a limit remembered as exceeded (no round trip). */
export function rateLimitedBy(blocked: RateLimitStatus): RateLimitedError {
  return rateLimited([`${blocked.limit} ${LIMITED[blocked.policy]}`], blocked.resetS, blocked.windowS, [blocked]);
}
