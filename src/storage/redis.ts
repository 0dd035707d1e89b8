/**
 * Redis over TCP with node-redis v6. One lazily connected client per driver, RESP 2 chosen
 * explicitly (v6 defaults to RESP 3), an `error` listener always attached (an unhandled one kills
 * the process), a short connect timeout and bounded reconnect backoff. A load is one MGET of every
 * key of the pet, a counted load one EVALSHA of LOAD_COUNTED_SCRIPT, a save one EVALSHA of
 * CAS_SCRIPT (EVAL once on NOSCRIPT). Redis being down is a StorageUnavailableError within about
 * the connect timeout, never a hang and never a fallback.
 */
import { createClient } from '@redis/client';
import { CorruptStateError, PetLifeError, StorageUnavailableError } from '../errors.js';
import {
  CAS_SCRIPT,
  CAS_SHA1,
  HIT_SCRIPT,
  HIT_SHA1,
  LOAD_COUNTED_SCRIPT,
  LOAD_COUNTED_SHA1,
  casArguments,
  hitArguments,
  isCorruptReply,
  loadCountedArguments,
  parseCasReply,
  parseHitReply,
  parseLoadCountedReply,
} from './cas-script.js';
import { decodeLoad, loadKeyList, petKeys } from './keys.js';
import { assertReplaced, assertTtlOption, type WriteRequest } from './requests.js';
import type {
  HitRequest,
  HitResult,
  LoadOptions,
  PetRecord,
  ReplaceRequest,
  SaveRequest,
  SaveResult,
  StorageDriver,
} from './types.js';

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
  log?: StorageLog;
}

type Client = ReturnType<typeof createClient>;

export function createRedisStorage(options: RedisStorageOptions): StorageDriver {
  const { url, ttlMs, connectTimeoutMs = 2000, disableOfflineQueue = false, log } = options;
  const operationTimeoutMs = options.operationTimeoutMs ?? connectTimeoutMs + 1000;
  if (!/^rediss?:\/\//.test(url)) throw new TypeError('url must start with redis:// or rediss://');
  assertTtlOption(ttlMs);
  const target = redactRedisUrl(url);
  let client: Client | null = null;
  let connecting: Promise<Client> | null = null;
  let closed = false;
  let trips = 0;

  const connect = (): Promise<Client> => {
    if (closed) return Promise.reject(new StorageUnavailableError(`storage ${target} is closed`));
    if (connecting) return connecting;
    if (client?.isOpen) return Promise.resolve(client);
    let everReady = false;
    const fresh: Client = createClient({
      url,
      RESP: 2,
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

  /** Runs an operation under the deadline, mapping every failure to our error types. */
  const run = async <T>(what: string, operation: () => Promise<T>, petId?: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // A connection that does not answer (or finish its handshake) in time is not trusted again.
        if (client) discard(client);
        reject(new StorageUnavailableError(`redis ${target}: ${what} timed out after ${operationTimeoutMs} ms`));
      }, operationTimeoutMs);
    });
    const work = operation();
    work.catch(() => undefined); // may settle after the deadline
    try {
      return await Promise.race([work, deadline]);
    } catch (error) {
      throw toStorageError(error, target, what, petId);
    } finally {
      clearTimeout(timer);
    }
  };

  /** EVALSHA, then EVAL when the server does not know the script yet (a second round trip). */
  const evalScript = async (script: string, sha1: string, keys: string[], args: string[]): Promise<unknown> => {
    try {
      return await command(['EVALSHA', sha1, String(keys.length), ...keys, ...args]);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return command(['EVAL', script, String(keys.length), ...keys, ...args]);
    }
  };

  const load = async (petId: string, loadOptions: LoadOptions = {}): Promise<PetRecord | null> => {
    const extras = loadOptions.extras ?? [];
    const keys = loadKeyList(petId, extras);
    const values = await run('load', () => command(['MGET', ...keys]));
    if (!Array.isArray(values)) throw new CorruptStateError(`redis ${target}: MGET returned ${typeof values}`);
    return decodeLoad(petId, values as (string | null)[], extras);
  };

  /** One EVALSHA of CAS_SCRIPT: a save, or a replace (`expectedVersion: 'any'`). */
  const write = async (petId: string, request: WriteRequest): Promise<SaveResult> => {
    const { keys, args } = casArguments(petId, request, ttlMs, Date.now());
    return parseCasReply(await run('save', () => evalScript(CAS_SCRIPT, CAS_SHA1, keys, args), petId));
  };

  return {
    name: 'RedisStorage',
    target,

    load,

    async loadCounted(
      petId: string,
      loadOptions: LoadOptions & { hits: readonly HitRequest[] },
    ): Promise<{ record: PetRecord | null; hits: HitResult[] }> {
      const call = loadCountedArguments(petId, loadOptions);
      if (call.hits === 0) return { record: await load(petId, loadOptions), hits: [] };
      const reply = await run('load', () => evalScript(LOAD_COUNTED_SCRIPT, LOAD_COUNTED_SHA1, call.keys, call.args));
      return parseLoadCountedReply(petId, call, reply);
    },

    save: (petId: string, request: SaveRequest): Promise<SaveResult> => write(petId, request),

    async replace(petId: string, request: ReplaceRequest): Promise<SaveResult & { ok: true }> {
      return assertReplaced(await write(petId, { ...request, expectedVersion: 'any' }));
    },

    async remove(petId: string): Promise<void> {
      const keys = petKeys(petId);
      await run('remove', async () => {
        const found = new Set<string>([keys.meta, ...Object.values(keys.systems)]);
        let cursor = '0';
        do {
          const reply = (await command(['SCAN', cursor, 'MATCH', keys.pattern, 'COUNT', '200'])) as [string, string[]];
          cursor = String(reply[0]);
          for (const key of reply[1]) found.add(key);
        } while (cursor !== '0');
        await command(['DEL', ...found]);
      });
    },

    async hit(purpose: string, subject: string, windowMs: number): Promise<HitResult> {
      const { keys, args } = hitArguments(purpose, subject, windowMs);
      return parseHitReply(await run('hit', () => evalScript(HIT_SCRIPT, HIT_SHA1, keys, args)));
    },

    async ping(): Promise<void> {
      await run('ping', () => command(['PING']));
    },

    roundTrips: () => trips,

    async close(): Promise<void> {
      closed = true;
      connecting?.catch(() => undefined);
      const active = client;
      client = null;
      if (!active?.isOpen) return;
      // A ready client finishes its commands in flight; one still (re)connecting is dropped.
      if (active.isReady) await active.close().catch(() => active.destroy());
      else active.destroy();
    },
  };
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

function toStorageError(error: unknown, target: string, what: string, petId?: string): Error {
  if (error instanceof PetLifeError) return error;
  // Replies can quote the whole command (Upstash does); keep messages short.
  const message = (error instanceof Error ? error.message : String(error)).slice(0, 300);
  if (isCorruptReply(message)) {
    return new CorruptStateError(`redis ${target}: ${message}`, { cause: error, ...(petId === undefined ? {} : { petId }) });
  }
  return new StorageUnavailableError(`redis ${target}: ${what} failed: ${message || 'timed out'}`, { cause: error });
}
