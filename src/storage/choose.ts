/**
 * Backend selection (docs/design.md §4), a pure function of configuration values, then a separate step
 * that builds the driver. Order: STORAGE wins; then REDIS_CLUSTER_NODES → Redis Cluster (§10); then REDIS_URL, then KV_URL (redis:// or
 * rediss://) → Redis over TCP; then KV_REST_API_URL + KV_REST_API_TOKEN (or
 * UPSTASH_REDIS_REST_URL + UPSTASH_REDIS_REST_TOKEN) → Upstash REST; else files in DATA_DIR —
 * except on Vercel, whose disk is not durable: there nothing configured is a ConfigError.
 * A configured Redis that is down is an error at request time, never a switch to files.
 * createStorage imports only the chosen driver's module (docs/deploy.md, "Cold start": a cold
 * Vercel function pays for every import, @redis/client a large one), so nothing here imports the
 * drivers.
 */
import { ConfigError } from '../errors.js';
import { parseClusterNodes } from './cluster-nodes.js';
import { createMemoryStorage } from './memory.js';
import type { StorageLog } from './redis.js';
import type { StorageDriver } from './types.js';

export type StorageKind = 'memory' | 'file' | 'redis' | 'upstash' | 'redis-cluster';

export interface StorageInput {
  /** STORAGE: an explicit choice. */
  storage?: StorageKind | undefined;
  /** REDIS_URL */
  redisUrl?: string | undefined;
  /** REDIS_CLUSTER_NODES: `host:port,…` (or redis:// URLs) of a Redis Cluster. */
  redisClusterNodes?: string | undefined;
  /** KV_URL */
  kvUrl?: string | undefined;
  /** KV_REST_API_URL */
  kvRestApiUrl?: string | undefined;
  /** KV_REST_API_TOKEN */
  kvRestApiToken?: string | undefined;
  /** UPSTASH_REDIS_REST_URL */
  upstashRedisRestUrl?: string | undefined;
  /** UPSTASH_REDIS_REST_TOKEN */
  upstashRedisRestToken?: string | undefined;
  /** DATA_DIR */
  dataDir: string;
  /** Running on Vercel (VERCEL is set). */
  onVercel: boolean;
}

export type StorageChoice =
  | { kind: 'memory' }
  | { kind: 'file'; dir: string }
  | { kind: 'redis'; url: string }
  | { kind: 'redis-cluster'; nodes: string }
  | { kind: 'upstash'; url: string; token: string };

const WHAT_TO_SET = 'set REDIS_URL (redis:// or rediss://), or KV_REST_API_URL and KV_REST_API_TOKEN (Upstash via the Vercel Marketplace)';

/** Picks the backend; throws ConfigError listing every problem on the chosen path. */
export function chooseStorage(input: StorageInput): StorageChoice {
  const v = {
    redisUrl: blankToUndefined(input.redisUrl),
    redisClusterNodes: blankToUndefined(input.redisClusterNodes),
    kvUrl: blankToUndefined(input.kvUrl),
    kvRestApiUrl: blankToUndefined(input.kvRestApiUrl),
    kvRestApiToken: blankToUndefined(input.kvRestApiToken),
    upstashRedisRestUrl: blankToUndefined(input.upstashRedisRestUrl),
    upstashRedisRestToken: blankToUndefined(input.upstashRedisRestToken),
  };

  const redis = (): StorageChoice | null => {
    for (const [name, url] of [
      ['REDIS_URL', v.redisUrl],
      ['KV_URL', v.kvUrl],
    ] as const) {
      if (url === undefined) continue;
      if (/^rediss?:\/\//i.test(url)) return { kind: 'redis', url };
      if (/^https?:\/\//i.test(url)) {
        throw new ConfigError([
          `${name} is an ${url.split(':')[0]} URL, which looks like a REST URL: set it as KV_REST_API_URL ` +
            `(with KV_REST_API_TOKEN) for Upstash REST, or use the redis:// / rediss:// URL here`,
        ]);
      }
      throw new ConfigError([`${name} must start with redis:// or rediss://`]);
    }
    return null;
  };

  const cluster = (): StorageChoice | null => {
    if (v.redisClusterNodes === undefined) return null;
    try {
      parseClusterNodes(v.redisClusterNodes);
    } catch (error) {
      throw new ConfigError([error instanceof Error ? error.message : String(error)]);
    }
    return { kind: 'redis-cluster', nodes: v.redisClusterNodes };
  };

  const upstash = (): StorageChoice | null => {
    const problems: string[] = [];
    for (const [urlName, url, tokenName, token] of [
      ['KV_REST_API_URL', v.kvRestApiUrl, 'KV_REST_API_TOKEN', v.kvRestApiToken],
      ['UPSTASH_REDIS_REST_URL', v.upstashRedisRestUrl, 'UPSTASH_REDIS_REST_TOKEN', v.upstashRedisRestToken],
    ] as const) {
      if (url === undefined && token === undefined) continue;
      if (url === undefined) problems.push(`${tokenName} is set but ${urlName} is missing`);
      else if (token === undefined) problems.push(`${urlName} is set but ${tokenName} is missing`);
      else if (!isRestUrl(url)) problems.push(`${urlName} must be an https:// URL`);
      else if (problems.length === 0) return { kind: 'upstash', url, token };
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return null;
  };

  switch (input.storage) {
    case 'memory':
      return { kind: 'memory' };
    case 'file':
      return { kind: 'file', dir: input.dataDir };
    case 'redis': {
      const choice = redis();
      if (!choice) throw new ConfigError(['STORAGE=redis needs REDIS_URL or KV_URL (redis:// or rediss://)']);
      return choice;
    }
    case 'redis-cluster': {
      const choice = cluster();
      if (!choice) throw new ConfigError(['STORAGE=redis-cluster needs REDIS_CLUSTER_NODES (host:port,host:port,…)']);
      return choice;
    }
    case 'upstash': {
      const choice = upstash();
      if (!choice) {
        throw new ConfigError([
          'STORAGE=upstash needs KV_REST_API_URL and KV_REST_API_TOKEN (or UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN)',
        ]);
      }
      return choice;
    }
    case undefined:
      break;
    default:
      throw new ConfigError([`STORAGE must be one of memory, file, redis, upstash, redis-cluster; got ${JSON.stringify(input.storage)}`]);
  }

  const chosen = cluster() ?? redis() ?? upstash();
  if (chosen) return chosen;
  if (input.onVercel) {
    throw new ConfigError([`no storage configured, and files on Vercel do not survive the instance: ${WHAT_TO_SET}`]);
  }
  return { kind: 'file', dir: input.dataDir };
}

export interface CreateStorageOptions {
  /** Time to live of a pet in ms (PET_TTL_DAYS), refreshed on every save. @default undefined (none) */
  ttlMs?: number | undefined;
  /** On Vercel: Redis commands are rejected while reconnecting rather than queued. @default false */
  onVercel?: boolean;
  /** Snapshot budget in bytes (SNAPSHOT_CACHE_BYTES) on Redis TCP; 0: none. @default 0 */
  snapshotBytes?: number;
  /** REDIS_WAIT_REPLICAS (Redis over TCP and Redis Cluster only). @default 0 */
  waitReplicas?: number;
  log?: StorageLog;
}

/**
 * Builds the driver for a choice, loading only that driver's module (no other I/O yet: Redis
 * connects lazily on first use).
 */
export async function createStorage(choice: StorageChoice, options: CreateStorageOptions = {}): Promise<StorageDriver> {
  const ttl = options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs };
  switch (choice.kind) {
    case 'memory':
      return createMemoryStorage(ttl);
    case 'file': {
      const { createFileStorage } = await import('./file.js');
      return createFileStorage({ dir: choice.dir, ...ttl });
    }
    case 'redis': {
      const { createRedisStorage } = await import('./redis.js');
      return createRedisStorage({
        url: choice.url,
        ...ttl,
        disableOfflineQueue: options.onVercel ?? false,
        snapshotBytes: options.snapshotBytes ?? 0,
        ...(options.waitReplicas ? { waitReplicas: options.waitReplicas } : {}),
        ...(options.log ? { log: options.log } : {}),
      });
    }
    case 'redis-cluster': {
      const { createRedisClusterStorage } = await import('./redis-cluster.js');
      return createRedisClusterStorage({
        nodes: choice.nodes,
        ...ttl,
        ...(options.waitReplicas ? { waitReplicas: options.waitReplicas } : {}),
        ...(options.log ? { log: options.log } : {}),
      });
    }
    case 'upstash': {
      if (options.waitReplicas)
        throw new ConfigError(['REDIS_WAIT_REPLICAS needs Redis over TCP or a Redis Cluster (REDIS_URL or REDIS_CLUSTER_NODES)']);
      const { createUpstashStorage } = await import('./upstash.js');
      return createUpstashStorage({ url: choice.url, token: choice.token, ...ttl });
    }
  }
}

/** The start-up line, secrets redacted: `Using RedisStorage (redis://127.0.0.1:6379)`. */
export function describeStorage(driver: Pick<StorageDriver, 'name' | 'target'>): string {
  return `Using ${driver.name} (${driver.target})`;
}

function blankToUndefined(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** https://…, or http:// to a loopback host (a local fake or proxy). */
function isRestUrl(url: string): boolean {
  if (/^https:\/\//i.test(url)) return true;
  try {
    const { protocol, hostname } = new URL(url);
    return protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
  } catch {
    return false;
  }
}
