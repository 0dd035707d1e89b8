/**
 * The measured figures behind docs/scaling.md (docs/design.md §10), on this machine:
 * - bytes per pet: MEMORY USAGE of each key of a pet as the built server stores it — fresh, after
 *   20 feeds with an Idempotency-Key each, and with a full event log (1000 events);
 * - Redis commands per request kind, from INFO commandstats around 200 requests of each kind, on
 *   one Redis and on the cluster (summed over the masters);
 * - raw throughput of one Redis and of a 3-master cluster (redis-benchmark, pipelined GET/SET and
 *   EVALSHA of a small script), and CAS saves per second through the storage drivers.
 * Run alone: `npx tsx bench/cluster-capacity.ts` (starts its own redis-server, cluster and server;
 * `npm run build` first). Prints markdown.
 */
import { execFileSync } from 'node:child_process';
import { createClient } from '@redis/client';
import { send } from '../test/helpers/load.js';
import { connectClusterAdmin, startPrivateCluster } from '../test/helpers/redis-cluster.js';
import { startRedisServer } from '../test/helpers/redis-process.js';
import { startServerProcess } from '../test/helpers/server-process.js';
import { createRedisClusterStorage } from '../src/storage/redis-cluster.js';
import { createRedisStorage } from '../src/storage/redis.js';
import type { StorageDriver } from '../src/storage/types.js';

const LIMITS_OFF = { RATE_LIMIT_PER_PET: '0', RATE_LIMIT_PER_CLIENT: '0' };

async function memoryOfPet(url: string, id: string): Promise<{ keys: Record<string, number>; total: number }> {
  const client = createClient({ url, RESP: 2 });
  await client.connect();
  const keys: Record<string, number> = {};
  let total = 0;
  for (const key of ((await client.sendCommand(['KEYS', `life_${id}:*`])) as string[]).sort()) {
    const bytes = Number(await client.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0']));
    const name = key.slice(`life_${id}:`.length).replace(/^idem:.*/, 'idem:*');
    keys[name] = (keys[name] ?? 0) + bytes;
    total += bytes;
  }
  await client.close();
  return { keys, total };
}

/** Sum of `calls` per command from INFO commandstats of the given Redis URLs. */
async function commandStats(urls: readonly string[], reset: boolean): Promise<Record<string, number>> {
  const sums: Record<string, number> = {};
  for (const url of urls) {
    const client = createClient({ url, RESP: 2 });
    await client.connect();
    if (reset) await client.sendCommand(['CONFIG', 'RESETSTAT']);
    else {
      const info = String(await client.sendCommand(['INFO', 'commandstats']));
      for (const match of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
        const name = match[1] as string;
        sums[name] = (sums[name] ?? 0) + Number(match[2]);
      }
    }
    await client.close();
  }
  return sums;
}

async function perRequest(server: string, urls: readonly string[], label: string): Promise<string[]> {
  const rows: string[] = [];
  const N = 200;
  const kinds: Array<[string, (i: number) => Promise<unknown>]> = [
    ['GET state, new pet (created)', (i) => send(`${server}/api/pet/new-${label.replace(/\W+/g, '-')}-${i}/state`)],
    ['GET state, existing pet', (i) => send(`${server}/api/pet/new-${label.replace(/\W+/g, '-')}-${i}/state`)],
    ['POST interact', (i) => send(`${server}/api/pet/new-${label.replace(/\W+/g, '-')}-${i}/interact`, { json: { action: 'feed' } })],
    [
      'POST interact + Idempotency-Key',
      (i) =>
        send(`${server}/api/pet/new-${label.replace(/\W+/g, '-')}-${i}/interact`, {
          json: { action: 'play' },
          headers: { 'Idempotency-Key': `k-${i}` },
        }),
    ],
  ];
  for (const [kind, request] of kinds) {
    await commandStats(urls, true);
    for (let i = 0; i < N; i += 1) await request(i);
    const stats = await commandStats(urls, false);
    delete stats['config|resetstat'];
    const per = Object.entries(stats)
      .filter(([name]) => !name.startsWith('info') && !name.startsWith('cluster') && name !== 'ping' && name !== 'command')
      .map(([name, calls]) => `${name.toUpperCase()} ${(calls / N).toFixed(2)}`)
      .join(', ');
    rows.push(`| ${label} | ${kind} | ${per} |`);
  }
  return rows;
}

function benchmark(args: string[]): string {
  const out = execFileSync('redis-benchmark', [...args, '-q'], { encoding: 'utf8' });
  return out
    .split(/\r|\n/)
    .filter((line) => /requests per second/.test(line))
    .map((line) => line.trim())
    .join('; ');
}

/** CAS saves per second with `writers` concurrent writers on distinct pets for `ms`. */
async function savesPerSecond(driver: StorageDriver, writers: number, ms: number): Promise<number> {
  let saves = 0;
  const until = performance.now() + ms;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const id = `cap-${w}-${Math.random().toString(36).slice(2, 7)}`;
      for (let version = 0; performance.now() < until; version += 1) {
        const meta = { version: version + 1, pet_name: 'x', timezone: 'UTC', created_at: '', world_ms: version, wall_ms: version };
        const result = await driver.save(id, { expectedVersion: version, meta, systems: { stats: { feed: version, play: 0, greet: 0 } } });
        if (!result.ok) throw new Error('conflict');
        saves += 1;
      }
    }),
  );
  return Math.round(saves / (ms / 1000));
}

async function main(): Promise<void> {
  const redis = await startRedisServer();
  const cluster = await startPrivateCluster();
  const masters = (await connectClusterAdmin(cluster.nodes)).masters.map((node) => `redis://127.0.0.1:${node.port}`);
  try {
    // Bytes per pet, on one Redis (the cluster layout adds 2 bytes per key name).
    const server = await startServerProcess({ env: { REDIS_URL: redis.url, ...LIMITS_OFF } });
    await send(`${server.url}/api/pet/fresh/state`);
    for (let i = 0; i < 20; i += 1) {
      await send(`${server.url}/api/pet/keyed/interact`, { json: { action: 'feed' }, headers: { 'Idempotency-Key': `feed-${i}` } });
    }
    for (let i = 0; i < 1000; i += 1) await send(`${server.url}/api/pet/busy/interact`, { json: { action: i % 2 ? 'feed' : 'greet' } });
    console.log('## Bytes per pet (MEMORY USAGE, one Redis)\n');
    for (const id of ['fresh', 'keyed', 'busy']) console.log(`- ${id}: ${JSON.stringify(await memoryOfPet(redis.url, id))}`);

    console.log(
      '\n## Commands per request (INFO commandstats / 200 requests)\n\n| store | request | commands per request |\n|---|---|---|',
    );
    for (const row of await perRequest(server.url, [redis.url], 'redis')) console.log(row);
    await server.stop();
    // Rate limits counted (limits too high to refuse anything): the counted load.
    const COUNTED = { RATE_LIMIT_PER_PET: '1000000', RATE_LIMIT_PER_CLIENT: '1000000' };
    const countedSingle = await startServerProcess({ env: { REDIS_URL: redis.url, ...COUNTED } });
    for (const row of await perRequest(countedSingle.url, [redis.url], 'redis, rate limits on')) console.log(row);
    await countedSingle.stop();
    const clustered = await startServerProcess({ env: { REDIS_CLUSTER_NODES: cluster.nodes, ...LIMITS_OFF } });
    for (const row of await perRequest(clustered.url, masters, 'cluster')) console.log(row);
    const limited = await startServerProcess({ env: { REDIS_CLUSTER_NODES: cluster.nodes, ...COUNTED } });
    for (const row of await perRequest(limited.url, masters, 'cluster, rate limits on')) console.log(row);
    await Promise.all([clustered.stop(), limited.stop()]);

    console.log('\n## Raw throughput (redis-benchmark, 50 clients, pipeline 16)\n');
    const port = new URL(redis.url).port;
    const [first] = cluster.nodes.split(',');
    const clusterPort = first?.split(':')[1] ?? '';
    console.log(`- one Redis: ${benchmark(['-p', port, '-t', 'set,get', '-n', '300000', '-P', '16'])}`);
    console.log(`- 3-master cluster: ${benchmark(['-p', clusterPort, '--cluster', '-t', 'set,get', '-n', '300000', '-P', '16'])}`);

    console.log('\n## Compare-and-set saves per second through the driver (64 writers, 5 s)\n');
    const single = createRedisStorage({ url: redis.url });
    const spread = createRedisClusterStorage({ nodes: cluster.nodes });
    console.log(`- one Redis: ${await savesPerSecond(single, 64, 5000)} saves/s`);
    console.log(`- 3-master cluster: ${await savesPerSecond(spread, 64, 5000)} saves/s`);
    await Promise.all([single.close(), spread.close()]);
  } finally {
    await redis.stop();
    await cluster.stop();
  }
  process.exit(0);
}

await main();
