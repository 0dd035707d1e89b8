/**
 * Upstash REST driver with @upstash/redis: no socket to go stale, one HTTPS request per command.
 * Automatic deserialization is off (values come back exactly as stored, the same strings the TCP
 * driver sees), auto-pipelining is off (its read/write reordering would break load-after-save), and
 * telemetry is off. A load is one MGET request, a save one EVALSHA of CAS_SCRIPT (EVAL once on
 * NOSCRIPT), a hit one EVALSHA, a counted load one EVALSHA of LOAD_COUNTED_SCRIPT. Reads retry
 * network failures a bounded number of times; writes never retry (a save that may have been
 * applied must not be replayed blindly), nor do hits and counted loads (a replay counts twice).
 */
import { Redis } from '@upstash/redis';
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

export interface UpstashStorageOptions {
  /** REST URL (KV_REST_API_URL / UPSTASH_REDIS_REST_URL), https:// (http:// for local fakes). */
  url: string;
  /** REST token (KV_REST_API_TOKEN / UPSTASH_REDIS_REST_TOKEN); never logged. */
  token: string;
  /** Time to live of a pet's keys in ms, refreshed on every save. @default undefined (no TTL) */
  ttlMs?: number;
  /** Deadline in ms for one request, retries included. @default 5000 */
  timeoutMs?: number;
  /** Network-failure retries for reads. @default 2 */
  readRetries?: number;
}

export function createUpstashStorage(options: UpstashStorageOptions): StorageDriver {
  const { url, token, ttlMs, timeoutMs = 5000, readRetries = 2 } = options;
  if (!/^https?:\/\//.test(url)) throw new TypeError('url must start with https://');
  if (typeof token !== 'string' || token === '') throw new TypeError('token must be a non-empty string');
  assertTtlOption(ttlMs);
  const target = redactRestUrl(url);
  const base = {
    url,
    token,
    automaticDeserialization: false,
    enableAutoPipelining: false,
    enableTelemetry: false,
    signal: () => AbortSignal.timeout(timeoutMs),
  } as const;
  const reads = new Redis({ ...base, retry: { retries: readRetries, backoff: (n: number) => 50 * 2 ** n } });
  const writes = new Redis({ ...base, retry: false });
  let trips = 0;

  const run = async <T>(what: string, operation: () => Promise<T>, petId?: string): Promise<T> => {
    try {
      return await operation();
    } catch (error) {
      throw toStorageError(error, target, what, petId);
    }
  };

  /** EVALSHA, then EVAL when the server does not know the script yet (a second request). */
  const evalScript = async (script: string, sha1: string, keys: string[], args: string[]): Promise<unknown> => {
    try {
      trips += 1;
      return await writes.evalsha(sha1, keys, args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes('NOSCRIPT')) throw error;
      trips += 1;
      return writes.eval(script, keys, args);
    }
  };

  const load = async (petId: string, loadOptions: LoadOptions = {}): Promise<PetRecord | null> => {
    const extras = loadOptions.extras ?? [];
    const keys = loadKeyList(petId, extras);
    const values = await run('load', () => {
      trips += 1;
      return reads.mget<(string | null)[]>(...keys);
    });
    if (!Array.isArray(values)) throw new CorruptStateError(`upstash ${target}: MGET returned ${typeof values}`);
    return decodeLoad(petId, values, extras);
  };

  /** One EVALSHA of CAS_SCRIPT: a save, or a replace (`expectedVersion: 'any'`). */
  const write = async (petId: string, request: WriteRequest): Promise<SaveResult> => {
    const { keys, args } = casArguments(petId, request, ttlMs, Date.now());
    return parseCasReply(await run('save', () => evalScript(CAS_SCRIPT, CAS_SHA1, keys, args), petId));
  };

  return {
    name: 'UpstashRestStorage',
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
        let cursor: string | number = '0';
        do {
          trips += 1;
          const [next, batch]: [string | number, string[]] = await reads.scan(cursor, { match: keys.pattern, count: 200 });
          cursor = String(next);
          for (const key of batch) found.add(key);
        } while (cursor !== '0');
        trips += 1;
        await writes.del(...found);
      });
    },

    async hit(purpose: string, subject: string, windowMs: number): Promise<HitResult> {
      const { keys, args } = hitArguments(purpose, subject, windowMs);
      return parseHitReply(await run('hit', () => evalScript(HIT_SCRIPT, HIT_SHA1, keys, args)));
    },

    async ping(): Promise<void> {
      await run('ping', () => {
        trips += 1;
        return reads.ping();
      });
    },

    roundTrips: () => trips,

    async close(): Promise<void> {},
  };
}

/** Only the origin of a REST URL (no user info, path or query: nothing that could be a secret). */
export function redactRestUrl(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'https://(invalid url)';
  }
}

function toStorageError(error: unknown, target: string, what: string, petId?: string): Error {
  if (error instanceof PetLifeError) return error;
  // Replies can quote the whole command (Upstash does); keep messages short.
  const message = (error instanceof Error ? error.message : String(error)).slice(0, 300);
  if (isCorruptReply(message)) {
    return new CorruptStateError(`upstash ${target}: ${message}`, { cause: error, ...(petId === undefined ? {} : { petId }) });
  }
  return new StorageUnavailableError(`upstash ${target}: ${what} failed: ${message}`, { cause: error });
}
