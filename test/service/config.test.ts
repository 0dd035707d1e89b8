/** src/config.ts (kept beside the service tests: the layer that consumes it). */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8000,
      host: '127.0.0.1',
      dataDir: './data',
      timeScale: 1,
      petName: '小糖',
      petTimezone: 'UTC',
      logLevel: 'info',
      petTtlDays: null,
      onVercel: false,
      corsOrigins: ['*'],
      bodyLimitBytes: 16 * 1024,
      readCacheSize: 2000,
      storage: { kind: 'file', dir: './data' },
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('has hardened defaults (issue #10) and reads their variables', () => {
    expect(loadConfig({})).toMatchObject({
      serverTimeouts: { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000 },
      newbornTtlDays: 30,
      petQueueDepth: 64,
    });
    expect(
      loadConfig({
        HEADERS_TIMEOUT_MS: '2000',
        REQUEST_TIMEOUT_MS: '3000',
        KEEP_ALIVE_TIMEOUT_MS: '1000',
        NEWBORN_TTL_DAYS: '7',
        PET_QUEUE_DEPTH: '8',
      }),
    ).toMatchObject({ serverTimeouts: { headersMs: 2000, requestMs: 3000, keepAliveMs: 1000 }, newbornTtlDays: 7, petQueueDepth: 8 });
    expect(problemsOf({ HEADERS_TIMEOUT_MS: '40000' })).toEqual([
      'HEADERS_TIMEOUT_MS (40000) must not be above REQUEST_TIMEOUT_MS (30000)',
    ]);
    expect(problemsOf({ REQUEST_TIMEOUT_MS: '10', PET_QUEUE_DEPTH: '0', NEWBORN_TTL_DAYS: '-1' })).toHaveLength(3);
    // A timezone is stored as its canonical name, whatever the spelling given.
    expect(loadConfig({ PET_TZ: 'asia/shanghai' }).petTimezone).toBe('Asia/Shanghai');
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '9000',
      HOST: '0.0.0.0',
      DATA_DIR: '/var/pets',
      TIME_SCALE: '60',
      PET_NAME: 'Mochi',
      PET_TZ: 'Asia/Shanghai',
      LOG_LEVEL: 'debug',
      PET_TTL_DAYS: '30',
      REDIS_URL: 'redis://127.0.0.1:6379',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      SHUTDOWN_TIMEOUT_MS: '2500',
      READ_CACHE_SIZE: '0',
    });
    expect(config).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      dataDir: '/var/pets',
      timeScale: 60,
      petName: 'Mochi',
      petTimezone: 'Asia/Shanghai',
      logLevel: 'debug',
      petTtlDays: 30,
      corsOrigins: ['https://a.example', 'https://b.example'],
      shutdownTimeoutMs: 2500,
      readCacheSize: 0,
      storage: { kind: 'redis', url: 'redis://127.0.0.1:6379' },
    });
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', TIME_SCALE: ' ', REDIS_URL: '' })).toMatchObject({ port: 8000, timeScale: 1, storage: { kind: 'file' } });
  });

  it('chooses the backend as docs/design.md §4 says', () => {
    expect(loadConfig({ STORAGE: 'memory', REDIS_URL: 'redis://x:1' }).storage).toEqual({ kind: 'memory' });
    expect(loadConfig({ KV_URL: 'rediss://default:pw@h.upstash.io:6379' }).storage).toMatchObject({ kind: 'redis' });
    expect(loadConfig({ KV_REST_API_URL: 'https://h.upstash.io', KV_REST_API_TOKEN: 't' }).storage).toMatchObject({ kind: 'upstash' });
    expect(loadConfig({ VERCEL: '1', REDIS_URL: 'redis://r:6379' }).storage).toMatchObject({ kind: 'redis' });
    expect(loadConfig({ STORAGE: 'redis-cluster', REDIS_CLUSTER_NODES: '127.0.0.1:7101' }).storage).toEqual({
      kind: 'redis-cluster',
      nodes: '127.0.0.1:7101',
    });
  });

  it('reads REDIS_WAIT_REPLICAS (default 0) and refuses it without Redis over TCP or a cluster', () => {
    expect(loadConfig({}).redisWaitReplicas).toBe(0);
    expect(loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7101', REDIS_WAIT_REPLICAS: '1' }).redisWaitReplicas).toBe(1);
    expect(loadConfig({ REDIS_URL: 'redis://r:6379', REDIS_WAIT_REPLICAS: '2' }).redisWaitReplicas).toBe(2);
    expect(problemsOf({ REDIS_WAIT_REPLICAS: '1' }).join('\n')).toMatch(/REDIS_WAIT_REPLICAS needs Redis over TCP or a Redis Cluster/);
    expect(problemsOf({ REDIS_URL: 'redis://r:6379', REDIS_WAIT_REPLICAS: '-1' }).join('\n')).toMatch(/REDIS_WAIT_REPLICAS/);
  });

  it('refuses to start on Vercel with no storage configured, saying what to set', () => {
    const problems = problemsOf({ VERCEL: '1' });
    expect(problems.join('\n')).toMatch(/REDIS_URL/);
    expect(problems.join('\n')).toMatch(/KV_REST_API_URL/);
  });

  it('reports every bad variable at once, by name', () => {
    const problems = problemsOf({
      PORT: '70000',
      TIME_SCALE: '-1',
      PET_TZ: 'Mars/Olympus',
      LOG_LEVEL: 'loud',
      PET_TTL_DAYS: '0',
      STORAGE: 'floppy',
      KV_REST_API_URL: 'https://h.upstash.io',
    });
    const text = problems.join('\n');
    for (const name of ['PORT', 'TIME_SCALE', 'PET_TZ', 'LOG_LEVEL', 'PET_TTL_DAYS', 'STORAGE', 'KV_REST_API_TOKEN']) {
      expect(text).toContain(name);
    }
    expect(problems.length).toBeGreaterThanOrEqual(7);
  });

  it('reads the access, rate-limit and proxy variables of issue #5, with their defaults', () => {
    expect(loadConfig({})).toMatchObject({
      adminToken: null,
      readsRequireAuth: false,
      rateLimits: { perPet: 120, perClient: 300, windowSeconds: 60 },
      trustProxy: false,
    });
    expect(loadConfig({ VERCEL: '1', REDIS_URL: 'redis://r:6379' }).trustProxy).toBe(true);
    const config = loadConfig({
      ADMIN_TOKEN: 'a-long-admin-token-123',
      READS_REQUIRE_AUTH: 'true',
      RATE_LIMIT_PER_PET: '0',
      RATE_LIMIT_PER_CLIENT: '1000',
      RATE_LIMIT_WINDOW_SECONDS: '10',
      TRUST_PROXY: 'no',
      VERCEL: '1',
      REDIS_URL: 'redis://r:6379',
    });
    expect(config).toMatchObject({
      adminToken: 'a-long-admin-token-123',
      readsRequireAuth: true,
      rateLimits: { perPet: 0, perClient: 1000, windowSeconds: 10 },
      trustProxy: false,
    });
    expect(Object.isFrozen(config.rateLimits)).toBe(true);
  });

  it('reads METRICS_TOKEN (issue #15): null by default, 16–512 visible ASCII characters, never echoed', () => {
    expect(loadConfig({}).metricsToken).toBeNull();
    expect(loadConfig({ METRICS_TOKEN: 'metrics-token-0123456789' }).metricsToken).toBe('metrics-token-0123456789');
    const text = problemsOf({ METRICS_TOKEN: 'short secret' }).join('\n');
    expect(text).toContain('METRICS_TOKEN');
    expect(text).not.toContain('short secret');
  });

  it('refuses bad access, rate-limit, proxy and CORS values, without echoing the admin token', () => {
    const problems = problemsOf({
      ADMIN_TOKEN: 'short secret',
      READS_REQUIRE_AUTH: 'maybe',
      RATE_LIMIT_PER_PET: '-1',
      RATE_LIMIT_PER_CLIENT: '1.5',
      RATE_LIMIT_WINDOW_SECONDS: '0',
      TRUST_PROXY: 'sometimes',
      CORS_ORIGINS: 'https://ok.example, https://bad.example/path',
    });
    const text = problems.join('\n');
    for (const name of [
      'ADMIN_TOKEN',
      'READS_REQUIRE_AUTH',
      'RATE_LIMIT_PER_PET',
      'RATE_LIMIT_PER_CLIENT',
      'RATE_LIMIT_WINDOW_SECONDS',
      'TRUST_PROXY',
      'CORS_ORIGINS',
    ]) {
      expect(text).toContain(name);
    }
    expect(text).not.toContain('short secret');
    expect(problemsOf({ ADMIN_TOKEN: 'x'.repeat(15) }).join('\n')).toContain('ADMIN_TOKEN');
    expect(problemsOf({ CORS_ORIGINS: 'pets.example' }).join('\n')).toContain('CORS_ORIGINS');
    expect(problemsOf({ READ_CACHE_SIZE: 'lots' }).join('\n')).toContain('READ_CACHE_SIZE');
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
    expect(loadConfig({ CORS_ORIGINS: 'http://localhost:5173' }).corsOrigins).toEqual(['http://localhost:5173']);
  });

  it('reads SNAPSHOTS and SNAPSHOT_CACHE_BYTES (issue #16): on by default on Redis TCP only, refused on another backend', () => {
    expect(loadConfig({ REDIS_URL: 'redis://r:6379' }).snapshotBytes).toBe(32 * 1024 * 1024);
    expect(loadConfig({ REDIS_URL: 'redis://r:6379', SNAPSHOTS: 'off' }).snapshotBytes).toBe(0);
    expect(loadConfig({ REDIS_URL: 'redis://r:6379', SNAPSHOT_CACHE_BYTES: '1048576' }).snapshotBytes).toBe(1_048_576);
    expect(loadConfig({ REDIS_URL: 'redis://r:6379', SNAPSHOTS: 'off', SNAPSHOT_CACHE_BYTES: '1048576' }).snapshotBytes).toBe(0);
    expect(loadConfig({}).snapshotBytes).toBe(0);
    expect(loadConfig({ STORAGE: 'memory' }).snapshotBytes).toBe(0);
    expect(loadConfig({ KV_REST_API_URL: 'https://x.upstash.io', KV_REST_API_TOKEN: 't' }).snapshotBytes).toBe(0);
    expect(loadConfig({ SNAPSHOTS: 'off' }).snapshotBytes).toBe(0);
    const refusal = (env: Record<string, string>): string => problemsOf(env).join('\n');
    expect(refusal({ SNAPSHOTS: 'on' })).toMatch(/SNAPSHOTS=on needs Redis over TCP/);
    expect(refusal({ SNAPSHOTS: 'on', KV_REST_API_URL: 'https://x.upstash.io', KV_REST_API_TOKEN: 't' })).toMatch(/upstash/);
    expect(refusal({ REDIS_URL: 'redis://r:6379', SNAPSHOTS: 'yes' })).toMatch(/SNAPSHOTS must be on or off/);
    expect(refusal({ REDIS_URL: 'redis://r:6379', SNAPSHOT_CACHE_BYTES: '100' })).toMatch(/SNAPSHOT_CACHE_BYTES must be/);
  });

  it('names a REST URL put where a redis:// URL belongs', () => {
    expect(problemsOf({ REDIS_URL: 'https://h.upstash.io' }).join('\n')).toMatch(/REDIS_URL.*KV_REST_API_URL/);
  });
});
