/**
 * What a Redis transport offers the shared body (RedisCommands: TCP, cluster, Upstash REST), and
 * what the two TCP transports (redis.ts, redis-cluster.ts) share and that loads no @redis/client:
 * the redacted form of a URL, and the deadline every operation runs under.
 */
import { StorageUnavailableError } from '../errors.js';
import type { KeyLayout } from './keys.js';
import type { DriverName, PipelinedCommand } from './types.js';

/**
 * What the shared body asks of a transport. Each command is one round trip, counted by the
 * transport (roundTrips); replies come back as the server sent them (strings, not parsed).
 */
export interface RedisCommands {
  mget(keys: readonly string[]): Promise<unknown>;
  evalsha(sha1: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  eval(script: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /** One SCAN step: the next cursor ('0' or 0 when done) and the keys of this batch. */
  scan(cursor: string, match: string, count: number): Promise<readonly [string | number, readonly string[]]>;
  del(keys: readonly string[]): Promise<unknown>;
  /** XRANGE key start + COUNT count: [[id, [field, value, …]], …]. */
  xrange(key: string, start: string, count: number): Promise<unknown>;
  /**
   * SUBSCRIBEs to `channel` on a connection of its own (opened on the first call); absent when the
   * transport cannot (Upstash REST). Resolves once subscribed; the function it returns unsubscribes.
   */
  subscribe?(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;
  ping(): Promise<unknown>;
  /**
   * Present when the transport keeps client-side tracking on (RESP3 CLIENT TRACKING ON NOLOOP) on
   * the one connection every command above goes through: `listener` hears every key Redis says
   * changed, in the order the connection received it, and null whenever everything must be
   * forgotten (a FLUSHDB, a lost or closed connection: invalidations may have been missed).
   */
  onInvalidate?(listener: (key: string | null) => void): void;
  /**
   * Any other command, one round trip (operator tools: TYPE, PTTL, STRLEN, TIME, SCRIPT EXISTS…).
   * `key` routes it on a cluster (the node holding that key); without one a cluster sends it to
   * one master.
   */
  call(args: readonly string[], key?: string): Promise<unknown>;
  /**
   * Sends `commands` together, in order, as ONE round trip (TCP: written at once on the
   * connection; Upstash: one REST pipeline request; a cluster: one per node, in parallel, each
   * command routed by its keys). A command that failed has its Error in its place; the others'
   * replies are unaffected. Not atomic: other clients' commands may interleave. Commands for one
   * node go out in order on one connection, so a WAIT placed after a write waits for that write.
   */
  pipeline(commands: readonly PipelinedCommand[]): Promise<unknown[]>;
  /** True when a failed EVALSHA says the server does not know the script (EVAL follows). */
  isNoScript(error: unknown): boolean;
  /**
   * Runs one operation (one or more commands) within the transport's limits, e.g. a deadline.
   * Its failures are mapped to our errors by the caller.
   */
  guard<T>(what: string, operation: () => Promise<T>): Promise<T>;
  roundTrips(): number;
  close(): Promise<void>;
}

/** The URL with its password replaced by `***` (for logs and `target`). */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/**
 * Runs `operation` under a deadline of `timeoutMs`: past it, `onTimeout` runs (e.g. the connection
 * is given up) and the call fails with StorageUnavailableError(`<where>: <what> timed out …`). The
 * operation may still settle later; its outcome is then ignored.
 */
export async function withDeadline<T>(
  where: string,
  what: string,
  timeoutMs: number,
  onTimeout: () => void,
  operation: () => Promise<T>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new StorageUnavailableError(`${where}: ${what} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  const work = operation();
  work.catch(() => undefined); // may settle after the deadline
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** How the shared body (redis-commands.ts) is configured by its driver. */
export interface ScriptedStorageOptions {
  name: DriverName;
  /** Names the driver in error messages (`redis`, `upstash`). */
  label: string;
  /** The redacted URL (StorageDriver.target; in messages). */
  target: string;
  /** Time to live of a pet's keys in ms, refreshed on every save (checked by the driver). @default undefined (no TTL) */
  ttlMs?: number | undefined;
  /** The reason given for a failure without a message. @default '' */
  blankReason?: string;
  /** Events kept per pet (XADD MAXLEN ~). @default EVENT_LOG_MAX */
  eventLogMax?: number | undefined;
  /** How keys are spelled (keys.ts). @default PLAIN_LAYOUT */
  layout?: KeyLayout;
  /**
   * Counts a counted load's hits apart from the pet's read (Redis Cluster: the counters and the
   * pet live in different slots, so one script cannot touch both): the pet's MGET and one
   * HIT_SCRIPT per counter go out together in one pipeline. Needs `pipeline`. @default false
   */
  splitCountedLoad?: boolean;
  /**
   * REDIS_WAIT_REPLICAS: after each compare-and-set, `WAIT <n> <waitTimeoutMs>` in the same
   * pipeline on the same connection; a change acknowledged by fewer replicas in time is a
   * StorageUnavailableError saying it may be applied. Needs `pipeline`. @default 0 (no WAIT)
   */
  waitReplicas?: number;
  /** WAIT's timeout in ms. @default 1000 */
  waitTimeoutMs?: number;
  /**
   * Snapshot budget in bytes (snapshots.ts); 0 or absent: no snapshots. Only used when the
   * transport tracks keys (onInvalidate). @default 0
   */
  snapshotBytes?: number | undefined;
}
