/**
 * State written by the original Python server (test/fixtures/python-server-state.json: systems
 * without meta, Unix seconds) loads through the API unchanged, then lives on under our meta.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '@redis/client';
import type { StateDocument } from '../../src/service/index.js';
import { createMemoryStorage, type StorageDriver } from '../../src/storage/index.js';
import { createRedisStorage } from '../../src/storage/redis.js';
import { describeWithRedis, testRedisUrl, uniqueId } from '../helpers/redis.js';
import { createTestApp, HOUR, readJson } from './support.js';

interface Fixture {
  device_id: string;
  written_at_ms: number;
  keys: Record<string, Record<string, number>>;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/python-server-state.json', import.meta.url), 'utf8')) as Fixture;
const rhythm = fixture.keys[`life_${fixture.device_id}:rhythm`] ?? {};
const energy = fixture.keys[`life_${fixture.device_id}:energy`] ?? {};

/** The fixture's keys renamed for pet `id`. */
function keysFor(id: string): Array<[string, string]> {
  return Object.entries(fixture.keys).map(([key, value]) => [
    key.replace(`life_${fixture.device_id}:`, `life_${id}:`),
    JSON.stringify(value),
  ]);
}

async function checkLoadsUnchanged(storage: StorageDriver, id: string): Promise<void> {
  // TIME_SCALE=0 and a clock at the fixture's own instant: nothing may move.
  const { app } = createTestApp({ storage, env: { TIME_SCALE: '0' }, startMs: fixture.written_at_ms });
  const response = await app.request(`/api/pet/${id}/state`);
  expect(response.status).toBe(200);
  const doc = await readJson<StateDocument>(response);
  expect(doc.device_id).toBe(id);
  expect(doc.pet_name).toBe('小糖');
  expect(doc.internal_state.rhythm.internal_phase).toBeCloseTo(rhythm['internal_phase'] ?? NaN, 9);
  expect(doc.internal_state.energy.energy).toBeCloseTo(energy['energy'] ?? NaN, 6);
  expect(doc.stats).toEqual({ feed: 0, play: 0, greet: 0 });
  expect(doc.pet_time.slice(0, 16)).toBe('2025-11-02T16:18');
}

describe('state left by the Python server', () => {
  it('loads through the API unchanged (memory storage)', async () => {
    const storage = createMemoryStorage();
    for (const [key, value] of keysFor('device_001')) storage.rawSet(key, value);
    await checkLoadsUnchanged(storage, 'device_001');
  });

  it('lives on from where the Python server left it, and gains a meta key', async () => {
    const storage = createMemoryStorage();
    for (const [key, value] of keysFor('device_001')) storage.rawSet(key, value);
    const { app } = createTestApp({ storage, startMs: fixture.written_at_ms + 30 * HOUR });
    const doc = await readJson<StateDocument>(await app.request('/api/pet/device_001/state?lang=en'));
    expect(doc.away?.ticks).toBeGreaterThanOrEqual(30 * 60 - 1);
    expect(doc.away?.ticks).toBeLessThanOrEqual(30 * 60);
    expect(doc.version).toBe(1);
    expect(storage.keys()).toContain('life_device_001:meta');
    expect(JSON.parse(storage.rawGet('life_device_001:meta') ?? '{}')).toMatchObject({ version: 1, pet_name: '小糖', timezone: 'UTC' });
  });
});

describeWithRedis('state left by the Python server, in Redis', () => {
  const url = testRedisUrl ?? '';
  const client = createClient({ url });
  // Built at collection even when skipped: a placeholder URL then (nothing connects until used).
  const storage = createRedisStorage({ url: url || 'redis://127.0.0.1:6379' });
  const withSnapshots = createRedisStorage({ url: url || 'redis://127.0.0.1:6379', snapshotBytes: 1 << 20 });
  afterAll(async () => {
    await storage.close();
    await withSnapshots.close();
    if (client.isOpen) await client.quit();
  });

  it('loads through the API unchanged from the keys the Python server wrote', async () => {
    const id = uniqueId('py');
    await client.connect();
    for (const [key, value] of keysFor(id)) await client.set(key, value);
    await checkLoadsUnchanged(storage, id);
    await client.del(keysFor(id).map(([key]) => key));
  });

  it('and so with snapshots on (§11)', async () => {
    const id = uniqueId('py-snap');
    if (!client.isOpen) await client.connect();
    for (const [key, value] of keysFor(id)) await client.set(key, value);
    await checkLoadsUnchanged(withSnapshots, id);
    await client.del(keysFor(id).map(([key]) => key));
  });
});
