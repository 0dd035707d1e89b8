import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  chooseStorage,
  createMemoryStorage,
  createStorage,
  describeStorage,
  type StorageChoice,
  type StorageInput,
} from '../../src/storage/index.js';

const base: StorageInput = { dataDir: './data', onVercel: false };
const REDIS = 'redis://default:pw@10.0.0.1:6379';
const KV = 'rediss://default:tok@fine-cat.upstash.io:6379';
const REST = 'https://fine-cat.upstash.io';

describe('chooseStorage', () => {
  const table: [string, Partial<StorageInput>, StorageChoice][] = [
    ['nothing configured → files in DATA_DIR', {}, { kind: 'file', dir: './data' }],
    ['STORAGE=memory wins over everything', { storage: 'memory', redisUrl: REDIS }, { kind: 'memory' }],
    ['STORAGE=file wins over REDIS_URL', { storage: 'file', redisUrl: REDIS }, { kind: 'file', dir: './data' }],
    ['STORAGE=redis takes REDIS_URL', { storage: 'redis', redisUrl: REDIS }, { kind: 'redis', url: REDIS }],
    ['STORAGE=redis takes KV_URL', { storage: 'redis', kvUrl: KV }, { kind: 'redis', url: KV }],
    [
      'STORAGE=upstash takes KV_REST_API_* even with REDIS_URL set',
      { storage: 'upstash', redisUrl: REDIS, kvRestApiUrl: REST, kvRestApiToken: 't' },
      { kind: 'upstash', url: REST, token: 't' },
    ],
    ['REDIS_URL → redis', { redisUrl: REDIS }, { kind: 'redis', url: REDIS }],
    ['REDIS_URL before KV_URL', { redisUrl: REDIS, kvUrl: KV }, { kind: 'redis', url: REDIS }],
    ['KV_URL (rediss://) → redis', { kvUrl: KV }, { kind: 'redis', url: KV }],
    ['Redis over TCP before REST', { kvUrl: KV, kvRestApiUrl: REST, kvRestApiToken: 't' }, { kind: 'redis', url: KV }],
    ['KV_REST_API_URL + TOKEN → upstash', { kvRestApiUrl: REST, kvRestApiToken: 't' }, { kind: 'upstash', url: REST, token: 't' }],
    [
      'UPSTASH_REDIS_REST_URL + TOKEN → upstash',
      { upstashRedisRestUrl: REST, upstashRedisRestToken: 'u' },
      { kind: 'upstash', url: REST, token: 'u' },
    ],
    [
      'KV_REST_API_* before UPSTASH_REDIS_REST_*',
      { kvRestApiUrl: REST, kvRestApiToken: 't', upstashRedisRestUrl: 'https://other.upstash.io', upstashRedisRestToken: 'u' },
      { kind: 'upstash', url: REST, token: 't' },
    ],
    ['empty variables count as unset', { redisUrl: '', kvUrl: '  ' }, { kind: 'file', dir: './data' }],
    ['on Vercel with Redis configured → redis', { onVercel: true, redisUrl: REDIS }, { kind: 'redis', url: REDIS }],
    ['on Vercel, STORAGE=memory is allowed', { onVercel: true, storage: 'memory' }, { kind: 'memory' }],
    ['REDIS_CLUSTER_NODES → redis-cluster', { redisClusterNodes: 'h1:7001,h2:7002' }, { kind: 'redis-cluster', nodes: 'h1:7001,h2:7002' }],
    [
      'REDIS_CLUSTER_NODES before REDIS_URL',
      { redisClusterNodes: 'h1:7001', redisUrl: REDIS },
      { kind: 'redis-cluster', nodes: 'h1:7001' },
    ],
    [
      'STORAGE=redis takes REDIS_URL even with cluster nodes',
      { storage: 'redis', redisUrl: REDIS, redisClusterNodes: 'h1:7001' },
      { kind: 'redis', url: REDIS },
    ],
    [
      'STORAGE=redis-cluster takes REDIS_CLUSTER_NODES',
      { storage: 'redis-cluster', redisClusterNodes: 'h1:7001' },
      { kind: 'redis-cluster', nodes: 'h1:7001' },
    ],
  ];
  it.each(table)('%s', (_, input, expected) => {
    expect(chooseStorage({ ...base, ...input })).toEqual(expected);
  });

  const errors: [string, Partial<StorageInput>, RegExp][] = [
    ['on Vercel with nothing configured', { onVercel: true }, /REDIS_URL.*KV_REST_API_URL/],
    ['an https REDIS_URL (a REST URL in the wrong variable)', { redisUrl: REST }, /REDIS_URL.*REST URL.*KV_REST_API_URL/],
    ['an https KV_URL', { kvUrl: REST }, /KV_URL.*REST URL/],
    ['another scheme in REDIS_URL', { redisUrl: 'tcp://x:6379' }, /REDIS_URL must start with redis:\/\/ or rediss:\/\//],
    ['STORAGE=redis without a URL', { storage: 'redis' }, /STORAGE=redis needs REDIS_URL or KV_URL/],
    ['STORAGE=redis with only REST credentials', { storage: 'redis', kvRestApiUrl: REST, kvRestApiToken: 't' }, /STORAGE=redis/],
    ['STORAGE=upstash without credentials', { storage: 'upstash' }, /STORAGE=upstash needs KV_REST_API_URL/],
    ['a REST URL without its token', { kvRestApiUrl: REST }, /KV_REST_API_TOKEN is missing/],
    ['a REST token without its URL', { upstashRedisRestToken: 'u' }, /UPSTASH_REDIS_REST_URL is missing/],
    ['a REST URL that is not https', { kvRestApiUrl: 'redis://x:6379', kvRestApiToken: 't' }, /must be an https:\/\/ URL/],
    ['an unknown STORAGE', { storage: 'sqlite' as never }, /STORAGE must be one of/],
    [
      'STORAGE=redis-cluster without nodes',
      { storage: 'redis-cluster', redisUrl: REDIS },
      /STORAGE=redis-cluster needs REDIS_CLUSTER_NODES/,
    ],
    ['a cluster node without a port', { redisClusterNodes: 'h1:7001,h2' }, /REDIS_CLUSTER_NODES.*host:port/],
  ];
  it.each(errors)('refuses %s with a ConfigError saying what to set', (_, input, message) => {
    const error = (() => {
      try {
        chooseStorage({ ...base, ...input });
      } catch (caught) {
        return caught;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('config_invalid');
    expect((error as ConfigError).problems.join('\n')).toMatch(message);
  });
});

describe('createStorage and describeStorage', () => {
  it('builds each driver without connecting and describes it with secrets redacted', async () => {
    const redis = await createStorage({ kind: 'redis', url: 'redis://default:s3cret@127.0.0.1:6379' });
    expect(describeStorage(redis)).toBe('Using RedisStorage (redis://default:***@127.0.0.1:6379)');
    const plain = await createStorage({ kind: 'redis', url: 'redis://127.0.0.1:6379' });
    expect(describeStorage(plain)).toBe('Using RedisStorage (redis://127.0.0.1:6379)');
    const upstash = await createStorage({ kind: 'upstash', url: 'https://fine-cat.upstash.io', token: 'AXsecret' });
    expect(describeStorage(upstash)).toBe('Using UpstashRestStorage (https://fine-cat.upstash.io)');
    expect(describeStorage(upstash)).not.toContain('AXsecret');
    const file = await createStorage({ kind: 'file', dir: './data' });
    expect(describeStorage(file)).toBe('Using FileStorage (./data)');
    expect(describeStorage(await createStorage({ kind: 'memory' }))).toBe('Using MemoryStorage (memory)');
    expect(describeStorage(createMemoryStorage())).toBe('Using MemoryStorage (memory)');
    const cluster = await createStorage({ kind: 'redis-cluster', nodes: 'rediss://:s3cret@10.0.0.1:7001,10.0.0.2:7002' });
    expect(describeStorage(cluster)).toBe('Using RedisClusterStorage (rediss://:***@10.0.0.1:7001,10.0.0.2:7002)');
    await cluster.close();
    await Promise.all([redis.close(), plain.close(), upstash.close(), file.close()]);
  });

  it('passes the TTL through', async () => {
    const memory = await createStorage({ kind: 'memory' }, { ttlMs: 1000 });
    const meta = { version: 1, pet_name: 'x', timezone: 'UTC', created_at: '', world_ms: 0, wall_ms: 0 };
    await memory.save('ttl-pet', { expectedVersion: 0, meta, systems: {} });
    expect((memory as ReturnType<typeof createMemoryStorage>).pttl('life_ttl-pet:meta')).toBeGreaterThan(0);
  });
});
