/**
 * The built server as a child process (`node dist/src/main.js`) on 127.0.0.1: file storage,
 * then Redis (TEST_REDIS_URL), graceful shutdown on SIGTERM, and the start-up refusals.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateDocument } from '../../src/service/index.js';
import { describeWithRedis, testRedisUrl, uniqueId } from '../helpers/redis.js';
import { startServersPerTest, startServerProcess, waitForLogs, type ServerProcess } from '../helpers/server-process.js';

const start = startServersPerTest();

async function call<T>(server: ServerProcess, method: string, urlPath: string, body?: unknown): Promise<{ status: number; json: T }> {
  const response = await fetch(`${server.url}${urlPath}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as T };
}

/** The API flow every backend must pass. */
/** `changeTrips`: the storage calls the log counts for a change (the snapshot barrier is not one). */
async function exerciseApi(server: ServerProcess, id: string, changeTrips: number): Promise<void> {
  const created = await call<StateDocument>(server, 'GET', `/api/pet/${id}/state?lang=en`);
  expect(created.status).toBe(200);
  expect(created.json.device_id).toBe(id);

  const fed = await call<StateDocument>(server, 'POST', `/api/pet/${id}/interact`, { action: 'feed' });
  expect(fed.status).toBe(200);
  expect(fed.json.stats.feed).toBe(1);

  const caught = await call<StateDocument>(server, 'POST', `/api/pet/${id}/catchup`, { hours: 24 });
  expect(caught.json.catchup?.ticks).toBe(1440);

  const renamed = await call<StateDocument>(server, 'PATCH', `/api/pet/${id}`, { pet_name: 'Mochi', timezone: 'Asia/Tokyo' });
  expect(renamed.json).toMatchObject({ pet_name: 'Mochi', timezone: 'Asia/Tokyo' });

  const compat = await call<{ success: boolean; data: StateDocument }>(server, 'GET', `/api/pet/status?device_id=${id}`);
  expect(compat.json.success).toBe(true);
  expect(compat.json.data.pet_name).toBe('Mochi');

  const bad = await call<{ error: { code: string } }>(server, 'POST', `/api/pet/${id}/interact`, { action: 'dance' });
  expect(bad).toMatchObject({ status: 400, json: { error: { code: 'invalid_action' } } });

  const huge = await call<{ error: { code: string } }>(server, 'POST', `/api/pet/${id}/interact`, {
    action: 'feed',
    pad: 'x'.repeat(20_000),
  });
  expect(huge).toMatchObject({ status: 413, json: { error: { code: 'payload_too_large' } } });

  const forecast = await call<{ points: unknown[] }>(server, 'GET', `/api/pet/${id}/forecast?hours=2`);
  expect(forecast.json.points).toHaveLength(13);

  const docs = await fetch(`${server.url}/docs/assets/swagger-ui-bundle.js`);
  expect(docs.status).toBe(200);
  await docs.arrayBuffer();
  expect((await fetch(`${server.url}/ready`)).status).toBe(200);

  const lines = await waitForLogs(server, (line) => line['msg'] === 'request' && line['device'] === id, 6);
  expect(lines.length).toBeGreaterThanOrEqual(6); // a refused request logs no device
  const interact = lines.find((line) => line['route'] === '/api/pet/:device_id/interact' && line['status'] === 200);
  expect(interact).toMatchObject({ round_trips: changeTrips, duration_ms: expect.any(Number) });
}

describe('the server on file storage', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pet-life-e2e-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serves the API, logs its backend, and keeps pets across restarts', async () => {
    const server = await start({ DATA_DIR: dataDir });
    expect(server.logs.find((line) => String(line['msg']).startsWith('Using FileStorage'))?.['msg']).toBe(`Using FileStorage (${dataDir})`);
    await exerciseApi(server, 'file-pet', 2); // the counted load, the save
    expect(readdirSync(dataDir)).toContain('file-pet');
    await server.stop();

    const again = await start({ DATA_DIR: dataDir });
    const doc = await call<StateDocument>(again, 'GET', '/api/pet/file-pet/state');
    expect(doc.json).toMatchObject({ pet_name: 'Mochi', timezone: 'Asia/Tokyo', stats: { feed: 1, play: 0, greet: 0 } });
  });

  it('shuts down gracefully on SIGTERM: refuses new connections, finishes requests in flight, exits 0', async () => {
    // Six ten-year catch-ups weigh 6 × 88 units, past the default per-client limit (issue #10).
    const server = await start({ DATA_DIR: dataDir, RATE_LIMIT_PER_CLIENT: '0' });
    // Ten simulated years take ~0.1 s of CPU each: these are still running when SIGTERM lands.
    const ids = Array.from({ length: 6 }, (_, i) => `slow-${i}`);
    const inFlight = ids.map((id) =>
      fetch(`${server.url}/api/pet/${id}/catchup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ hours: 87_600 }),
      }).then(async (response) => ({ status: response.status, body: (await response.json()) as StateDocument })),
    );
    // When the first answer is back, the server has read the other requests (it reads its sockets
    // between two catch-ups) and still has ~0.5 s of work: now they are in flight.
    await Promise.race(inFlight);
    server.child.kill('SIGTERM');
    await waitForLogs(server, (line) => String(line['msg']).startsWith('shutting down'));
    const late = await fetch(`${server.url}/health`).then(
      (response) => response.status,
      () => 'refused',
    );
    const results = await Promise.all(inFlight);
    expect(results.map((result) => result.status)).toEqual(ids.map(() => 200));
    expect(results.every((result) => result.body.catchup?.ticks === 87_600 * 60)).toBe(true);
    const exit = await server.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(late).toBe('refused');
    expect(server.logs.some((line) => line['msg'] === 'shutdown complete')).toBe(true);

    // Every acknowledged catch-up was saved.
    const again = await start({ DATA_DIR: dataDir, TIME_SCALE: '0' });
    for (let i = 0; i < ids.length; i += 1) {
      const doc = await call<StateDocument>(again, 'GET', `/api/pet/${ids[i]}/state`);
      expect(doc.json.pet_time).toBe(results[i]?.body.pet_time);
    }
  });

  it('refuses to start with a bad configuration, naming the variable', async () => {
    await expect(startServerProcess({ env: { DATA_DIR: dataDir, TIME_SCALE: '-2', PET_TZ: 'Nowhere' } })).rejects.toThrow(
      /TIME_SCALE[\s\S]*PET_TZ|PET_TZ[\s\S]*TIME_SCALE/,
    );
  });

  it('refuses to start on Vercel with nothing durable configured', async () => {
    await expect(startServerProcess({ env: { VERCEL: '1' } })).rejects.toThrow(/REDIS_URL/);
  });

  it('answers 503 (never a silent switch to files) when the configured Redis is down', async () => {
    const server = await start({ REDIS_URL: 'redis://127.0.0.1:1', DATA_DIR: dataDir });
    expect(server.logs.some((line) => line['msg'] === 'Using RedisStorage (redis://127.0.0.1:1)')).toBe(true);
    const state = await call<{ error: { code: string } }>(server, 'GET', '/api/pet/nowhere/state');
    expect(state).toMatchObject({ status: 503, json: { error: { code: 'storage_unavailable' } } });
    expect((await fetch(`${server.url}/ready`)).status).toBe(503);
    expect(readdirSync(dataDir)).not.toContain('nowhere');
  });
});

// Both ways a server runs on Redis TCP (§11): snapshots on (the default) and SNAPSHOTS=off.
for (const snapshots of ['on', 'off'] as const) {
  describeWithRedis(`the server on Redis (SNAPSHOTS=${snapshots})`, () => {
    const url = testRedisUrl ?? '';
    const client = createClient({ url });
    beforeAll(async () => {
      await client.connect();
    });
    afterAll(async () => {
      await client.quit();
    });

    it('serves the API with keys under life_<id>: and logs the backend', async () => {
      const server = await start({ REDIS_URL: url, SNAPSHOTS: snapshots });
      expect(server.logs.some((line) => line['msg'] === `Using RedisStorage (${url})`)).toBe(true);
      const id = uniqueId('e2e');
      // With snapshots the pet is held: the counted compare-and-set alone (docs/design.md §11).
      await exerciseApi(server, id, snapshots === 'on' ? 1 : 2);
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `life_${id}:*`, COUNT: 100 })) keys.push(...batch);
      // The systems, the meta and the event log (issue #12), all under life_<id>:.
      expect(keys.sort()).toEqual(['energy', 'events', 'meta', 'mood', 'rhythm', 'satiety', 'stats'].map((name) => `life_${id}:${name}`));
      const meta = JSON.parse((await client.get(`life_${id}:meta`)) ?? '{}') as Record<string, unknown>;
      expect(meta).toMatchObject({ pet_name: 'Mochi', timezone: 'Asia/Tokyo', world_ms: expect.any(Number), wall_ms: expect.any(Number) });
    });

    it('loses no interaction under 64 concurrent clients on one pet', async () => {
      const server = await start({ REDIS_URL: url, SNAPSHOTS: snapshots });
      const id = uniqueId('crowd');
      await call(server, 'GET', `/api/pet/${id}/state`);
      const statuses = await Promise.all(
        Array.from({ length: 64 }, (_, i) =>
          fetch(`${server.url}/api/pet/${id}/interact`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ action: (['feed', 'play', 'greet'] as const)[i % 3] }),
          }).then(async (response) => {
            await response.arrayBuffer();
            return response.status;
          }),
        ),
      );
      expect(statuses.filter((status) => status === 200)).toHaveLength(64);
      const doc = await call<StateDocument>(server, 'GET', `/api/pet/${id}/state`);
      expect(doc.json.stats).toEqual({ feed: 22, play: 21, greet: 21 });
    });

    it('shuts down gracefully on SIGTERM and closes its Redis connection', async () => {
      const server = await start({ REDIS_URL: url, SNAPSHOTS: snapshots });
      await call(server, 'POST', `/api/pet/${uniqueId('bye')}/interact`, { action: 'greet' });
      const exit = await server.stop('SIGTERM');
      expect(exit).toEqual({ code: 0, signal: null });
      expect(server.logs.some((line) => line['msg'] === 'shutdown complete')).toBe(true);
    });
  });
}
