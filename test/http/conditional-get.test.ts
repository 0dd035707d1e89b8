/**
 * Conditional GET (DESIGN §15): GET state and GET /api/pets?ids= answer an ETag that changes with
 * the stored version, the simulated minute, the language and the shape; If-None-Match naming it is
 * a 304 without a body; Cache-Control allows revalidation, not storage in shared caches.
 */
import { describe, expect, it } from 'vitest';
import { entityTag, noneMatchHits } from '../../src/http/json-response.js';
import { createTestApp, jsonRequest, MINUTE } from './support.js';

const get = (path: string, etag?: string | null, headers: Record<string, string> = {}) =>
  new Request(`http://localhost${path}`, { headers: { ...headers, ...(etag ? { 'If-None-Match': etag } : {}) } });

describe('conditional GET state', () => {
  it('answers an ETag and Cache-Control: private, no-cache; the same tag again is a 304 with no body', async () => {
    const { app } = createTestApp();
    await app.request('/api/pet/p/state'); // creates the pet
    const first = await app.request('/api/pet/p/state');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    expect(first.headers.get('cache-control')).toBe('private, no-cache');
    await first.text();
    const again = await app.request(get('/api/pet/p/state', etag));
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('etag')).toBe(etag);
    expect(again.headers.get('cache-control')).toBe('private, no-cache');
    expect(again.headers.get('x-request-id')).not.toBeNull();
    // A list of tags, a weak form and `*` match too; another tag does not.
    expect((await app.request(get('/api/pet/p/state', `"other", W/${etag}`))).status).toBe(304);
    expect((await app.request(get('/api/pet/p/state', '*'))).status).toBe(304);
    expect((await app.request(get('/api/pet/p/state', '"other"'))).status).toBe(200);
  });

  it('the tag changes with a change, the next simulated minute and the language (the bytes answered)', async () => {
    const { app, clock } = createTestApp();
    await app.request('/api/pet/p/state');
    const tagOf = async (path: string) => (await app.request(path)).headers.get('etag');
    const zh = await tagOf('/api/pet/p/state');
    expect(await tagOf('/api/pet/p/state')).toBe(zh);
    const en = await tagOf('/api/pet/p/state?lang=en');
    expect(en).not.toBe(zh);
    await app.request('/api/pet/p/interact', jsonRequest('POST', { action: 'feed' }));
    const fed = await tagOf('/api/pet/p/state');
    expect(fed).not.toBe(zh);
    const stale = await app.request(get('/api/pet/p/state', zh));
    expect(stale.status).toBe(200);
    expect(((await stale.json()) as { device_id: string }).device_id).toBe('p');
    clock.advance(MINUTE);
    const later = await app.request(get('/api/pet/p/state', fed));
    expect(later.status).toBe(200);
    expect(later.headers.get('etag')).not.toBe(fed);
  });

  it('errors and changes carry no ETag; a refused read stays refused whatever If-None-Match says', async () => {
    const { app } = createTestApp({ env: { READS_REQUIRE_AUTH: 'true' } });
    const claimed = await app.request('/api/pet/p/claim', jsonRequest('POST', {}));
    expect(claimed.headers.get('etag')).toBeNull();
    const secret = ((await claimed.json()) as { secret: string }).secret;
    const owner = await app.request(get('/api/pet/p/state', null, { Authorization: `Bearer ${secret}` }));
    const etag = owner.headers.get('etag');
    expect(etag).not.toBeNull();
    const stranger = await app.request(get('/api/pet/p/state', etag));
    expect(stranger.status).toBe(401);
    expect(stranger.headers.get('etag')).toBeNull();
  });
});

describe('conditional GET /api/pets?ids=', () => {
  it('answers an ETag over the whole list; a 304 while no pet changed', async () => {
    const { app } = createTestApp();
    await app.request('/api/pet/a/state');
    await app.request('/api/pet/b/state');
    const first = await app.request('/api/pets?ids=a,b');
    const etag = first.headers.get('etag');
    expect(etag).not.toBeNull();
    expect(first.headers.get('cache-control')).toBe('private, no-cache');
    expect((await app.request(get('/api/pets?ids=a,b', etag))).status).toBe(304);
    await app.request('/api/pet/b/interact', jsonRequest('POST', { action: 'feed' }));
    expect((await app.request(get('/api/pets?ids=a,b', etag))).status).toBe(200);
  });
});

describe('entity tags', () => {
  it('depend on the bytes only; If-None-Match is a comma-separated list', () => {
    expect(entityTag('{"a":1}')).toBe(entityTag('{"a":1}'));
    expect(entityTag('{"a":1}')).not.toBe(entityTag('{"a":2}'));
    expect(noneMatchHits(undefined, '"x"')).toBe(false);
    expect(noneMatchHits(' "y" ,"x"', '"x"')).toBe(true);
    expect(noneMatchHits('W/"x"', '"x"')).toBe(true);
    expect(noneMatchHits('"xx"', '"x"')).toBe(false);
  });
});
