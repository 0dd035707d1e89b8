/**
 * The one reader of `process.env`. `loadConfig(env)` parses the environment with one zod schema
 * (config-schema.ts), applies defaults, checks the rules that span variables, reports every
 * problem at once (as a ConfigError naming each bad variable) and returns a frozen Config.
 * Everything downstream gets the Config (or parts of it) as arguments.
 *
 * Empty values count as unset, as in most `.env` files.
 */
import { canonicalTimezone } from './engine/index.js';
import { envSchema, STORAGE_KINDS } from './config-schema.js';
import { ConfigError } from './errors.js';
import type { LogLevel } from './log.js';
import { LIMIT_DEFAULTS } from './rules.js';
import { chooseStorage, DEFAULT_SNAPSHOT_BYTES, type StorageChoice, type StorageInput, type StorageKind } from './storage/index.js';

/** docs/design.md §13; docs/configuration.md. */
export interface NotifyConfig {
  /** SCHEDULER: this instance runs the schedule's loop. @default true (false on Vercel) */
  readonly scheduler: boolean;
  /** SCHEDULER_LEASE_MS: how long a claimed pet is held before another instance may take it over. @default 60000 */
  readonly leaseMs: number;
  /** WEBHOOK_ALLOW_PRIVATE: webhook URLs and push endpoints may be http and private addresses. @default false */
  readonly allowPrivate: boolean;
  /** NOTIFY_MAX_PER_DAY: deliveries per pet per target per day. @default 6 */
  readonly maxPerDay: number;
  /** CRON_SECRET: Vercel Cron's Bearer for GET /api/cron/tick. */
  readonly cronSecret: string | null;
  /** QSTASH_CURRENT_SIGNING_KEY / QSTASH_NEXT_SIGNING_KEY: Upstash QStash signatures for the cron route. */
  readonly qstash: { current: string; next: string } | null;
  /** VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY / VAPID_SUBJECT; absent keys are generated once and kept in storage. */
  readonly vapid: { publicKey?: string; privateKey?: string; subject?: string };
  /** PUBLIC_URL: where the page is, for a push's click (absent: the path alone). */
  readonly publicUrl: string | null;
}

export interface Config {
  /** TCP port of the Node server. @default 8000 */
  readonly port: number;
  /** Interface the Node server binds. @default '127.0.0.1' */
  readonly host: string;
  /** Folder of the file storage. @default './data' */
  readonly dataDir: string;
  /** Simulated ms per wall ms; 0 = time moves only by catch-up. @default 1 */
  readonly timeScale: number;
  /** Name of a new pet. @default '小糖' */
  readonly petName: string;
  /** IANA timezone of a new pet. @default 'UTC' */
  readonly petTimezone: string;
  /** @default 'info' */
  readonly logLevel: LogLevel;
  /** Expire a pet this many days after its last save; null = never. @default null */
  readonly petTtlDays: number | null;
  /**
   * REDIS_WAIT_REPLICAS: replicas that must hold each change before it is acknowledged (Redis
   * over TCP and Redis Cluster; WAIT after the compare-and-set). @default 0
   */
  readonly redisWaitReplicas: number;
  /** The storage variables as given (STORAGE, REDIS_URL, REDIS_CLUSTER_NODES, KV_*, UPSTASH_*, DATA_DIR, VERCEL). */
  readonly storageInput: Readonly<StorageInput>;
  /** The backend they select (docs/design.md §4), already checked. */
  readonly storage: StorageChoice;
  /** Running as a Vercel function (VERCEL is set). */
  readonly onVercel: boolean;
  /** Origins allowed by CORS; ['*'] allows any. @default ['*'] */
  readonly corsOrigins: readonly string[];
  /**
   * Bearer token that may do anything to any pet (claimed or not); null = none. At least 16
   * visible ASCII characters. A secret: never logged. @default null
   */
  readonly adminToken: string | null;
  /**
   * Bearer token that GET /metrics needs when set (401 without it, 403 with another); null = the
   * metrics are open. 16–512 visible ASCII characters. A secret: never logged. @default null
   */
  readonly metricsToken: string | null;
  /** Claimed pets need their secret (or the admin token) for reads too. @default false */
  readonly readsRequireAuth: boolean;
  /** Fixed-window rate limits, counted in the storage (so they hold across instances). */
  readonly rateLimits: RateLimitConfig;
  /**
   * Take the client address from the first X-Forwarded-For hop instead of the socket (only behind
   * a proxy that sets that header itself, as Vercel does). @default true on Vercel, else false
   */
  readonly trustProxy: boolean;
  /**
   * Pets whose last state answer is kept in memory for the next read that finds them unchanged
   * in the same minute (0: none). @default 2000
   */
  readonly readCacheSize: number;
  /** Largest accepted request body, bytes. @default 16384 */
  readonly bodyLimitBytes: number;
  /** How long shutdown waits for requests in flight, ms. @default 10000 */
  readonly shutdownTimeoutMs: number;
  /** Node server timeouts, so that a client that sends slowly or never finishes cannot hold a socket. */
  readonly serverTimeouts: ServerTimeouts;
  /**
   * A pet created by reads alone and never changed expires this many days after its last save;
   * its first change makes it permanent (or subject to PET_TTL_DAYS). @default 30
   */
  readonly newbornTtlDays: number;
  /** Requests one pet may have waiting in this process's queue; beyond it 503 `busy`. @default 64 */
  readonly petQueueDepth: number;
  /** Realtime events (docs/design.md §9): subscriber limits and stream timing. */
  readonly events: EventsConfig;
  /** Pets one owner may hold (docs/design.md §8; MAX_PETS_PER_OWNER). @default 20 */
  readonly maxPetsPerOwner: number;
  /** Owners one pet may have (docs/design.md §8; MAX_OWNERS_PER_PET). @default 8 */
  readonly maxOwnersPerPet: number;
  /**
   * TEST ONLY (FAULT_PAUSE_AFTER_FIRST_WRITE_MS): after the first of the two writes of a change
   * between two pets (a visit), log `fault: paused after first write` and pause this long before
   * the second, so that a test can kill the process in between. 0 (the default) = off.
   */
  readonly faultPauseAfterFirstWriteMs: number;
  /** Webhooks, Web Push and the schedule of life events (docs/design.md §13). */
  readonly notify: NotifyConfig;
  /**
   * TEST ONLY (FAULT_THROW_IN_LISTENERS=on): an upgrade request to `/api/fault/throw` throws in
   * the upgrade listener and, once its socket closes, in a socket listener outside any guard, so
   * that a test can see the process log both and live on (docs/design.md §14). Off by default.
   */
  readonly faultThrowInListeners: boolean;
  /**
   * Snapshots of the pets served, kept fresh by Redis client-side tracking (docs/design.md §11):
   * SNAPSHOT_CACHE_BYTES when on (SNAPSHOTS=on), 0 when off. Only Redis over TCP tracks keys:
   * on by default there, off elsewhere; SNAPSHOTS=on with another backend is an error.
   * @default 32 MiB on Redis TCP, else 0
   */
  readonly snapshotBytes: number;
}

export interface EventsConfig {
  /** SSE and WebSocket subscribers in one process; beyond it 503 `busy` (EVENTS_MAX_SUBSCRIBERS). @default 10000 */
  readonly maxSubscribers: number;
  /** Subscribers of one pet in one process; beyond it 503 `busy` (EVENTS_MAX_PER_PET). @default 100 */
  readonly maxPerPet: number;
  /** A `: heartbeat` comment on an idle SSE stream (a ping on a WebSocket) every this many ms (EVENTS_HEARTBEAT_MS). @default 15000 */
  readonly heartbeatMs: number;
  /** The Vercel function's limit, s (VERCEL_MAX_DURATION_S): SSE streams end with `reconnect` 5 s before it. @default 60 */
  readonly vercelMaxDurationS: number;
}

export interface ServerTimeouts {
  /** Until the request's headers are complete, ms. @default 10000 */
  readonly headersMs: number;
  /** Until the whole request (headers and body) is received, ms. @default 30000 */
  readonly requestMs: number;
  /** An idle keep-alive connection is closed after this long, ms. @default 5000 */
  readonly keepAliveMs: number;
}

export interface RateLimitConfig {
  /** Requests per window to one pet, from anyone; 0 = no limit. @default 120 */
  readonly perPet: number;
  /** Requests per window from one client address, to any pet; 0 = no limit. @default 300 */
  readonly perClient: number;
  /** Window length, seconds. @default 60 */
  readonly windowSeconds: number;
}

function parseOrigins(raw: string | undefined): string[] {
  if (raw === undefined) return ['*'];
  const origins = raw
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  return origins.length > 0 ? origins : ['*'];
}

function isTruthy(raw: string | undefined): boolean {
  return raw !== undefined && raw !== '0' && raw.toLowerCase() !== 'false';
}

function storageInputOf(env: Record<string, string | undefined>, storage: StorageKind | undefined): StorageInput {
  const value = (name: string) => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === '' ? undefined : raw;
  };
  return {
    storage,
    redisUrl: value('REDIS_URL'),
    redisClusterNodes: value('REDIS_CLUSTER_NODES'),
    kvUrl: value('KV_URL'),
    kvRestApiUrl: value('KV_REST_API_URL'),
    kvRestApiToken: value('KV_REST_API_TOKEN'),
    upstashRedisRestUrl: value('UPSTASH_REDIS_REST_URL'),
    upstashRedisRestToken: value('UPSTASH_REDIS_REST_TOKEN'),
    dataDir: value('DATA_DIR') ?? './data',
    onVercel: isTruthy(value('VERCEL')),
  };
}

/**
 * Parses the environment into a Config; throws ConfigError listing every problem at once, each
 * naming its variable. The storage variables are checked by the backend choice (docs/design.md §4):
 * on Vercel with no storage configured, that is a problem too.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = envSchema.safeParse(env);
  const problems: string[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) {
      const name = String(issue.path[0] ?? 'environment');
      problems.push(issue.message.includes(name) ? issue.message : `${name}: ${issue.message}`);
    }
  }
  const parsed = result.success ? result.data : undefined;
  const storageKind =
    parsed?.STORAGE ?? ((STORAGE_KINDS as readonly string[]).find((kind) => kind === env['STORAGE']?.trim()) as StorageKind | undefined);
  const storageInput = storageInputOf(env, storageKind);
  let storage: StorageChoice | undefined;
  try {
    storage = chooseStorage(storageInput);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  const headersMs = parsed?.HEADERS_TIMEOUT_MS ?? 10_000;
  const requestMs = parsed?.REQUEST_TIMEOUT_MS ?? 30_000;
  const waitReplicas = parsed?.REDIS_WAIT_REPLICAS ?? 0;
  if (waitReplicas > 0 && storage && storage.kind !== 'redis' && storage.kind !== 'redis-cluster') {
    problems.push(`REDIS_WAIT_REPLICAS needs Redis over TCP or a Redis Cluster; the storage is ${storage.kind}`);
  }
  if (headersMs > requestMs) {
    problems.push(`HEADERS_TIMEOUT_MS (${headersMs}) must not be above REQUEST_TIMEOUT_MS (${requestMs})`);
  }
  if (parsed?.SNAPSHOTS === 'on' && storage !== undefined && storage.kind !== 'redis') {
    problems.push(
      `SNAPSHOTS=on needs Redis over TCP (REDIS_URL): snapshots are kept fresh by CLIENT TRACKING, which ${storage.kind} storage does not have`,
    );
  }
  if (!parsed || !storage || problems.length > 0) throw new ConfigError(problems);
  const snapshotsOn = (parsed.SNAPSHOTS ?? (storage.kind === 'redis' ? 'on' : 'off')) === 'on';

  return Object.freeze({
    port: parsed.PORT ?? 8000,
    host: parsed.HOST ?? '127.0.0.1',
    dataDir: storageInput.dataDir,
    timeScale: parsed.TIME_SCALE ?? 1,
    petName: parsed.PET_NAME ?? '小糖',
    petTimezone: canonicalTimezone(parsed.PET_TZ ?? 'UTC') ?? 'UTC',
    logLevel: parsed.LOG_LEVEL ?? 'info',
    petTtlDays: parsed.PET_TTL_DAYS ?? null,
    redisWaitReplicas: waitReplicas,
    storageInput: Object.freeze(storageInput),
    storage: Object.freeze(storage),
    onVercel: storageInput.onVercel,
    corsOrigins: Object.freeze(parseOrigins(parsed.CORS_ORIGINS)),
    adminToken: parsed.ADMIN_TOKEN ?? null,
    metricsToken: parsed.METRICS_TOKEN ?? null,
    readsRequireAuth: parsed.READS_REQUIRE_AUTH ?? false,
    rateLimits: Object.freeze({
      perPet: parsed.RATE_LIMIT_PER_PET ?? 120,
      perClient: parsed.RATE_LIMIT_PER_CLIENT ?? 300,
      windowSeconds: parsed.RATE_LIMIT_WINDOW_SECONDS ?? 60,
    }),
    trustProxy: parsed.TRUST_PROXY ?? storageInput.onVercel,
    readCacheSize: parsed.READ_CACHE_SIZE ?? LIMIT_DEFAULTS.readCacheSize,
    bodyLimitBytes: 16 * 1024,
    shutdownTimeoutMs: parsed.SHUTDOWN_TIMEOUT_MS ?? 10_000,
    serverTimeouts: Object.freeze({ headersMs, requestMs, keepAliveMs: parsed.KEEP_ALIVE_TIMEOUT_MS ?? 5_000 }),
    newbornTtlDays: parsed.NEWBORN_TTL_DAYS ?? LIMIT_DEFAULTS.newbornTtlDays,
    petQueueDepth: parsed.PET_QUEUE_DEPTH ?? LIMIT_DEFAULTS.petQueueDepth,
    events: Object.freeze({
      maxSubscribers: parsed.EVENTS_MAX_SUBSCRIBERS ?? LIMIT_DEFAULTS.events.maxSubscribers,
      maxPerPet: parsed.EVENTS_MAX_PER_PET ?? LIMIT_DEFAULTS.events.maxPerPet,
      heartbeatMs: parsed.EVENTS_HEARTBEAT_MS ?? LIMIT_DEFAULTS.events.heartbeatMs,
      vercelMaxDurationS: parsed.VERCEL_MAX_DURATION_S ?? LIMIT_DEFAULTS.events.vercelMaxDurationS,
    }),
    maxPetsPerOwner: parsed.MAX_PETS_PER_OWNER ?? LIMIT_DEFAULTS.maxPetsPerOwner,
    maxOwnersPerPet: parsed.MAX_OWNERS_PER_PET ?? LIMIT_DEFAULTS.maxOwnersPerPet,
    faultPauseAfterFirstWriteMs: parsed.FAULT_PAUSE_AFTER_FIRST_WRITE_MS ?? 0,
    faultThrowInListeners: parsed.FAULT_THROW_IN_LISTENERS === 'on',
    notify: Object.freeze({
      // On Vercel nothing runs between requests: the cron route drains the schedule instead.
      scheduler: parsed.SCHEDULER ?? !storageInput.onVercel,
      leaseMs: parsed.SCHEDULER_LEASE_MS ?? 60_000,
      allowPrivate: parsed.WEBHOOK_ALLOW_PRIVATE ?? false,
      maxPerDay: parsed.NOTIFY_MAX_PER_DAY ?? 6,
      cronSecret: parsed.CRON_SECRET ?? null,
      qstash:
        parsed.QSTASH_CURRENT_SIGNING_KEY === undefined
          ? null
          : { current: parsed.QSTASH_CURRENT_SIGNING_KEY, next: parsed.QSTASH_NEXT_SIGNING_KEY ?? parsed.QSTASH_CURRENT_SIGNING_KEY },
      vapid: {
        ...(parsed.VAPID_PUBLIC_KEY === undefined ? {} : { publicKey: parsed.VAPID_PUBLIC_KEY }),
        ...(parsed.VAPID_PRIVATE_KEY === undefined ? {} : { privateKey: parsed.VAPID_PRIVATE_KEY }),
        ...(parsed.VAPID_SUBJECT === undefined ? {} : { subject: parsed.VAPID_SUBJECT }),
      },
      publicUrl: parsed.PUBLIC_URL ?? null,
    }),
    snapshotBytes: snapshotsOn ? (parsed.SNAPSHOT_CACHE_BYTES ?? DEFAULT_SNAPSHOT_BYTES) : 0,
  });
}
