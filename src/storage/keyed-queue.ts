/**
 * Serialises async work per key inside this process: a lane (a promise chain) per key, each task
 * started once every task queued before it under the same key has settled, first come first
 * served; keys run side by side. A lane is removed when its last task settles, so the map holds
 * only keys with work in flight. The file driver queues per pet folder and per counter (so only
 * one contender per key in this process reaches the lock file); the service's per-pet queue
 * (service/pets/pet-queue.ts) is this queue with a depth bound and shared failures. It lives in
 * storage because the storage layer may not import the service (test/architecture.test.ts).
 *
 * `sharesFailure`: requests already waiting when one fails with a failure it accepts fail at once
 * with it (each would otherwise wait for the one before it to time out too). `maxDepth`: a lane
 * holds at most this many tasks (running and waiting); one more is refused with `whenFull`.
 */

export interface KeyedQueueOptions {
  /** A failure every task waiting behind the failed one shares. @default none */
  sharesFailure?: (error: unknown) => boolean;
  /** Tasks one key may have queued or running. @default Infinity */
  maxDepth?: number;
  /** The error a task over `maxDepth` is refused with. @default an Error naming the key */
  whenFull?: (key: string, depth: number) => unknown;
}

export interface KeyedQueue {
  /** Runs `task` once every task queued before it for `key` has settled. */
  run<T>(key: string, task: () => Promise<T>): Promise<T>;
  /** Keys with a task queued or running. */
  size(): number;
  /** Settles once every task queued so far has settled. */
  idle(): Promise<void>;
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

export function createKeyedQueue(options: KeyedQueueOptions = {}): KeyedQueue {
  const sharesFailure = options.sharesFailure ?? (() => false);
  const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
  const whenFull = options.whenFull ?? ((key: string, depth: number) => new Error(`${depth} tasks are queued for ${key} already`));
  const lanes = new Map<string, Lane>();

  return {
    async run<T>(key: string, task: () => Promise<T>): Promise<T> {
      let lane = lanes.get(key);
      if (lane === undefined) {
        lane = { tail: Promise.resolve(), issued: 0, depth: 0, failedBefore: 0, failure: undefined };
        lanes.set(key, lane);
      }
      if (lane.depth >= maxDepth) throw whenFull(key, lane.depth);
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
        if (lanes.get(key) === lane && lane.tail === settled) lanes.delete(key);
      }
    },

    size: () => lanes.size,

    async idle(): Promise<void> {
      await Promise.all([...lanes.values()].map((lane) => lane.tail));
    },
  };
}
