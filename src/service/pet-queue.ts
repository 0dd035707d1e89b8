/**
 * One request at a time per pet inside this process, first come first served (issue #5). Without
 * it every concurrent request for a pet loads the same version and races to compare-and-set; all
 * but one lose and retry, so under 64-way contention most attempts were wasted (45 % of feeds
 * answered 503 on files, docs/reliability.md). Queued, a request loads after the previous one has
 * saved and its compare-and-set only races other processes and instances, which CAS still covers.
 *
 * A lane is a promise chain per pet id, removed when its last request settles: the map holds only
 * pets with a request in flight. Requests already waiting when one fails with a failure that
 * `sharesFailure` accepts (storage unreachable) fail at once with it: each would otherwise wait
 * for the one before it to time out too (4 queued requests × a 2 s connect timeout = 8 s).
 *
 * A lane holds at most `maxDepth` tasks (running and waiting): one more is refused at once with
 * BusyError (503 `busy`, Retry-After) instead of growing the lane without bound (issue #10).
 */
import { BusyError } from '../errors.js';

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

interface Lane {
  /** Settles when the last task queued so far has settled; never rejects. */
  tail: Promise<void>;
  /** Tickets handed out so far. */
  issued: number;
  /** Tasks queued or running. */
  depth: number;
  /** Tickets below this, still waiting, share `failure`. */
  failedBefore: number;
  failure: unknown;
}

export function createPetQueue(options: PetQueueOptions = {}): PetQueue {
  const sharesFailure = options.sharesFailure ?? (() => false);
  const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
  const lanes = new Map<string, Lane>();

  return {
    async run<T>(petId: string, task: () => Promise<T>): Promise<T> {
      let lane = lanes.get(petId);
      if (lane === undefined) {
        lane = { tail: Promise.resolve(), issued: 0, depth: 0, failedBefore: 0, failure: undefined };
        lanes.set(petId, lane);
      }
      if (lane.depth >= maxDepth) {
        throw new BusyError(`pet ${petId} has ${lane.depth} requests waiting here already; try again in a moment`);
      }
      lane.depth += 1;
      const ticket = lane.issued;
      lane.issued += 1;
      const previous = lane.tail;
      let release = (): void => {};
      const settled = new Promise<void>((resolve) => {
        release = resolve;
      });
      lane.tail = settled;
      try {
        await previous;
        if (ticket < lane.failedBefore) throw lane.failure;
        try {
          return await task();
        } catch (error) {
          if (sharesFailure(error)) {
            lane.failedBefore = lane.issued;
            lane.failure = error;
          }
          throw error;
        }
      } finally {
        lane.depth -= 1;
        release();
        if (lanes.get(petId) === lane && lane.tail === settled) lanes.delete(petId);
      }
    },

    size: () => lanes.size,
  };
}
