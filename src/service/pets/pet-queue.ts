// Request path: one request at a time per pet inside this process.
/**
 * One request at a time per pet inside this process, first come first served (docs/reliability.md,
 * "The per-pet queue"). Without it every concurrent request for a pet loads the same version and races to compare-and-set; all
 * but one lose and retry, so under heavy contention most attempts were wasted (many feeds
 * answered 503 on files, docs/reliability.md). Queued, a request loads after the previous one has
 * saved and its compare-and-set only races other processes and instances, which CAS still covers.
 *
 * The lanes are the storage layer's keyed queue (storage/keyed-queue.ts, which the file driver
 * uses too): a promise chain per pet id, removed when its last request settles. Requests already
 * waiting when one fails with a failure that `sharesFailure` accepts (storage unreachable) fail at
 * once with it: each would otherwise wait for the one before it to time out too (4 queued
 * requests × a 2 s connect timeout = 8 s).
 *
 * A lane holds at most `maxDepth` tasks (running and waiting): one more is refused at once with
 * BusyError (503 `busy`, Retry-After) instead of growing the lane without
 * bound (docs/design.md §14).
 */
import { BusyError } from '../../errors.js';
import { createKeyedQueue } from '../../storage/index.js';

export interface PetQueueOptions {
  /** A failure every request waiting behind the failed one shares. @default none */
  sharesFailure?: (error: unknown) => boolean;
  /** Tasks one pet may have queued or running; one more is BusyError. @default Infinity */
  maxDepth?: number;
}

export interface PetQueue {
  /** Runs `task` once every task queued before it for `petId` has settled. */
  run<T>(petId: string, task: () => Promise<T>): Promise<T>;
  /** Pets with a task queued or running (for tests). */
  size(): number;
}

export function createPetQueue(options: PetQueueOptions = {}): PetQueue {
  const queue = createKeyedQueue({
    ...options,
    whenFull: (petId, depth) => new BusyError(`pet ${petId} has ${depth} requests waiting here already; try again in a moment`),
  });
  return { run: (petId, task) => queue.run(petId, task), size: () => queue.size() };
}
