import { describe, expect, it } from 'vitest';
import { StorageUnavailableError } from '../../src/errors.js';
import type { StateDocument } from '../../src/service/index.js';
import { createMemoryStorage } from '../../src/storage/index.js';
import { createTestApp, jsonRequest, readJson, T0, type CompatJson } from './support.js';

const TIMESTAMP = new Date(T0).toISOString();

describe("the original server's routes", () => {
  it('GET /api/pet/status answers the state in the envelope', async () => {
    const { app } = createTestApp();
    const response = await app.request('/api/pet/status?device_id=test-iphone-123');
    expect(response.status).toBe(200);
    const body = await readJson<CompatJson<StateDocument>>(response);
    expect(body).toMatchObject({ success: true, timestamp: TIMESTAMP });
    expect(body.data.device_id).toBe('test-iphone-123');
    expect(body.data.pet_name).toBe('小糖');
    expect(body.data.expression.feeling.length).toBeGreaterThan(0);
  });

  it('POST /api/pet/interact applies the action and echoes it', async () => {
    const { app } = createTestApp();
    const response = await app.request('/api/pet/interact', jsonRequest('POST', { device_id: 'd1', action: 'greet', user_id: 'u1' }));
    expect(response.status).toBe(200);
    const body = await readJson<CompatJson<StateDocument>>(response);
    expect(body).toMatchObject({ success: true, action: 'greet', timestamp: TIMESTAMP });
    expect(body.data.stats.greet).toBe(1);
  });

  it('POST /api/pet/feed feeds (food_type accepted and ignored)', async () => {
    const { app } = createTestApp();
    const response = await app.request('/api/pet/feed', jsonRequest('POST', { device_id: 'd1', food_type: 'normal' }));
    expect(response.status).toBe(200);
    const body = await readJson<CompatJson<StateDocument>>(response);
    expect(body).toMatchObject({ success: true, action: 'feed' });
    expect(body.data.stats.feed).toBe(1);
  });

  it('POST /api/pet/catchup takes its arguments from the query, 24 h by default, in real hours', async () => {
    const { app } = createTestApp();
    const byDefault = await readJson<CompatJson<StateDocument>>(await app.request('/api/pet/catchup?device_id=d1', { method: 'POST' }));
    expect(byDefault).toMatchObject({ success: true, action: 'catchup', hours: 24 });
    expect(byDefault.data.catchup?.ticks).toBe(1440);
    const two = await readJson<CompatJson<StateDocument>>(await app.request('/api/pet/catchup?device_id=d1&hours=2', { method: 'POST' }));
    expect(two.hours).toBe(2);
    expect(two.data.catchup?.ticks).toBe(120);
  });

  it('POST /api/debug/reset resets and says so', async () => {
    const { app } = createTestApp();
    await app.request('/api/pet/feed', jsonRequest('POST', { device_id: 'd1' }));
    const response = await app.request('/api/debug/reset?device_id=d1', { method: 'POST' });
    expect(response.status).toBe(200);
    const body = await readJson<CompatJson<StateDocument>>(response);
    expect(body).toMatchObject({ success: true, message: 'Pet d1 reset' });
    expect(body.data.stats.feed).toBe(0);
  });

  it('shares pets with the new routes', async () => {
    const { app } = createTestApp();
    await app.request('/api/pet/feed', jsonRequest('POST', { device_id: 'shared' }));
    const doc = await readJson<StateDocument>(await app.request('/api/pet/shared/state'));
    expect(doc.stats.feed).toBe(1);
  });

  it.each([
    ['missing device_id', '/api/pet/status', undefined, 400, 'invalid_device_id'],
    ['empty device_id', '/api/pet/status?device_id=', undefined, 400, 'invalid_device_id'],
    ['bad device_id', '/api/pet/status?device_id=a/b', undefined, 400, 'invalid_device_id'],
    ['unknown action', '/api/pet/interact', jsonRequest('POST', { device_id: 'd', action: 'dance' }), 400, 'invalid_action'],
    ['missing action', '/api/pet/interact', jsonRequest('POST', { device_id: 'd' }), 400, 'invalid_action'],
    ['feed without device', '/api/pet/feed', jsonRequest('POST', { food_type: 'normal' }), 400, 'invalid_device_id'],
    [
      'feed as text',
      '/api/pet/feed',
      { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' },
      415,
      'unsupported_media_type',
    ],
    ['hours of 0', '/api/pet/catchup?device_id=d&hours=0', { method: 'POST' }, 400, 'invalid_query'],
    ['hours not a number', '/api/pet/catchup?device_id=d&hours=lots', { method: 'POST' }, 400, 'invalid_query'],
    // Decimal only (issue #5): Number() would read these as 16, 2, 8, Infinity.
    ['hours in hex', '/api/pet/catchup?device_id=d&hours=0x10', { method: 'POST' }, 400, 'invalid_query'],
    ['hours in binary', '/api/pet/catchup?device_id=d&hours=0b10', { method: 'POST' }, 400, 'invalid_query'],
    ['hours in octal', '/api/pet/catchup?device_id=d&hours=0o10', { method: 'POST' }, 400, 'invalid_query'],
    ['hours of Infinity', '/api/pet/catchup?device_id=d&hours=Infinity', { method: 'POST' }, 400, 'invalid_query'],
    ['reset without device', '/api/debug/reset', { method: 'POST' }, 400, 'invalid_device_id'],
    [
      'body over the limit',
      '/api/pet/interact',
      jsonRequest('POST', { device_id: 'd', action: 'feed', pad: 'x'.repeat(20_000) }),
      413,
      'payload_too_large',
    ],
  ] as const)('wraps errors in the envelope: %s', async (_name, path, init, status, code) => {
    const { app } = createTestApp();
    const response = await app.request(path, init);
    expect(response.status).toBe(status);
    const body = await readJson<CompatJson<unknown>>(response);
    expect(body).toEqual({ success: false, error: { code, message: expect.any(String) }, timestamp: TIMESTAMP });
  });

  it.each([
    ['2', 2],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['+3', 3],
    ['1e1', 10],
    ['007', 7],
  ] as const)('reads ?hours=%s as %d decimal hours', async (raw, hours) => {
    const { app } = createTestApp();
    const response = await app.request(`/api/pet/catchup?device_id=d&hours=${encodeURIComponent(raw)}`, { method: 'POST' });
    expect(response.status).toBe(200);
    expect((await readJson<CompatJson<StateDocument>>(response)).hours).toBe(hours);
  });

  it('answers 503 in the envelope when storage is down', async () => {
    const down = { ...createMemoryStorage(), load: async () => Promise.reject(new StorageUnavailableError('down')) };
    const { app } = createTestApp({ storage: down });
    const response = await app.request('/api/pet/status?device_id=d');
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ success: false, error: { code: 'storage_unavailable' } });
  });
});
