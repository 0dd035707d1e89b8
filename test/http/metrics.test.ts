/**
 * docs/operations.md, "Metrics": GET /metrics (Prometheus text, one registry per app), its METRICS_TOKEN rule,
 * and Server-Timing on API answers. After known traffic the counters and the histogram counts
 * equal the requests made, with the expected labels.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryStorage, type SaveResult, type StorageDriver } from '../../src/storage/index.js';
import { clockedStorage, createTestApp, jsonRequest, type ErrorJson, readJson, type TestApp } from './support.js';

/** The value of one sample (`name{labels} value`), labels in any order; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.keys(found).length !== Object.keys(labels).length) continue;
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

async function scrape(app: TestApp['app'], headers: Record<string, string> = {}): Promise<string> {
  const response = await app.request('/metrics', { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

const STATE = '/api/pet/:device_id/state';
const INTERACT = '/api/pet/:device_id/interact';
const feed = (headers: Record<string, string> = {}) => jsonRequest('POST', { action: 'feed' }, headers);
const SERVER_TIMING = /^storage;dur=\d+(\.\d+)?, engine;dur=\d+(\.\d+)?, total;dur=\d+(\.\d+)?$/;

describe('GET /metrics after known traffic', () => {
  it('counts requests by route pattern, method and status; 429s; replays; storage round trips; events; the read cache', async () => {
    const { clock, storage } = clockedStorage();
    // Six requests to the pet pass; the seventh is refused.
    const app = createTestApp({ storage, clock, env: { RATE_LIMIT_PER_PET: '6', RATE_LIMIT_PER_CLIENT: '0' } });
    const states: number[] = [];
    for (let i = 0; i < 3; i += 1) states.push((await app.app.request('/api/pet/m1/state')).status);
    const first = await app.app.request('/api/pet/m1/interact', feed({ 'Idempotency-Key': 'k1' }));
    const second = await app.app.request('/api/pet/m1/interact', feed());
    const replay = await app.app.request('/api/pet/m1/interact', feed({ 'Idempotency-Key': 'k1' }));
    const limited = await app.app.request('/api/pet/m1/state');
    expect(states).toEqual([200, 200, 200]);
    expect([first.status, second.status, replay.status, limited.status]).toEqual([200, 200, 200, 429]);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await app.app.request('/no/such/page')).status).toBe(404);

    const text = await scrape(app.app);
    const count = (route: string, method: string, status: string) =>
      sample(text, 'http_request_duration_seconds_count', { route, method, status });
    expect(count(STATE, 'GET', '200')).toBe(3);
    expect(count(STATE, 'GET', '429')).toBe(1);
    expect(count(INTERACT, 'POST', '200')).toBe(3);
    expect(count('unmatched', 'GET', '404')).toBe(1);
    // Nothing else was requested (this scrape is counted when it ends).
    const counted = [...text.matchAll(/^http_request_duration_seconds_count\{.*\} (\d+)$/gm)].map((m) => Number(m[1]));
    expect(counted.reduce((a, b) => a + b, 0)).toBe(8);
    expect(sample(text, 'http_request_duration_seconds_bucket', { route: STATE, method: 'GET', status: '200', le: '+Inf' })).toBe(3);

    expect(sample(text, 'pet_life_rate_limited_total')).toBe(1);
    expect(sample(text, 'pet_life_idempotent_replays_total')).toBe(1);

    // Every request loads (with its rate-limit counters) in one round trip; the pet's creation and the two feeds save.
    const backend = { backend: 'MemoryStorage' };
    expect(sample(text, 'pet_life_storage_round_trips_total', { ...backend, operation: 'loadCounted' })).toBe(7);
    expect(sample(text, 'pet_life_storage_round_trips_total', { ...backend, operation: 'save' })).toBe(3);
    expect(sample(text, 'pet_life_storage_duration_seconds_count', { ...backend, operation: 'loadCounted' })).toBe(7);
    expect(sample(text, 'pet_life_storage_duration_seconds_count', { ...backend, operation: 'save' })).toBe(3);
    const trips = [...text.matchAll(/^pet_life_storage_round_trips_total\{.*\} (\d+)$/gm)].map((m) => Number(m[1]));
    // The decorator keeps the driver's own count right: both agree.
    expect(trips.reduce((a, b) => a + b, 0)).toBe(app.storage.roundTrips());
    expect(sample(text, 'pet_life_storage_errors_total', { ...backend, operation: 'load' })).toBeUndefined();

    expect(sample(text, 'pet_life_events_written_total')).toBe(2);
    expect(sample(text, 'pet_life_cas_conflicts_total')).toBe(0);
    expect(sample(text, 'pet_life_cas_retries_total')).toBe(0);
    // The first read created the pet (not cacheable); the second missed and filled the cache; the third hit.
    expect(sample(text, 'pet_life_read_cache_total', { result: 'miss' })).toBe(1);
    expect(sample(text, 'pet_life_read_cache_total', { result: 'hit' })).toBe(1);

    // Process default metrics (shared by the apps of the process).
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThanOrEqual(0);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d+/m);

    // The scrape itself is counted by the next one.
    expect(sample(await scrape(app.app), 'http_request_duration_seconds_count', { route: '/metrics', method: 'GET', status: '200' })).toBe(
      1,
    );
  });

  it('keeps one registry per app: two apps in one process count apart', async () => {
    const one = createTestApp();
    const two = createTestApp();
    await one.app.request('/api/pet/a/state');
    await one.app.request('/api/pet/a/state');
    await two.app.request('/api/pet/b/state');
    const countOf = async (app: TestApp) =>
      sample(await scrape(app.app), 'http_request_duration_seconds_count', { route: STATE, method: 'GET', status: '200' });
    expect(await countOf(one)).toBe(2);
    expect(await countOf(two)).toBe(1);
    // The process metrics appear once in each.
    const text = await scrape(one.app);
    expect(text.match(/^# TYPE process_cpu_user_seconds_total /gm)).toHaveLength(1);
  });

  it('counts compare-and-set conflicts and the retries that follow them', async () => {
    const memory = createMemoryStorage();
    let conflictsLeft = 2;
    const flaky: StorageDriver = {
      ...memory,
      save: async (petId, request): Promise<SaveResult> => {
        if (conflictsLeft > 0) {
          conflictsLeft -= 1;
          return { ok: false, version: 0 };
        }
        return memory.save(petId, request);
      },
    };
    const app = createTestApp({ storage: flaky });
    expect((await app.app.request('/api/pet/c1/interact', feed())).status).toBe(200);
    const text = await scrape(app.app);
    expect(sample(text, 'pet_life_cas_conflicts_total')).toBe(2);
    expect(sample(text, 'pet_life_cas_retries_total')).toBe(2);
    expect(sample(text, 'pet_life_storage_round_trips_total', { backend: 'MemoryStorage', operation: 'save' })).toBe(3);

    // A pet that always conflicts: every attempt conflicts, all but the last are retried.
    const stuck: StorageDriver = { ...memory, save: async () => ({ ok: false, version: 99 }) };
    const stuckApp = createTestApp({ storage: stuck });
    expect((await stuckApp.app.request('/api/pet/c2/interact', feed())).status).toBe(503);
    const stuckText = await scrape(stuckApp.app);
    expect(sample(stuckText, 'pet_life_cas_conflicts_total')).toBe(20);
    expect(sample(stuckText, 'pet_life_cas_retries_total')).toBe(19);
  });

  it('counts storage errors by operation', async () => {
    const memory = createMemoryStorage();
    const down: StorageDriver = {
      ...memory,
      load: async () => {
        throw new Error('connection refused');
      },
    };
    const app = createTestApp({ storage: down });
    expect((await app.app.request('/api/pet/d1/state')).status).toBe(500);
    const text = await scrape(app.app);
    expect(sample(text, 'pet_life_storage_errors_total', { backend: 'MemoryStorage', operation: 'load' })).toBe(1);
    expect(sample(text, 'pet_life_storage_round_trips_total', { backend: 'MemoryStorage', operation: 'load' })).toBe(1);
  });

  it('counts open event subscribers and the events delivered to them', async () => {
    const app = createTestApp();
    await app.app.request('/api/pet/e1/interact', feed());
    // Replays the one event logged so far, then stays open.
    const stream = await app.app.request('/api/pet/e1/events?after=0-0');
    expect(stream.status).toBe(200);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let seen = '';
    while (!seen.includes('event: interacted')) seen += decoder.decode((await reader.read()).value, { stream: true });
    let text = await scrape(app.app);
    expect(sample(text, 'pet_life_event_subscribers')).toBe(1);
    expect(sample(text, 'pet_life_event_subscribed_pets')).toBe(1);
    expect(sample(text, 'pet_life_events_delivered_total')).toBe(1);
    expect(sample(text, 'pet_life_events_written_total')).toBe(1);
    await reader.cancel();
    text = await scrape(app.app);
    expect(sample(text, 'pet_life_event_subscribers')).toBe(0);
    expect(sample(text, 'pet_life_events_delivered_total')).toBe(1);
  });
});

describe('process metrics, started by the first scrape', () => {
  it('count CPU since the process started, not since that scrape', async () => {
    const { app } = createTestApp();
    const spent = process.cpuUsage();
    const text = await scrape(app);
    // Less one microsecond (cpuUsage's unit): the total is prom-client's count plus what it missed,
    // a float sum that may round one ulp below the microseconds it stands for.
    const atLeast = (micros: number) => micros / 1e6 - 1e-6;
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThanOrEqual(atLeast(spent.user));
    expect(sample(text, 'process_cpu_system_seconds_total')).toBeGreaterThanOrEqual(atLeast(spent.system));
    expect(sample(text, 'process_cpu_seconds_total')).toBeGreaterThanOrEqual(atLeast(spent.user + spent.system));
  });

  it('counts a request with the duration the request frame measured, in the right bucket', async () => {
    const { app } = createTestApp();
    await app.request('/api/pet/b1/state');
    const text = await scrape(app);
    const labels = { route: STATE, method: 'GET', status: '200' };
    const sum = sample(text, 'http_request_duration_seconds_sum', labels) ?? Number.NaN;
    expect(sum).toBeGreaterThan(0);
    // The series' buckets are cumulative and jump from 0 to 1 at the first bound ≥ the duration.
    const bounds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    for (const bound of bounds) {
      expect(sample(text, 'http_request_duration_seconds_bucket', { ...labels, le: String(bound) }), String(bound)).toBe(
        sum <= bound ? 1 : 0,
      );
    }
  });
});

describe('METRICS_TOKEN', () => {
  const TOKEN = 'metrics-token-0123456789';

  it('needs Authorization: Bearer <token> when set: 401 without, 403 with another, 200 with it', async () => {
    const { app } = createTestApp({ env: { METRICS_TOKEN: TOKEN } });
    const missing = await app.request('/metrics');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await readJson<ErrorJson>(missing)).error.code).toBe('unauthorized');
    const wrong = await app.request('/metrics', { headers: { Authorization: 'Bearer metrics-token-0123456780' } });
    expect(wrong.status).toBe(403);
    expect((await readJson<ErrorJson>(wrong)).error.code).toBe('forbidden');
    const short = await app.request('/metrics', { headers: { Authorization: 'Bearer x' } });
    expect(short.status).toBe(403);
    const text = await scrape(app, { Authorization: `Bearer ${TOKEN}` });
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    // The refusals are requests too.
    expect(sample(text, 'http_request_duration_seconds_count', { route: '/metrics', method: 'GET', status: '401' })).toBe(1);
    expect(sample(text, 'http_request_duration_seconds_count', { route: '/metrics', method: 'GET', status: '403' })).toBe(2);
  });

  it('leaves /metrics open when unset', async () => {
    const { app } = createTestApp();
    expect((await app.request('/metrics')).status).toBe(200);
  });
});

describe('Server-Timing', () => {
  it('says storage, engine and total on pet routes, compatibility routes and API errors', async () => {
    const { app } = createTestApp();
    for (const response of [
      await app.request('/api/pet/t1/state'),
      await app.request('/api/pet/t1/interact', feed()),
      await app.request('/api/pet/status?device_id=t1'),
      await app.request('/api/pet/t1/interact', jsonRequest('POST', { action: 'juggle' })),
    ]) {
      expect(response.headers.get('server-timing')).toMatch(SERVER_TIMING);
    }
    const timing = (await app.request('/api/pet/t1/state')).headers.get('server-timing') ?? '';
    const [storage, engine, total] = [...timing.matchAll(/dur=([\d.]+)/g)].map((m) => Number(m[1]));
    expect(storage).toBeGreaterThan(0);
    expect((storage ?? 0) + (engine ?? 0)).toBeLessThanOrEqual((total ?? 0) + 0.001);
  });

  it('is not on answers outside the API', async () => {
    const { app } = createTestApp();
    expect((await app.request('/health')).headers.get('server-timing')).toBeNull();
  });
});

describe('/metrics in the OpenAPI document', () => {
  it('is documented under system, with its 401 and 403', async () => {
    const { app } = createTestApp();
    const doc = await readJson<{ paths: Record<string, { get?: { tags: string[]; responses: Record<string, unknown> } }> }>(
      await app.request('/openapi.json'),
    );
    const metrics = doc.paths['/metrics']?.get;
    expect(metrics?.tags).toEqual(['system']);
    expect(Object.keys(metrics?.responses ?? {}).sort()).toEqual(['200', '401', '403']);
  });
});
