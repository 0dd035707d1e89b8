/**
 * docs/reliability.md: CORS origins from CORS_ORIGINS (default any), and the security headers on every
 * answer the app gives — errors of every kind, 404s, /docs and its assets, preflights.
 */
import { describe, expect, it } from 'vitest';
import { SECURITY_HEADERS } from '../../src/http/request-frame.js';
import { createTestApp, jsonRequest } from './support.js';

function expectSecurityHeaders(response: Response, label: string): void {
  for (const [name, value] of SECURITY_HEADERS) expect(response.headers.get(name), `${label}: ${name}`).toBe(value);
  expect(response.headers.get('x-request-id'), label).toBeTruthy();
}

describe('CORS', () => {
  it('allows any origin by default, exposing the headers clients of issue #5 read', async () => {
    const { app } = createTestApp();
    const response = await app.request('/api/pet/p/state', { headers: { Origin: 'https://anywhere.example' } });
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('vary')).toBeNull();
    const exposed = (response.headers.get('access-control-expose-headers') ?? '').split(', ');
    for (const name of ['X-Request-Id', 'Idempotent-Replayed', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'WWW-Authenticate']) {
      expect(exposed).toContain(name);
    }
  });

  it('allows only the listed origins when CORS_ORIGINS is set, and says it varies by Origin', async () => {
    const { app } = createTestApp({ env: { CORS_ORIGINS: 'https://pets.example,https://admin.example:8443' } });
    for (const origin of ['https://pets.example', 'https://admin.example:8443']) {
      const response = await app.request('/api/pet/p/state', { headers: { Origin: origin } });
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      expect(response.headers.get('vary')).toBe('Origin');
    }
    for (const origin of ['https://evil.example', 'https://pets.example.evil.example', 'null']) {
      const response = await app.request('/api/pet/p/state', { headers: { Origin: origin } });
      expect(response.headers.get('access-control-allow-origin'), origin).toBeNull();
      expect(response.headers.get('vary')).toBe('Origin');
    }
  });

  it('answers preflights for changes with Authorization and Idempotency-Key allowed', async () => {
    const { app } = createTestApp({ env: { CORS_ORIGINS: 'https://pets.example' } });
    const preflight = await app.request('/api/pet/p/interact', {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://pets.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, idempotency-key, content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://pets.example');
    const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const name of ['authorization', 'idempotency-key', 'content-type']) expect(allowed).toContain(name);
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/PATCH/);
    expectSecurityHeaders(preflight, 'preflight');
    const refused = await app.request('/api/pet/p/interact', {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('security headers', () => {
  it('are on every kind of answer: success, 4xx of every source, 404, /docs and its assets', async () => {
    const { app } = createTestApp({ env: { RATE_LIMIT_PER_PET: '2', TRUST_PROXY: 'true' } });
    const claimed = await app.request('/api/pet/owned/claim', { method: 'POST' });
    expect(claimed.status).toBe(201);
    const cases: Array<[string, Response | Promise<Response>]> = [
      ['200 state', app.request('/api/pet/p/state')],
      ['201 claim', claimed],
      ['400 bad id', app.request('/api/pet/a.b/state')],
      ['400 bad key', app.request('/api/pet/p2/interact', jsonRequest('POST', { action: 'feed' }, { 'Idempotency-Key': 'a b' }))],
      ['401', app.request('/api/pet/owned/reset', { method: 'POST' })],
      ['404 route', app.request('/nope')],
      ['405', app.request('/api/pet/p/state', { method: 'DELETE' })],
      ['413', app.request('/api/pet/p/interact', jsonRequest('POST', { action: 'x'.repeat(20_000) }))],
      ['415', app.request('/api/pet/p/interact', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'feed' })],
      ['docs', app.request('/docs')],
      ['docs init', app.request('/docs/init.js')],
      ['docs asset', app.request('/docs/assets/swagger-ui.css')],
      ['docs 404', app.request('/docs/assets/nope.js')],
      ['openapi', app.request('/openapi.json')],
      ['health', app.request('/health')],
    ];
    for (const [label, pending] of cases) {
      const response = await pending;
      const status = /^\d{3}/.exec(label)?.[0];
      if (status !== undefined) expect(response.status, label).toBe(Number(status));
      expectSecurityHeaders(response, label);
    }
    expect((await app.request('/api/pet/p/state')).status).toBe(200);
    const limited = await app.request('/api/pet/p/state');
    expect(limited.status).toBe(429);
    expectSecurityHeaders(limited, '429');
  });
});
