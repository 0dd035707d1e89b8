/**
 * The Node server's shortest path (src/http/warm-state.ts, docs/design.md §15): a warm GET state
 * answered before the app answers what the app itself answers — status, body, every header but
 * those that differ on every request — over a real socket, and hands every other request (and
 * every one the warm read declines) to the app.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { warmFirst, warmStateOf } from '../../src/http/index.js';
import { createManualClock } from '../../src/service/index.js';
import type { StorageDriver } from '../../src/storage/index.js';
import { createRedisStorage } from '../../src/storage/redis.js';
import { describeWithRedis, uniqueId } from '../helpers/redis.js';
import { startRedisServer, type RedisProcess } from '../helpers/redis-process.js';
import { createTestApp, jsonRequest, T0, type TestApp } from './support.js';

/** Headers that differ between any two requests. */
const VARYING = new Set(['x-request-id', 'server-timing', 'date']);

describeWithRedis('the warm GET state before the app, over a socket', () => {
  let redis: RedisProcess;
  let driver: StorageDriver;
  let test: TestApp<StorageDriver>;
  /** The app alone, and the app behind the warm path (as src/main.ts serves it). */
  const servers: Server[] = [];
  let plain: string;
  let fast: string;
  let appCalls = 0;

  const listen = async (server: Server): Promise<string> => {
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  beforeAll(async () => {
    redis = await startRedisServer();
    driver = createRedisStorage({ url: redis.url, snapshotBytes: 1 << 22 });
    test = createTestApp({ storage: driver, clock: createManualClock(T0 + 30_000), env: { CORS_ORIGINS: 'https://app.example' } });
    const app = getRequestListener(test.app.fetch);
    plain = await listen(createServer(app));
    fast = await listen(
      createServer(
        warmFirst(warmStateOf(test.app), (req, res) => {
          appCalls += 1;
          return app(req, res);
        }),
      ),
    );
  });
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await driver?.close();
    await redis?.stop();
  });

  const read = async (base: string, path: string, headers: Record<string, string> = {}) => {
    const before = appCalls;
    const response = await fetch(`${base}${path}`, { headers });
    const kept = [...response.headers].filter(([name]) => !VARYING.has(name));
    return {
      status: response.status,
      text: await response.text(),
      headers: kept,
      byApp: appCalls - before,
      id: response.headers.get('x-request-id'),
      timing: response.headers.get('server-timing'),
    };
  };
  const same = (a: Awaited<ReturnType<typeof read>>) => ({ status: a.status, text: a.text, headers: a.headers });

  it('answers what the app answers, before it: 200, 304, CORS, a client request id, Accept-Language', async () => {
    const id = uniqueId('warm');
    const path = `/api/pet/${id}/state`;
    const variants: Array<[string, Record<string, string>]> = [
      [path, {}],
      [`${path}?lang=en`, {}],
      [path, { 'Accept-Language': 'en-GB;q=0.8, fr' }],
      [path, { Origin: 'https://app.example', 'X-Request-Id': 'client-id-1' }],
      [path, { Origin: 'https://elsewhere.example' }],
    ];
    await read(plain, path); // creates the pet
    for (const [variant, headers] of variants) {
      await read(plain, variant, headers); // caches the answer (a read from the snapshot)
      const normal = await read(plain, variant, headers);
      const warm = await read(fast, variant, headers);
      expect(warm.byApp).toBe(0);
      expect(same(warm)).toEqual(same(normal));
      expect(warm.headers.map(([name]) => name)).toEqual(expect.arrayContaining(['etag', 'content-length', 'x-frame-options']));
      expect(warm.timing).toMatch(/^storage;dur=0, engine;dur=[\d.]+, total;dur=[\d.]+$/);
      if (headers['X-Request-Id'] !== undefined) expect(warm.id).toBe(headers['X-Request-Id']);
      const etag = new Map(warm.headers).get('etag') as string;
      const notModified = await read(plain, variant, { ...headers, 'If-None-Match': etag });
      const revalidated = await read(fast, variant, { ...headers, 'If-None-Match': etag });
      expect([revalidated.status, revalidated.text, revalidated.byApp]).toEqual([304, '', 0]);
      expect(same(revalidated)).toEqual(same(notModified));
    }
    // The log line of a warm answer is the app's.
    const line = test.logs.filter((entry) => entry['msg'] === 'request').at(-1);
    expect(line).toMatchObject({ method: 'GET', path, route: '/api/pet/:device_id/state', device: id, status: 304, round_trips: 0 });
  });

  it('hands everything else to the app: another query, a changed pet, a HEAD, an unknown pet, a bad id', async () => {
    const id = uniqueId('other');
    const path = `/api/pet/${id}/state`;
    await read(fast, path);
    await read(fast, path);
    expect((await read(fast, path)).byApp).toBe(0);
    // Any other query (here a valid one) is the app's, and answers the same document.
    const other = await read(fast, `${path}?lang=zh&timezone=UTC`);
    expect([other.status, other.byApp]).toEqual([200, 1]);
    expect(other.text).toBe((await read(fast, path)).text);
    expect((await read(fast, `${path}?lang=xx`)).status).toBe(400);
    const changed = await fetch(`${fast}/api/pet/${id}/interact`, jsonRequest('POST', { action: 'feed' }));
    expect(changed.status).toBe(200);
    await changed.text();
    const seen = await read(fast, path);
    expect(seen.byApp).toBe(1);
    expect((JSON.parse(seen.text) as { stats: { feed: number } }).stats.feed).toBe(1);
    const head = await fetch(`${fast}${path}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect((await read(fast, '/api/pet/bad.id/state')).status).toBe(400);
    const newborn = await read(fast, `/api/pet/${uniqueId('new')}/state`);
    expect([newborn.status, newborn.byApp]).toEqual([200, 1]);
  });
});
