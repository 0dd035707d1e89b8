// Request path: the warm read, a held pet's cached answer served without loading it.
/**
 * The warm read (docs/design.md §15): a read of a pet this process holds in a snapshot (kept
 * fresh by Redis tracking, docs/design.md §11) whose answer the normal path already made for the
 * same stored values, and whose next tick has not come, is that answer again — no load, no
 * bringing to now, no document. Everything that could make the normal path answer otherwise
 * sends the request down the normal path instead:
 *
 * - the stored values: compared by identity with the snapshot's frozen array (storage
 *   heldValues, after every invalidation already received), so a pet changed anywhere, expired
 *   or not held is never served from here;
 * - time: past the wall instant at which the world clock crosses the next tick (WarmFacts.untilMs);
 * - language and shape: the operation's cacheKey is the key (a birth timezone only matters to a
 *   pet not yet stored, which is not held);
 * - access: a claimed or owned pet when reads require the secret (the Bearer is not checked here);
 * - limits: any rate limit on (the counters need their round trip), an Idempotency-Key, a trusted caller;
 * - a pet owing other pets a change (its outbox is delivered by the normal path).
 */
import type { PetMeta, PetRecord, StorageDriver } from '../../storage/index.js';
import type { AccessPolicy } from './access.js';
import type { Clock } from '../clock.js';
import type { ServiceObserver } from '../observer.js';
import type { Operation } from './operations.js';
import type { RateLimitPolicy } from './rate-limits.js';
import type { ReadCache, WarmFacts } from './read-cache.js';
import type { RequestContext, Served } from './request-plan.js';
import { MS_PER_TICK } from './time-model.js';
import type { Answer } from './types.js';

export interface WarmReadDeps {
  storage: Pick<StorageDriver, 'heldValues'>;
  clock: Clock;
  timeScale: number;
  access: AccessPolicy;
  rateLimits: RateLimitPolicy;
  readCache: ReadCache;
  observer: Pick<ServiceObserver, 'readCache'>;
}

/**
 * What the stored `record` lets the warm read serve: until the wall instant its world clock
 * crosses the next tick (time-model.ts: world = world_ms + (now − wall_ms) × timeScale), a
 * millisecond early so that rounding can only make it shorter. Undefined when it may not be served
 * warm at all (no meta, or an outbox owed).
 */
export function warmFactsOf(record: PetRecord, timeScale: number): WarmFacts | undefined {
  const meta: PetMeta | null = record.meta;
  if (meta === null || (meta.outbox?.length ?? 0) > 0) return undefined;
  const nextTickMs = (Math.floor(meta.world_ms / MS_PER_TICK) + 1) * MS_PER_TICK;
  const untilMs = timeScale > 0 ? meta.wall_ms + (nextTickMs - meta.world_ms) / timeScale - 1 : Number.POSITIVE_INFINITY;
  return { untilMs, guarded: meta.claim_hash !== undefined || (meta.owners?.length ?? 0) > 0 };
}

/** Whether `request` for `operation` may be served warm at all (no I/O; the pet is not looked at). */
export function mayBeWarm<T, B>(deps: WarmReadDeps, operation: Operation<T>, request: RequestContext<T, B>): boolean {
  return (
    deps.storage.heldValues !== undefined &&
    operation.cacheKey !== undefined &&
    operation.changesNothing === true &&
    request.trusted !== true &&
    (request.idempotency ?? null) === null &&
    deps.rateLimits.perPet === 0 &&
    deps.rateLimits.perClient === 0
  );
}

/** The warm answer to `request` (one that mayBeWarm), or undefined: then the normal path serves it. */
export async function warmRead<T, B>(
  deps: WarmReadDeps,
  petId: string,
  operation: Operation<T>,
  request: RequestContext<T, B>,
): Promise<Answer<Served<B>> | undefined> {
  const raw = await deps.storage.heldValues?.(petId);
  if (raw === undefined) return undefined;
  const nowMs = deps.clock.nowMs();
  const entry = deps.readCache.warm(petId, operation.cacheKey as string, raw, nowMs);
  if (entry === undefined || (entry.guarded && deps.access.readsRequireAuth)) return undefined;
  deps.observer.readCache(true);
  const body = request.render(entry.value as T, nowMs);
  return { value: { body, status: request.status ?? 200, replayed: false, limits: [] }, roundTrips: 0, attempts: 1 };
}
