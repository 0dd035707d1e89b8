/**
 * Upstash REST driver with @upstash/redis: no socket to go stale, one HTTPS request per command.
 * Automatic deserialization is off (values come back exactly as stored, the same strings the TCP
 * driver sees), auto-pipelining is off (its read/write reordering would break load-after-save), and
 * telemetry is off. This file is the transport; what each operation sends (one MGET request per
 * load, one EVALSHA per save, hit or counted load, EVAL once on NOSCRIPT, one /pipeline request
 * per loadMany or saveMany) is the body shared with the TCP driver (redis-commands.ts). Reads (MGET, SCAN, PING) retry network failures a bounded
 * number of times; writes never retry (a save that may have been applied must not be replayed
 * blindly), nor do hits and counted loads (a replay counts twice).
 */
import { Redis } from '@upstash/redis';
import { createScriptedStorage, type RedisCommands } from './redis-commands.js';
import { assertTtlOption } from './requests.js';
import type { StorageDriver } from './types.js';

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
  /** Events kept per pet (XADD MAXLEN ~, so at least this many). @default EVENT_LOG_MAX (1000) */
  eventLogMax?: number;
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

  /** Counts one request, then sends it. */
  const request = <T>(send: () => Promise<T>): Promise<T> => {
    trips += 1;
    return send();
  };

  const commands: RedisCommands = {
    mget: (keys) => request(() => reads.mget<(string | null)[]>(...keys)),
    evalsha: (sha1, keys, args) => request(() => writes.evalsha(sha1, [...keys], [...args])),
    eval: (script, keys, args) => request(() => writes.eval(script, [...keys], [...args])),
    scan: (cursor, match, count) => request(() => reads.scan(cursor, { match, count })),
    del: (keys) => request(() => writes.del(...keys)),
    xrange: (key, start, count) => request(() => reads.exec<unknown>(['XRANGE', key, start, '+', 'COUNT', count])),
    pipeline: (commands) =>
      request(async () => {
        // One REST request to /pipeline. A pipeline holding a script call may write: sent without
        // retries, like every write; a pipeline of reads only may retry.
        const client = commands.every((sent) => sent.args[0] === 'MGET') ? reads : writes;
        const pipeline = client.pipeline();
        for (const sent of commands) pipelineCommand(pipeline, sent.args);
        const replies = await pipeline.exec<unknown[]>({ keepErrors: true });
        return replies.map(({ error, result }) => (error === undefined || error === null ? result : new Error(String(error))));
      }),
    ping: () => request(() => reads.ping()),
    call: (args) => request(() => reads.exec<unknown>([...args] as [string, ...string[]])),
    isNoScript: (error) => error instanceof Error && error.message.includes('NOSCRIPT'),
    // No deadline of our own: every request carries an abort signal (timeoutMs).
    guard: (_what, operation) => operation(),
    roundTrips: () => trips,
    async close(): Promise<void> {},
  };

  // No subscribe: the REST API has no connection to keep a subscription on; `watch` is absent and
  // the delivery layer polls readEvents.
  return createScriptedStorage(commands, { name: 'UpstashRestStorage', label: 'upstash', target, ttlMs, eventLogMax: options.eventLogMax });
}

type Pipeline = ReturnType<Redis['pipeline']>;

/** Adds one command of the shared body's pipelines (MGET, GET, EVALSHA, EVAL) to an @upstash/redis pipeline. */
function pipelineCommand(pipeline: Pipeline, args: readonly string[]): void {
  const [name, ...rest] = args;
  if (name === 'MGET') {
    pipeline.mget(...rest);
    return;
  }
  if (name === 'GET' && rest.length === 1) {
    pipeline.get(rest[0] as string);
    return;
  }
  if (name === 'EVALSHA' || name === 'EVAL') {
    const [body = '', count = '0', ...tail] = rest;
    const keys = tail.slice(0, Number(count));
    const scriptArgs = tail.slice(Number(count));
    if (name === 'EVALSHA') pipeline.evalsha(body, keys, scriptArgs);
    else pipeline.eval(body, keys, scriptArgs);
    return;
  }
  throw new TypeError(`the Upstash pipeline sends MGET, GET, EVALSHA and EVAL only, not ${String(name)}`);
}

/** Only the origin of a REST URL (no user info, path or query: nothing that could be a secret). */
export function redactRestUrl(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'https://(invalid url)';
  }
}
