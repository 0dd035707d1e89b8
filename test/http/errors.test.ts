import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { StorageUnavailableError } from '../../src/errors.js';
import { createApp } from '../../src/http/index.js';
import { createSilentLogger } from '../../src/log.js';
import { createManualClock, createPetService } from '../../src/service/index.js';
import { createMemoryStorage, type StorageDriver } from '../../src/storage/index.js';
import { createFileStorage } from '../../src/storage/file.js';
import { createTestApp, jsonRequest, readJson, T0, type ErrorJson } from './support.js';

interface Case {
  name: string;
  path: string;
  init?: RequestInit;
  status: number;
  code: string;
}

const json = (method: string, body: unknown) => jsonRequest(method, body);
const raw = (method: string, body: string, contentType = 'application/json') => ({
  method,
  headers: { 'content-type': contentType },
  body,
});

const CASES: Case[] = [
  // device ids
  { name: 'id with a dot', path: '/api/pet/a.b/state', status: 400, code: 'invalid_device_id' },
  { name: 'id with a colon', path: '/api/pet/a:b/state', status: 400, code: 'invalid_device_id' },
  { name: 'id with a tilde', path: '/api/pet/~x/state', status: 400, code: 'invalid_device_id' },
  { name: 'id with an encoded slash', path: '/api/pet/a%2F..%2Fb/state', status: 400, code: 'invalid_device_id' },
  { name: 'id with unicode', path: '/api/pet/%E5%B0%8F%E7%B3%96/state', status: 400, code: 'invalid_device_id' },
  { name: 'id with a space', path: '/api/pet/a%20b/state', status: 400, code: 'invalid_device_id' },
  { name: 'id of 65 characters', path: `/api/pet/${'x'.repeat(65)}/state`, status: 400, code: 'invalid_device_id' },
  { name: 'id with a NUL', path: '/api/pet/a%00/state', status: 400, code: 'invalid_device_id' },
  { name: 'glob in the id', path: '/api/pet/*/interact', init: json('POST', { action: 'feed' }), status: 400, code: 'invalid_device_id' },
  // actions
  { name: 'unknown action', path: '/api/pet/p/interact', init: json('POST', { action: 'dance' }), status: 400, code: 'invalid_action' },
  {
    name: 'action of the wrong case',
    path: '/api/pet/p/interact',
    init: json('POST', { action: 'FEED' }),
    status: 400,
    code: 'invalid_action',
  },
  { name: 'missing action', path: '/api/pet/p/interact', init: json('POST', {}), status: 400, code: 'invalid_action' },
  { name: 'numeric action', path: '/api/pet/p/interact', init: json('POST', { action: 1 }), status: 400, code: 'invalid_action' },
  { name: 'null action', path: '/api/pet/p/interact', init: json('POST', { action: null }), status: 400, code: 'invalid_action' },
  {
    name: 'prototype action',
    path: '/api/pet/p/interact',
    init: json('POST', { action: '__proto__' }),
    status: 400,
    code: 'invalid_action',
  },
  // hours
  { name: 'zero hours', path: '/api/pet/p/catchup', init: json('POST', { hours: 0 }), status: 400, code: 'invalid_body' },
  { name: 'negative hours', path: '/api/pet/p/catchup', init: json('POST', { hours: -1 }), status: 400, code: 'invalid_body' },
  { name: 'too many hours', path: '/api/pet/p/catchup', init: json('POST', { hours: 87_601 }), status: 400, code: 'invalid_body' },
  { name: 'hours as a string', path: '/api/pet/p/catchup', init: json('POST', { hours: '24' }), status: 400, code: 'invalid_body' },
  { name: 'hours as 1e400', path: '/api/pet/p/catchup', init: raw('POST', '{"hours": 1e400}'), status: 400, code: 'invalid_body' },
  { name: 'missing hours', path: '/api/pet/p/catchup', init: json('POST', {}), status: 400, code: 'invalid_body' },
  // bodies
  { name: 'malformed JSON', path: '/api/pet/p/interact', init: raw('POST', '{"action": '), status: 400, code: 'invalid_body' },
  { name: 'JSON array', path: '/api/pet/p/interact', init: json('POST', ['feed']), status: 400, code: 'invalid_body' },
  { name: 'JSON string', path: '/api/pet/p/interact', init: json('POST', 'feed'), status: 400, code: 'invalid_body' },
  { name: 'JSON null', path: '/api/pet/p/interact', init: raw('POST', 'null'), status: 400, code: 'invalid_body' },
  { name: 'empty JSON body', path: '/api/pet/p/interact', init: raw('POST', ''), status: 400, code: 'invalid_body' },
  { name: 'no body at all', path: '/api/pet/p/interact', init: { method: 'POST' }, status: 400, code: 'invalid_action' },
  {
    name: 'text body',
    path: '/api/pet/p/interact',
    init: raw('POST', 'action=feed', 'text/plain'),
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'form body',
    path: '/api/pet/p/interact',
    init: raw('POST', 'action=feed', 'application/x-www-form-urlencoded'),
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'body without a content type',
    path: '/api/pet/p/catchup',
    init: { method: 'POST', body: '{"hours":1}' },
    status: 415,
    code: 'unsupported_media_type',
  },
  { name: 'PATCH with nothing to change', path: '/api/pet/p', init: json('PATCH', {}), status: 400, code: 'invalid_body' },
  { name: 'PATCH with an empty name', path: '/api/pet/p', init: json('PATCH', { pet_name: '   ' }), status: 400, code: 'invalid_body' },
  {
    name: 'PATCH with a long name',
    path: '/api/pet/p',
    init: json('PATCH', { pet_name: 'x'.repeat(65) }),
    status: 400,
    code: 'invalid_body',
  },
  {
    name: 'PATCH with a control character',
    path: '/api/pet/p',
    init: json('PATCH', { pet_name: 'a\u0007b' }),
    status: 400,
    code: 'invalid_body',
  },
  {
    name: 'PATCH with an unknown timezone',
    path: '/api/pet/p',
    init: json('PATCH', { timezone: 'Mars/Olympus' }),
    status: 400,
    code: 'invalid_timezone',
  },
  {
    name: 'PATCH with a numeric timezone',
    path: '/api/pet/p',
    init: json('PATCH', { timezone: 8 }),
    status: 400,
    code: 'invalid_timezone',
  },
  { name: 'PATCH as text', path: '/api/pet/p', init: raw('PATCH', 'x', 'text/plain'), status: 415, code: 'unsupported_media_type' },
  // queries
  { name: 'unknown lang', path: '/api/pet/p/state?lang=fr', status: 400, code: 'invalid_query' },
  { name: 'forecast hours too high', path: '/api/pet/p/forecast?hours=1000', status: 400, code: 'invalid_query' },
  // routes and methods
  { name: 'unknown route', path: '/api/pet/p/dance', status: 404, code: 'not_found' },
  { name: 'unknown top-level route', path: '/wp-admin', status: 404, code: 'not_found' },
  { name: 'GET on interact', path: '/api/pet/p/interact', status: 405, code: 'method_not_allowed' },
  { name: 'DELETE on a pet', path: '/api/pet/p', init: { method: 'DELETE' }, status: 405, code: 'method_not_allowed' },
  { name: 'POST on state', path: '/api/pet/p/state', init: { method: 'POST' }, status: 405, code: 'method_not_allowed' },
  { name: 'PUT on health', path: '/health', init: { method: 'PUT' }, status: 405, code: 'method_not_allowed' },
  // size
  {
    name: 'body over 16 KB',
    path: '/api/pet/p/interact',
    init: json('POST', { action: 'feed', padding: 'x'.repeat(17 * 1024) }),
    status: 413,
    code: 'payload_too_large',
  },
];

describe('malformed requests', () => {
  it.each(CASES)('$name → $status $code', async ({ path, init, status, code }) => {
    const { app, storage, logs } = createTestApp();
    const response = await app.request(path, init);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    const body = await readJson<ErrorJson>(response);
    expect(body.error.code).toBe(code);
    expect(body.error.message.length).toBeGreaterThan(0);
    // A refused request never creates anything, and never logs an error.
    expect(storage.keys()).toEqual([]);
    expect(logs.filter((line) => line['level'] === 'error')).toEqual([]);
  });

  it('never answers 5xx to any of them, nor a stack trace', async () => {
    const { app } = createTestApp();
    for (const { path, init } of CASES) {
      const response = await app.request(path, init);
      expect(response.status, path).toBeLessThan(500);
      expect(await response.text(), path).not.toMatch(/at .*\.(ts|js):\d+/);
    }
  });

  it('answers 405 with an Allow header', async () => {
    const { app } = createTestApp();
    const response = await app.request('/api/pet/p/interact', { method: 'PUT' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('refuses a chunked body over the limit while reading it', async () => {
    const { app } = createTestApp();
    const chunk = new TextEncoder().encode('x'.repeat(4096));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 8) controller.close();
        else {
          sent += 1;
          controller.enqueue(chunk);
        }
      },
    });
    const response = await app.request('/api/pet/p/interact', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    expect((await readJson<ErrorJson>(response)).error.code).toBe('payload_too_large');
  });
});

/** A storage whose every call fails as an unreachable Redis would. */
function downStorage(): StorageDriver {
  const fail = async (): Promise<never> => {
    throw new StorageUnavailableError('redis://127.0.0.1:1 is unreachable (ECONNREFUSED)');
  };
  return {
    name: 'RedisStorage',
    target: 'redis://127.0.0.1:1',
    load: fail,
    loadCounted: fail,
    loadMany: fail,
    save: fail,
    saveMany: fail,
    replace: fail,
    remove: fail,
    readEvents: fail,
    hit: fail,
    ping: fail,
    loadRecords: fail,
    saveRecord: fail,
    takeRecord: fail,
    roundTrips: () => 0,
    close: async () => {},
  };
}

describe('storage failures', () => {
  it('answers 503 storage_unavailable when the backend is down, on every pet route', async () => {
    const { app, logs } = createTestApp({ storage: downStorage() });
    const requests: Array<[string, RequestInit | undefined]> = [
      ['/api/pet/p/state', undefined],
      ['/api/pet/p/interact', jsonRequest('POST', { action: 'feed' })],
      ['/api/pet/p/catchup', jsonRequest('POST', { hours: 1 })],
      ['/api/pet/p/reset', { method: 'POST' }],
      ['/api/pet/p', jsonRequest('PATCH', { pet_name: 'x' })],
      ['/api/pet/p/forecast', undefined],
    ];
    for (const [path, init] of requests) {
      const response = await app.request(path, init);
      expect(response.status, path).toBe(503);
      const body = await readJson<ErrorJson>(response);
      expect(body.error.code).toBe('storage_unavailable');
    }
    expect(logs.some((line) => line['msg'] === 'request failed' && line['code'] === 'storage_unavailable')).toBe(true);
  });

  it('GET /ready answers 503 when storage is down, 200 when it answers', async () => {
    const down = createTestApp({ storage: downStorage() });
    const notReady = await down.app.request('/ready');
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ status: 'unavailable', storage: { backend: 'RedisStorage', ok: false } });

    const up = createTestApp();
    const ready = await up.app.request('/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', storage: { backend: 'MemoryStorage', ok: true } });
  });

  it('answers 500 corrupt_state for unreadable stored state, with the details only in the log', async () => {
    const storage = createMemoryStorage();
    storage.rawSet('life_broken:rhythm', JSON.stringify({ internal_phase: 'noon', last_update: 1 }));
    const { app, logs } = createTestApp({ storage });
    const response = await app.request('/api/pet/broken/state');
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'corrupt_state' } });
    expect(text).not.toMatch(/internal_phase|\.ts:\d+/);
    const logged = logs.find((line) => line['msg'] === 'request failed');
    expect(JSON.stringify(logged)).toMatch(/internal_phase/);
  });

  it('answers 500 corrupt_state, not internal_error, for a pet.json whose systems are null (file storage)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pet-life-corrupt-'));
    try {
      await mkdir(path.join(dir, 'broken'));
      const meta = { version: 1, pet_name: 'x', timezone: 'UTC', created_at: '2026-01-01T00:00:00Z', world_ms: T0, wall_ms: T0 };
      await writeFile(path.join(dir, 'broken', 'pet.json'), JSON.stringify({ meta, systems: null, expires_at: null }));
      const { app, logs } = createTestApp({ storage: createFileStorage({ dir }) });
      const response = await app.request('/api/pet/broken/state');
      expect(response.status).toBe(500);
      expect(await response.json()).toMatchObject({ error: { code: 'corrupt_state' } });
      expect(JSON.stringify(logs.find((line) => line['msg'] === 'request failed'))).toMatch(/pet broken/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers 500 internal_error for a bug, logging the stack but never sending it', async () => {
    const storage = createMemoryStorage();
    const buggy: StorageDriver = { ...storage, load: async () => Promise.reject(new TypeError('boom: undefined is not a function')) };
    const { app, logs } = createTestApp({ storage: buggy });
    const response = await app.request('/api/pet/p/state');
    expect(response.status).toBe(500);
    const text = await response.text();
    const body = JSON.parse(text) as ErrorJson & { error: { request_id: string } };
    expect(body).toEqual({
      error: { code: 'internal_error', message: expect.any(String), request_id: response.headers.get('x-request-id') },
    });
    expect(text).not.toMatch(/boom|stack/);
    const logged = logs.find((line) => line['msg'] === 'request failed') as { err?: { stack?: string }; request_id?: string } | undefined;
    expect(logged?.err?.stack).toMatch(/boom/);
    // The request id in the answer finds the log line with the details.
    expect(logged?.request_id).toBe(body.error.request_id);
  });
});

describe('headers on every response', () => {
  it('sets security headers and CORS, on errors too', async () => {
    const { app } = createTestApp();
    for (const path of ['/api/pet/p/state', '/nope', '/api/pet/a.b/state']) {
      const response = await app.request(path, { headers: { Origin: 'https://example.com' } });
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(response.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
      expect(response.headers.get('access-control-allow-origin'), path).toBe('*');
      expect(response.headers.get('x-request-id'), path).toBeTruthy();
    }
  });

  it('answers CORS preflights, limited to CORS_ORIGINS when set', async () => {
    const { app } = createTestApp({ env: { CORS_ORIGINS: 'https://pets.example, https://admin.example' } });
    const preflight = await app.request('/api/pet/p/interact', {
      method: 'OPTIONS',
      headers: { Origin: 'https://pets.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://pets.example');
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/POST/);
    const other = await app.request('/api/pet/p/state', { headers: { Origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('compare-and-set exhaustion', () => {
  it('answers 503 conflict_retries_exhausted when other writers always win', async () => {
    const storage: StorageDriver = {
      ...createMemoryStorage(),
      save: async (_petId, request) => ({ ok: false, version: request.expectedVersion + 1 }),
    };
    const clock = createManualClock(T0);
    const service = createPetService({ storage, clock, maxAttempts: 3, backoffMs: () => 0 });
    const app = createApp({ config: loadConfig({ STORAGE: 'memory' }), storage, clock, log: createSilentLogger(), service });
    const response = await app.request('/api/pet/p/interact', jsonRequest('POST', { action: 'feed' }));
    expect(response.status).toBe(503);
    expect((await readJson<ErrorJson>(response)).error.code).toBe('conflict_retries_exhausted');
  });
});
