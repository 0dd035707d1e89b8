/**
 * What a push channel (an SSE stream, a WebSocket) asks of the pet service besides its events
 * (docs/design.md §9, §14): opening one, and every message a WebSocket sends, counts like a
 * request in the client's and the pet's rate limits and passes the read access check, in the one
 * load of a request (PetService.perform of an operation that saves nothing). Event reads count
 * by what they read: the first EVENTS_PER_UNIT events are paid by that request, each further
 * EVENTS_PER_UNIT (or part) by one more unit, counted after the read.
 */
import { NotFoundError } from '../../errors.js';
import type { StorageDriver } from '../../storage/index.js';
import { type AccessPolicy, bearerHashOf, hasOwners, isOwnerOrAdmin } from '../pets/access.js';
import type { Operation } from '../pets/operations.js';
import type { PetService } from '../pets/pet-service.js';
import { checkRateLimits, type RateLimitPolicy, rateLimitCounters } from '../pets/rate-limits.js';

/** Events one unit of the rate limits pays for (an events read, the replay of a subscription). */
export const EVENTS_PER_UNIT = 100;

/** Who is asking, as a request brings it. */
export interface GateCaller {
  bearer: string | null;
  owner: string | null;
  /** The client's address bucket; null when not counted. */
  client: string | null;
}

export interface StreamGate {
  /**
   * Counts one request to `petId` and checks read access. For a `stream`, with READS_REQUIRE_AUTH,
   * a pet that is not stored is NotFoundError (a stream on it would carry a later owner's events
   * to anyone).
   * `opens`: the caller's secret opens the pet, which is protected (claimed or with owners).
   */
  admit(petId: string, caller: GateCaller, options?: { stream?: boolean }): Promise<{ opens: boolean }>;
  /** Counts one request to `petId` that fails with `error` (an invalid WebSocket message); throws the limit's error first, else `error`. */
  refuse(petId: string, caller: GateCaller, error: Error): Promise<never>;
  /**
   * Counts `units` in the client's limit alone (a read of no single pet: an owner's list, one
   * unit a pet); throws RateLimitedError when that limit is now exceeded. Nothing without a client.
   */
  chargeClient(client: string | null, units: number): Promise<void>;
  /** Counts the units `events` read beyond the first (the request itself paid for it). */
  chargeEvents(petId: string, caller: GateCaller, events: number): Promise<void>;
}

export interface StreamGateDeps {
  service: Pick<PetService, 'perform'>;
  storage: Pick<StorageDriver, 'loadMany'>;
  access: AccessPolicy;
  rateLimits: RateLimitPolicy;
}

const asIs = <T>(value: T): T => value;

export function createStreamGate(deps: StreamGateDeps): StreamGate {
  const { service, access } = deps;
  const run = async <T>(petId: string, operation: Operation<T>, caller: GateCaller): Promise<T> =>
    (await service.perform(petId, operation, { bearer: caller.bearer, owner: caller.owner, client: caller.client, render: asIs })).value
      .body;

  return {
    admit: (petId, caller, options = {}) =>
      run(
        petId,
        {
          access: 'read',
          savesNothing: true,
          check: (pet) => {
            if (pet.created && access.readsRequireAuth && options.stream === true) {
              throw new NotFoundError(`no pet ${petId}: with READS_REQUIRE_AUTH only a stored pet's events can be followed`);
            }
          },
          apply: (pet) => {
            const protectedPet = pet.meta.claim_hash !== undefined || hasOwners(pet.meta);
            const opens = protectedPet && isOwnerOrAdmin(pet.meta, bearerHashOf(caller.bearer), access, caller.owner);
            return { changed: false, present: () => ({ opens }) };
          },
        },
        caller,
      ),

    async refuse(petId, caller, error) {
      await run(
        petId,
        {
          access: 'read',
          savesNothing: true,
          check: () => {
            throw error;
          },
          apply: () => ({ changed: false, present: () => null }),
        },
        caller,
      );
      throw error;
    },

    async chargeClient(client, units) {
      const { perClient, windowMs } = deps.rateLimits;
      if (client === null || perClient <= 0 || units <= 0) return;
      const counters = rateLimitCounters({ perPet: 0, perClient, windowMs }, '', { client, bearerHash: null, weight: units });
      const { hits } = await deps.storage.loadMany([], { hits: counters.hits });
      const check = checkRateLimits(counters, hits, windowMs, false);
      if (check.exceeded !== null) throw check.exceeded;
    },

    async chargeEvents(petId, caller, events) {
      const extra = Math.ceil(events / EVENTS_PER_UNIT) - 1;
      if (extra <= 0) return;
      const counters = rateLimitCounters(deps.rateLimits, petId, {
        client: caller.client,
        bearerHash: bearerHashOf(caller.bearer),
        weight: extra,
      });
      // Zero pets and the hits alone: one round trip on every driver.
      if (counters.hits.length > 0) await deps.storage.loadMany([], { hits: counters.hits });
    },
  };
}
