/**
 * Round trips of the request path counted at the socket (a counting TCP proxy in front of the
 * test Redis; DESIGN §15), with the default configuration: rate limits on, snapshots on.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp } from '../../src/http/index.js';
import { loadConfig } from '../../src/config.js';
import { createSilentLogger } from '../../src/log.js';
import { createManualClock } from '../../src/service/index.js';
import { DEFAULT_SNAPSHOT_BYTES, type StorageDriver } from '../../src/storage/index.js';
import { createRedisStorage } from '../../src/storage/redis.js';
import { startCountingProxy, type CountingProxy } from '../helpers/counting-proxy.js';
import { describeWithRedis, testRedisUrl, uniqueId } from '../helpers/redis.js';
import { jsonRequest, T0 } from './support.js';

describeWithRedis('round trips at the socket, default limits and snapshots', () => {
  let proxy: CountingProxy;
  let storage: StorageDriver;
  let app: ReturnType<typeof createApp>;
  const pet = uniqueId('trips');

  beforeAll(async () => {
    proxy = await startCountingProxy(testRedisUrl as string);
    storage = createRedisStorage({ url: proxy.url, snapshotBytes: DEFAULT_SNAPSHOT_BYTES });
    const config = loadConfig({ STORAGE: 'redis', REDIS_URL: proxy.url });
    expect(config.rateLimits.perPet).toBeGreaterThan(0);
    // A clock that stands still: no simulated minute passes between the requests.
    app = createApp({ config, storage, clock: createManualClock(T0), log: createSilentLogger() });
    expect((await app.request(`/api/pet/${pet}/state`)).status).toBe(200); // creates the pet
    expect((await app.request(`/api/pet/${pet}/state`)).status).toBe(200); // now held in a snapshot
    // A first change, so that every script is known to the server (a script's first call costs a NOSCRIPT).
    expect((await app.request(`/api/pet/${pet}/interact`, jsonRequest('POST', { action: 'play' }))).status).toBe(200);
  });
  afterAll(async () => {
    await storage.remove(pet);
    await storage.close();
    await proxy.close();
  });

  it('a read of a held pet: 1 (the counters; the pet comes from the snapshot)', async () => {
    proxy.reset();
    expect((await app.request(`/api/pet/${pet}/state`)).status).toBe(200);
    expect(proxy.roundTrips()).toBe(1);
  });

  it('a revalidated read (304) costs what the read costs', async () => {
    const etag = (await app.request(`/api/pet/${pet}/state`)).headers.get('etag') as string;
    proxy.reset();
    const response = await app.request(`/api/pet/${pet}/state`, { headers: { 'If-None-Match': etag } });
    expect(response.status).toBe(304);
    expect(proxy.roundTrips()).toBe(1);
  });

  it('a change of a held pet: 2 (the compare-and-set with the counters in it, the snapshot barrier; docs/benchmarks.md)', async () => {
    proxy.reset();
    expect((await app.request(`/api/pet/${pet}/interact`, jsonRequest('POST', { action: 'feed' }))).status).toBe(200);
    expect(proxy.roundTrips()).toBe(2);
  });
});
