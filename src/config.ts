/**
 * The one reader of `process.env`. `loadConfig(env)` parses the environment with one zod schema,
 * applies defaults, checks the rules that span variables, reports every problem at once (as a
 * ConfigError naming each bad variable) and returns a frozen Config. Everything downstream gets
 * the Config (or parts of it) as arguments.
 *
 * Empty values count as unset, as in most `.env` files.
 */
import { z } from 'zod';
import { canonicalTimezone } from './engine/index.js';
import { ConfigError } from './errors.js';
import { LOG_LEVELS, type LogLevel } from './log.js';
import { hasControlCharacters, PET_NAME_MAX_LENGTH } from './rules.js';
import { chooseStorage, DEFAULT_SNAPSHOT_BYTES, type StorageChoice, type StorageInput, type StorageKind } from './storage/index.js';

const STORAGE_KINDS = ['memory', 'file', 'redis', 'upstash', 'redis-cluster'] as const satisfies readonly StorageKind[];

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
  /** Realtime events (issue #12): subscriber limits and stream timing. */
  readonly events: EventsConfig;
  /** Pets one owner may hold (issue #13; MAX_PETS_PER_OWNER). @default 20 */
  readonly maxPetsPerOwner: number;
  /** Owners one pet may have (issue #13; MAX_OWNERS_PER_PET). @default 8 */
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
   * Snapshots of the pets served, kept fresh by Redis client-side tracking (§11, issue #16):
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

/** An unset or empty variable is undefined. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), schema.optional());

const numberFrom = (name: string, check: (n: number) => boolean, rule: string) =>
  z.string().transform((raw, ctx) => {
    const value = Number(raw.trim());
    if (raw.trim() === '' || !Number.isFinite(value) || !check(value)) {
      ctx.addIssue({ code: 'custom', message: `${name} must be ${rule} (got ${JSON.stringify(raw)})` });
      return z.NEVER;
    }
    return value;
  });

const timeoutMs = (name: string) =>
  numberFrom(name, (n) => Number.isInteger(n) && n >= 1_000 && n <= 600_000, 'an integer of ms from 1000 to 600000');

const isCount = (n: number) => Number.isInteger(n) && n >= 0 && n <= 1_000_000;

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

const booleanFrom = (name: string) =>
  z.string().transform((raw, ctx) => {
    const word = raw.trim().toLowerCase();
    if (TRUE_WORDS.includes(word)) return true;
    if (FALSE_WORDS.includes(word)) return false;
    ctx.addIssue({ code: 'custom', message: `${name} must be true or false (got ${JSON.stringify(raw)})` });
    return z.NEVER;
  });

/** `*`, or an origin exactly as browsers send it: scheme://host[:port], nothing after. */
function isOriginOrStar(origin: string): boolean {
  if (origin === '*' || origin === '') return true;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin;
  } catch {
    return false;
  }
}

const envSchema = z.object({
  PORT: optional(numberFrom('PORT', (n) => Number.isInteger(n) && n >= 0 && n <= 65_535, 'an integer 0–65535')),
  HOST: optional(z.string().trim()),
  DATA_DIR: optional(z.string()),
  TIME_SCALE: optional(numberFrom('TIME_SCALE', (n) => n >= 0 && n <= 1_000_000, 'a number from 0 to 1000000')),
  PET_NAME: optional(
    z
      .string()
      .trim()
      .min(1)
      .max(PET_NAME_MAX_LENGTH, { message: `PET_NAME must be at most ${PET_NAME_MAX_LENGTH} characters` })
      .refine((name) => !hasControlCharacters(name), { message: 'PET_NAME must not contain control characters' }),
  ),
  PET_TZ: optional(
    z
      .string()
      .trim()
      .refine((name) => canonicalTimezone(name) !== null, {
        message: 'PET_TZ must be an IANA timezone name such as Asia/Shanghai or UTC',
      }),
  ),
  LOG_LEVEL: optional(z.enum(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })),
  PET_TTL_DAYS: optional(numberFrom('PET_TTL_DAYS', (n) => n > 0 && n <= 36_500, 'a number of days above 0 (at most 36500)')),
  STORAGE: optional(z.enum(STORAGE_KINDS, { message: `STORAGE must be one of ${STORAGE_KINDS.join(', ')}` })),
  REDIS_URL: optional(z.string()),
  REDIS_CLUSTER_NODES: optional(z.string()),
  REDIS_WAIT_REPLICAS: optional(
    numberFrom('REDIS_WAIT_REPLICAS', (n) => Number.isInteger(n) && n >= 0 && n <= 16, 'an integer from 0 to 16'),
  ),
  KV_URL: optional(z.string()),
  KV_REST_API_URL: optional(z.string()),
  KV_REST_API_TOKEN: optional(z.string()),
  UPSTASH_REDIS_REST_URL: optional(z.string()),
  UPSTASH_REDIS_REST_TOKEN: optional(z.string()),
  VERCEL: optional(z.string()),
  CORS_ORIGINS: optional(
    z.string().refine((raw) => raw.split(',').every((origin) => isOriginOrStar(origin.trim())), {
      message: 'CORS_ORIGINS must be * or a comma-separated list of origins such as https://app.example (scheme://host[:port], no path)',
    }),
  ),
  ADMIN_TOKEN: optional(
    z.string().regex(/^[\x21-\x7e]{16,512}$/, { message: 'ADMIN_TOKEN must be 16–512 visible ASCII characters (no spaces)' }),
  ),
  METRICS_TOKEN: optional(
    z.string().regex(/^[\x21-\x7e]{16,512}$/, { message: 'METRICS_TOKEN must be 16–512 visible ASCII characters (no spaces)' }),
  ),
  READS_REQUIRE_AUTH: optional(booleanFrom('READS_REQUIRE_AUTH')),
  RATE_LIMIT_PER_PET: optional(numberFrom('RATE_LIMIT_PER_PET', isCount, 'an integer from 0 (no limit) to 1000000')),
  RATE_LIMIT_PER_CLIENT: optional(numberFrom('RATE_LIMIT_PER_CLIENT', isCount, 'an integer from 0 (no limit) to 1000000')),
  RATE_LIMIT_WINDOW_SECONDS: optional(
    numberFrom('RATE_LIMIT_WINDOW_SECONDS', (n) => Number.isInteger(n) && n >= 1 && n <= 86_400, 'an integer of seconds from 1 to 86400'),
  ),
  TRUST_PROXY: optional(booleanFrom('TRUST_PROXY')),
  READ_CACHE_SIZE: optional(numberFrom('READ_CACHE_SIZE', isCount, 'an integer from 0 (no cache) to 1000000')),
  SHUTDOWN_TIMEOUT_MS: optional(
    numberFrom('SHUTDOWN_TIMEOUT_MS', (n) => Number.isInteger(n) && n >= 0 && n <= 600_000, 'an integer of ms from 0 to 600000'),
  ),
  HEADERS_TIMEOUT_MS: optional(timeoutMs('HEADERS_TIMEOUT_MS')),
  REQUEST_TIMEOUT_MS: optional(timeoutMs('REQUEST_TIMEOUT_MS')),
  KEEP_ALIVE_TIMEOUT_MS: optional(timeoutMs('KEEP_ALIVE_TIMEOUT_MS')),
  NEWBORN_TTL_DAYS: optional(numberFrom('NEWBORN_TTL_DAYS', (n) => n > 0 && n <= 36_500, 'a number of days above 0 (at most 36500)')),
  EVENTS_MAX_SUBSCRIBERS: optional(
    numberFrom('EVENTS_MAX_SUBSCRIBERS', (n) => Number.isInteger(n) && n >= 1 && n <= 1_000_000, 'an integer from 1 to 1000000'),
  ),
  EVENTS_MAX_PER_PET: optional(
    numberFrom('EVENTS_MAX_PER_PET', (n) => Number.isInteger(n) && n >= 1 && n <= 1_000_000, 'an integer from 1 to 1000000'),
  ),
  EVENTS_HEARTBEAT_MS: optional(
    numberFrom('EVENTS_HEARTBEAT_MS', (n) => Number.isInteger(n) && n >= 100 && n <= 600_000, 'an integer of ms from 100 to 600000'),
  ),
  VERCEL_MAX_DURATION_S: optional(
    numberFrom('VERCEL_MAX_DURATION_S', (n) => Number.isInteger(n) && n >= 10 && n <= 900, 'an integer of seconds from 10 to 900'),
  ),
  SNAPSHOTS: optional(z.enum(['on', 'off'], { message: 'SNAPSHOTS must be on or off' })),
  SNAPSHOT_CACHE_BYTES: optional(
    numberFrom(
      'SNAPSHOT_CACHE_BYTES',
      (n) => Number.isSafeInteger(n) && n >= 65_536 && n <= 2 ** 40,
      'an integer of bytes from 65536 to 1099511627776',
    ),
  ),
  PET_QUEUE_DEPTH: optional(
    numberFrom('PET_QUEUE_DEPTH', (n) => Number.isInteger(n) && n >= 1 && n <= 100_000, 'an integer from 1 to 100000'),
  ),
  MAX_PETS_PER_OWNER: optional(
    numberFrom('MAX_PETS_PER_OWNER', (n) => Number.isInteger(n) && n >= 1 && n <= 1000, 'an integer from 1 to 1000'),
  ),
  MAX_OWNERS_PER_PET: optional(
    numberFrom('MAX_OWNERS_PER_PET', (n) => Number.isInteger(n) && n >= 1 && n <= 100, 'an integer from 1 to 100'),
  ),
  SCHEDULER: optional(booleanFrom('SCHEDULER')),
  SCHEDULER_LEASE_MS: optional(
    numberFrom('SCHEDULER_LEASE_MS', (n) => Number.isInteger(n) && n >= 1_000 && n <= 600_000, 'an integer of ms from 1000 to 600000'),
  ),
  WEBHOOK_ALLOW_PRIVATE: optional(booleanFrom('WEBHOOK_ALLOW_PRIVATE')),
  NOTIFY_MAX_PER_DAY: optional(
    numberFrom('NOTIFY_MAX_PER_DAY', (n) => Number.isInteger(n) && n >= 1 && n <= 1000, 'an integer from 1 to 1000'),
  ),
  CRON_SECRET: optional(z.string().min(16, { message: 'CRON_SECRET must be at least 16 characters' })),
  QSTASH_CURRENT_SIGNING_KEY: optional(z.string().min(1)),
  QSTASH_NEXT_SIGNING_KEY: optional(z.string().min(1)),
  VAPID_PUBLIC_KEY: optional(
    z.string().regex(/^[A-Za-z0-9_-]{80,100}$/, { message: 'VAPID_PUBLIC_KEY must be a base64url P-256 public key' }),
  ),
  VAPID_PRIVATE_KEY: optional(
    z.string().regex(/^[A-Za-z0-9_-]{40,50}$/, { message: 'VAPID_PRIVATE_KEY must be a base64url P-256 private key' }),
  ),
  VAPID_SUBJECT: optional(z.string().regex(/^(mailto:|https:\/\/)\S+$/, { message: 'VAPID_SUBJECT must be a mailto: or https: URL' })),
  PUBLIC_URL: optional(z.string().regex(/^https?:\/\/\S+$/, { message: 'PUBLIC_URL must be an http(s) URL' })),
  FAULT_PAUSE_AFTER_FIRST_WRITE_MS: optional(
    numberFrom(
      'FAULT_PAUSE_AFTER_FIRST_WRITE_MS',
      (n) => Number.isInteger(n) && n >= 0 && n <= 600_000,
      'an integer of ms from 0 to 600000',
    ),
  ),
});

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
    readCacheSize: parsed.READ_CACHE_SIZE ?? 2000,
    bodyLimitBytes: 16 * 1024,
    shutdownTimeoutMs: parsed.SHUTDOWN_TIMEOUT_MS ?? 10_000,
    serverTimeouts: Object.freeze({ headersMs, requestMs, keepAliveMs: parsed.KEEP_ALIVE_TIMEOUT_MS ?? 5_000 }),
    newbornTtlDays: parsed.NEWBORN_TTL_DAYS ?? 30,
    petQueueDepth: parsed.PET_QUEUE_DEPTH ?? 64,
    events: Object.freeze({
      maxSubscribers: parsed.EVENTS_MAX_SUBSCRIBERS ?? 10_000,
      maxPerPet: parsed.EVENTS_MAX_PER_PET ?? 100,
      heartbeatMs: parsed.EVENTS_HEARTBEAT_MS ?? 15_000,
      vercelMaxDurationS: parsed.VERCEL_MAX_DURATION_S ?? 60,
    }),
    maxPetsPerOwner: parsed.MAX_PETS_PER_OWNER ?? 20,
    maxOwnersPerPet: parsed.MAX_OWNERS_PER_PET ?? 8,
    faultPauseAfterFirstWriteMs: parsed.FAULT_PAUSE_AFTER_FIRST_WRITE_MS ?? 0,
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
