/**
 * The environment's schema: every variable `loadConfig` (config.ts) reads, its zod parser and the
 * message that names it when it is wrong (docs/configuration.md lists them). Reads nothing itself.
 */
import { z } from 'zod';
import { canonicalTimezone } from './engine/index.js';
import { LOG_LEVELS } from './log.js';
import { hasControlCharacters, PET_NAME_MAX_LENGTH } from './rules.js';
import type { StorageKind } from './storage/index.js';

export const STORAGE_KINDS = ['memory', 'file', 'redis', 'upstash', 'redis-cluster'] as const satisfies readonly StorageKind[];

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

export const envSchema = z.object({
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
  FAULT_THROW_IN_LISTENERS: optional(z.enum(['on', 'off'], { message: 'FAULT_THROW_IN_LISTENERS must be on or off' })),
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
