/**
 * Redis over TCP with node-redis v6. One lazily connected client per driver, RESP 2 chosen
 * explicitly (v6 defaults to RESP 3), an `error` listener always attached (an unhandled one kills
 * the process), a short connect timeout and bounded reconnect backoff. This file is the transport;
 * what each operation sends (one MGET per load, one EVALSHA per save, hit or counted load, EVAL
 * once on NOSCRIPT, one XRANGE per readEvents, one pipeline per loadMany or saveMany) is the body shared with the Upstash driver
 * (redis-commands.ts). `watch` opens one more connection per driver, a duplicate() of the client
 * subscribed to life_~events, on its first call; close() closes it. Redis being
 * down is a StorageUnavailableError within about the connect timeout, never a hang and never a
 * fallback.
 *
 * With snapshots on (`snapshotBytes` > 0; SNAPSHOTS, docs/storage.md) the command connection
 * speaks RESP 3 with CLIENT TRACKING ON NOLOOP, sent by node-redis in every (re)connect's
 * handshake; Redis pushes an invalidation on that same connection when a key it read changes, and
 * a lost or closed connection forgets every snapshot (snapshots.ts).
 */
import { BasicClientSideCache, createClient } from '@redis/client';
import { StorageUnavailableError } from '../errors.js';
import { createScriptedStorage, type RedisCommands } from './redis-commands.js';
import { redactRedisUrl, withDeadline } from './redis-transport.js';
import { assertTtlOption } from './requests.js';
import type { StorageDriver } from './types.js';

/** Where drivers report background trouble (a pino logger fits). */
export interface StorageLog {
  warn(obj: object, msg: string): void;
}

export interface RedisStorageOptions {
  /** `redis://` or `rediss://` URL (`/<db>` selects a database). */
  url: string;
  /** Time to live of a pet's keys in ms, refreshed on every save. @default undefined (no TTL) */
  ttlMs?: number;
  /** Socket connect timeout in ms. @default 2000 */
  connectTimeoutMs?: number;
  /**
   * Deadline in ms for a whole operation (connecting included); past it the operation fails
   * with StorageUnavailableError and the connection is replaced. @default connectTimeoutMs + 1000
   */
  operationTimeoutMs?: number;
  /** Reject commands while reconnecting instead of queueing them (on Vercel). @default false */
  disableOfflineQueue?: boolean;
  /** Events kept per pet (XADD MAXLEN ~, so at least this many). @default EVENT_LOG_MAX (1000) */
  eventLogMax?: number;
  /** Snapshot budget in bytes (SNAPSHOT_CACHE_BYTES); 0: no snapshots, RESP 2 and no tracking. @default 0 */
  snapshotBytes?: number;
  /** REDIS_WAIT_REPLICAS: replicas that must have each change before it is acknowledged. @default 0 */
  waitReplicas?: number;
  /** WAIT's timeout in ms (below the operation deadline). @default 1000 */
  waitTimeoutMs?: number;
  log?: StorageLog;
}

/**
 * node-redis' hook for client-side caching, used only for its plumbing: it sends our CLIENT
 * TRACKING in every handshake and hands over invalidation pushes and connection loss, in the order
 * the connection received them. Nothing is cached here (every command goes through sendCommand,
 * which node-redis never caches); the snapshots are the driver's own (snapshots.ts).
 */
class InvalidationRelay extends BasicClientSideCache {
  readonly #listeners: ((key: string | null) => void)[] = [];

  listen(listener: (key: string | null) => void): void {
    this.#listeners.push(listener);
  }

  #tell(key: string | null): void {
    for (const listener of this.#listeners) listener(key);
  }

  override trackingOn(): string[] {
    // NOLOOP: our own writes do not invalidate what we hold; the driver updates it itself.
    return ['CLIENT', 'TRACKING', 'ON', 'NOLOOP'];
  }

  override invalidate(key: unknown): void {
    this.#tell(key === null ? null : String(key));
  }

  override onError(): void {
    this.#tell(null);
  }

  override onClose(): void {
    this.#tell(null);
  }

  override clear(): void {
    this.#tell(null);
  }
}

type Client = ReturnType<typeof createClient>;

export function createRedisStorage(options: RedisStorageOptions): StorageDriver {
  const { url, ttlMs, connectTimeoutMs = 2000, disableOfflineQueue = false, snapshotBytes = 0, log } = options;
  if (!Number.isSafeInteger(snapshotBytes) || snapshotBytes < 0) throw new RangeError('snapshotBytes must be an integer ≥ 0');
  const relay = snapshotBytes > 0 ? new InvalidationRelay() : null;
  const operationTimeoutMs = options.operationTimeoutMs ?? connectTimeoutMs + 1000;
  if (!/^rediss?:\/\//.test(url)) throw new TypeError('url must start with redis:// or rediss://');
  assertTtlOption(ttlMs);
  const target = redactRedisUrl(url);
  let client: Client | null = null;
  let connecting: Promise<Client> | null = null;
  let closed = false;
  let trips = 0;
  /** The subscriber connection (watch): one per driver, opened by the first watch, closed by close(). */
  let subscriber: Promise<Client> | null = null;
  const listeners = new Set<(message: string) => void>();

  const connect = (): Promise<Client> => {
    if (closed) return Promise.reject(new StorageUnavailableError(`storage ${target} is closed`));
    if (connecting) return connecting;
    if (client?.isOpen) return Promise.resolve(client);
    let everReady = false;
    const fresh: Client = createClient({
      url,
      // RESP 3 only with snapshots: tracking pushes its invalidations on this connection.
      ...(relay === null ? { RESP: 2 as const } : { RESP: 3 as const, clientSideCache: relay, maintNotifications: 'disabled' as const }),
      disableOfflineQueue,
      socket: {
        connectTimeout: connectTimeoutMs,
        // First connect: fail at once (the caller gets a 503 and the next request tries again).
        // Once connected: reconnect with capped, jittered backoff.
        reconnectStrategy: (retries: number) =>
          everReady ? Math.min(2000, 50 * 2 ** Math.min(retries, 6)) + Math.floor(Math.random() * 100) : false,
      },
      // No per-command timeout by default (node-redis would otherwise arm one of 5 s): it costs an
      // AbortSignal and a timer per command, and it only ever applies to a command not yet written
      // to the socket. `command` sets it for commands issued while not ready; the operation
      // deadline in `run` bounds everything else.
      commandOptions: { timeout: 0 },
    });
    fresh.on('error', (error: unknown) => log?.warn({ err: error, storage: target }, 'redis connection error'));
    fresh.on('ready', () => {
      everReady = true;
    });
    client = fresh;
    connecting = fresh.connect().then(
      () => fresh,
      (error: unknown) => {
        discard(fresh);
        throw error;
      },
    );
    const settled = (): void => {
      connecting = null;
    };
    connecting.then(settled, settled);
    return connecting;
  };

  const discard = (stale: Client): void => {
    if (client === stale) client = null;
    try {
      stale.destroy();
    } catch {
      // already closed
    }
  };

  /** One command = one round trip, within the operation deadline. */
  const command = async (args: string[]): Promise<unknown> => {
    const active = await connect();
    trips += 1;
    // Ready: written at once, so only the deadline applies. Otherwise (reconnecting) the command
    // waits in the offline queue: give it up after the connect timeout, before the deadline.
    return active.isReady ? active.sendCommand(args) : active.sendCommand(args, { timeout: connectTimeoutMs });
  };

  /** Runs an operation under the deadline (the shared body maps its failures to our errors). */
  const guard = <T>(what: string, operation: () => Promise<T>): Promise<T> =>
    // A connection that does not answer (or finish its handshake) in time is not trusted again.
    withDeadline(`redis ${target}`, what, operationTimeoutMs, () => client && discard(client), operation);

  /** Opens the subscriber connection (a duplicate() of the client) and SUBSCRIBEs once to `channel`. */
  const openSubscriber = (channel: string): Promise<Client> => {
    if (subscriber) return subscriber;
    const opening = (async () => {
      // With snapshots the duplicate speaks RESP 3 and shares the relay: it reads no key, so it is
      // told nothing but its own connection loss, which forgets the snapshots too (harmless).
      const sub = (await connect()).duplicate();
      sub.on('error', (error: unknown) => log?.warn({ err: error, storage: target }, 'redis subscriber connection error'));
      try {
        await sub.connect();
        trips += 1;
        await sub.subscribe(channel, (message: string) => {
          for (const listener of [...listeners]) {
            try {
              listener(message);
            } catch (error) {
              log?.warn({ err: error, storage: target }, 'an events listener threw');
            }
          }
        });
      } catch (error) {
        sub.destroy();
        throw error;
      }
      if (closed) {
        sub.destroy();
        throw new StorageUnavailableError(`storage ${target} is closed`);
      }
      return sub;
    })();
    subscriber = opening;
    opening.catch(() => {
      if (subscriber === opening) subscriber = null;
    });
    return opening;
  };

  const commands: RedisCommands = {
    mget: (keys) => command(['MGET', ...keys]),
    evalsha: (sha1, keys, args) => command(['EVALSHA', sha1, String(keys.length), ...keys, ...args]),
    eval: (script, keys, args) => command(['EVAL', script, String(keys.length), ...keys, ...args]),
    scan: async (cursor, match, count) => (await command(['SCAN', cursor, 'MATCH', match, 'COUNT', String(count)])) as [string, string[]],
    del: (keys) => command(['DEL', ...keys]),
    xrange: (key, start, count) => command(['XRANGE', key, start, '+', 'COUNT', String(count)]),
    async subscribe(channel, onMessage) {
      await openSubscriber(channel);
      const listener = (message: string): void => onMessage(message);
      listeners.add(listener);
      return async () => {
        listeners.delete(listener);
      };
    },
    async pipeline(commands) {
      const active = await connect();
      trips += 1;
      // Commands issued in one tick are written to the socket together (node-redis batches its
      // writes per tick): one round trip. Each settles on its own (execAsPipeline would reject
      // them all for one error reply).
      const options = active.isReady ? undefined : { timeout: connectTimeoutMs };
      return Promise.all(
        commands.map((sent) =>
          active.sendCommand([...sent.args], options).then(
            (reply: unknown) => reply,
            (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
          ),
        ),
      );
    },
    ping: () => command(['PING']),
    ...(relay === null ? {} : { onInvalidate: (listener: (key: string | null) => void) => relay.listen(listener) }),
    call: (args) => command([...args]),
    isNoScript: (error) => error instanceof Error && error.message.startsWith('NOSCRIPT'),
    guard,
    roundTrips: () => trips,

    async close(): Promise<void> {
      closed = true;
      listeners.clear();
      const sub = subscriber;
      subscriber = null;
      if (sub) {
        const opened = await sub.catch(() => null);
        if (opened?.isOpen) await opened.close().catch(() => opened.destroy());
      }
      connecting?.catch(() => undefined);
      const active = client;
      client = null;
      if (!active?.isOpen) return;
      // A ready client finishes its commands in flight; one still (re)connecting is dropped.
      if (active.isReady) await active.close().catch(() => active.destroy());
      else active.destroy();
    },
  };

  // A failure without a message has always read "timed out" from this driver.
  return createScriptedStorage(commands, {
    name: 'RedisStorage',
    label: 'redis',
    target,
    ttlMs,
    blankReason: 'timed out',
    eventLogMax: options.eventLogMax,
    snapshotBytes,
    ...(options.waitReplicas === undefined ? {} : { waitReplicas: options.waitReplicas }),
    ...(options.waitTimeoutMs === undefined ? {} : { waitTimeoutMs: options.waitTimeoutMs }),
  });
}

export { redactRedisUrl };
