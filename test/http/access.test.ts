/**
 * Access (docs/reliability.md): a pet is open until claimed; a claim answers a secret once and stores only
 * its SHA-256; a claimed pet's changes need `Authorization: Bearer <secret>` (its reads too with
 * READS_REQUIRE_AUTH); ADMIN_TOKEN opens every pet.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ClaimResult, StateDocument } from '../../src/service/index.js';
import { createTestApp, jsonRequest, readJson, type CompatJson, type ErrorJson, type TestApp } from './support.js';

const ADMIN = 'admin-token-0123456789abcdef';
const bearer = (secret: string) => ({ Authorization: `Bearer ${secret}` });

async function claim(app: TestApp['app'], id: string): Promise<string> {
  const response = await app.request(`/api/pet/${id}/claim`, { method: 'POST' });
  expect(response.status).toBe(201);
  return (await readJson<ClaimResult>(response)).secret;
}

/** Every change, as a request for pet `id` with extra headers. */
const CHANGES: ReadonlyArray<readonly [string, (id: string, headers: Record<string, string>) => [string, RequestInit]]> = [
  ['POST interact', (id, h) => [`/api/pet/${id}/interact`, jsonRequest('POST', { action: 'feed' }, h)]],
  ['POST catchup', (id, h) => [`/api/pet/${id}/catchup`, jsonRequest('POST', { hours: 1 }, h)]],
  ['POST reset', (id, h) => [`/api/pet/${id}/reset`, { method: 'POST', headers: h }]],
  ['PATCH', (id, h) => [`/api/pet/${id}`, jsonRequest('PATCH', { pet_name: 'Mochi' }, h)]],
  ['compat interact', (id, h) => ['/api/pet/interact', jsonRequest('POST', { device_id: id, action: 'play' }, h)]],
  ['compat feed', (id, h) => ['/api/pet/feed', jsonRequest('POST', { device_id: id }, h)]],
  ['compat catchup', (id, h) => [`/api/pet/catchup?device_id=${id}&hours=1`, { method: 'POST', headers: h }]],
  ['compat reset', (id, h) => [`/api/debug/reset?device_id=${id}`, { method: 'POST', headers: h }]],
];

/** Every read. */
const READS: ReadonlyArray<readonly [string, (id: string) => string]> = [
  ['GET state', (id) => `/api/pet/${id}/state`],
  ['GET forecast', (id) => `/api/pet/${id}/forecast?hours=1`],
  ['compat status', (id) => `/api/pet/status?device_id=${id}`],
];

describe('POST /api/pet/{device_id}/claim', () => {
  it('answers 201 with a 256-bit base64url secret, once, and stores only its SHA-256 in meta.claim_hash', async () => {
    const { app, storage } = createTestApp();
    const response = await app.request('/api/pet/p1/claim', { method: 'POST' });
    expect(response.status).toBe(201);
    const body = await readJson<ClaimResult>(response);
    expect(body.device_id).toBe('p1');
    expect(body.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(body.secret, 'base64url')).toHaveLength(32);
    const meta = JSON.parse(storage.rawGet('life_p1:meta') ?? '{}') as { claim_hash?: string };
    expect(meta.claim_hash).toBe(createHash('sha256').update(body.secret).digest('hex'));
    expect(storage.keys().some((key) => (storage.rawGet(key) ?? '').includes(body.secret))).toBe(false);
    // Secrets differ from pet to pet.
    expect(await claim(app, 'p2')).not.toBe(body.secret);
  });

  it('refuses a second claim: 401 without the secret, 403 with a wrong one, 409 already_claimed with it or the admin token', async () => {
    const { app } = createTestApp({ env: { ADMIN_TOKEN: ADMIN } });
    const secret = await claim(app, 'p1');
    const again = (headers: Record<string, string> = {}) => app.request('/api/pet/p1/claim', { method: 'POST', headers });
    expect((await again()).status).toBe(401);
    expect((await again(bearer('wrong'))).status).toBe(403);
    const withSecret = await again(bearer(secret));
    expect(withSecret.status).toBe(409);
    expect((await readJson<ErrorJson>(withSecret)).error.code).toBe('already_claimed');
    expect((await again(bearer(ADMIN))).status).toBe(409);
  });

  it('keeps the claim across reset and PATCH', async () => {
    const { app } = createTestApp();
    const secret = await claim(app, 'p1');
    expect((await app.request('/api/pet/p1/reset', { method: 'POST', headers: bearer(secret) })).status).toBe(200);
    expect((await app.request('/api/pet/p1', jsonRequest('PATCH', { timezone: 'Asia/Tokyo' }, bearer(secret)))).status).toBe(200);
    expect((await app.request('/api/pet/p1/interact', jsonRequest('POST', { action: 'feed' }))).status).toBe(401);
  });
});

describe('who may change a pet', () => {
  for (const [name, build] of CHANGES) {
    it(`${name}: unclaimed 200; claimed: no token 401, wrong 403, its secret 200, admin 200`, async () => {
      const { app } = createTestApp({ env: { ADMIN_TOKEN: ADMIN } });
      const send = (id: string, headers: Record<string, string> = {}) => app.request(...build(id, headers));

      expect((await send('open')).status).toBe(200);

      const secret = await claim(app, 'mine');
      const missing = await send('mine');
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
      const missingBody = await readJson<ErrorJson & CompatJson<unknown>>(missing);
      expect(missingBody.error.code).toBe('unauthorized');
      if (name.startsWith('compat')) expect(missingBody.success).toBe(false);

      const wrong = await send('mine', bearer('not-the-secret'));
      expect(wrong.status).toBe(403);
      expect((await readJson<ErrorJson>(wrong)).error.code).toBe('forbidden');
      expect((await send('mine', { Authorization: `Basic ${Buffer.from(`u:${secret}`).toString('base64')}` })).status).toBe(401);

      expect((await send('mine', bearer(secret))).status).toBe(200);
      expect((await send('mine', { Authorization: `bearer ${secret}` })).status).toBe(200);
      expect((await send('mine', bearer(ADMIN))).status).toBe(200);
    });
  }

  it('applies nothing for a refused change and answers it from the one load (no write)', async () => {
    const { app, storage } = createTestApp();
    const secret = await claim(app, 'p1');
    const before = storage.keys().map((key) => storage.rawGet(key));
    const trips = storage.roundTrips();
    expect((await app.request('/api/pet/p1/interact', jsonRequest('POST', { action: 'feed' }))).status).toBe(401);
    expect((await app.request('/api/pet/p1/interact', jsonRequest('POST', { action: 'feed' }, bearer('x')))).status).toBe(403);
    expect(storage.roundTrips() - trips).toBe(2);
    expect(storage.keys().map((key) => storage.rawGet(key))).toEqual(before);
    // An allowed change is still one load and one compare-and-set.
    const allowedTrips = storage.roundTrips();
    expect((await app.request('/api/pet/p1/interact', jsonRequest('POST', { action: 'feed' }, bearer(secret)))).status).toBe(200);
    expect(storage.roundTrips() - allowedTrips).toBe(2);
  });

  it('gives a token of another pet no power', async () => {
    const { app } = createTestApp();
    const secretA = await claim(app, 'a');
    await claim(app, 'b');
    expect((await app.request('/api/pet/b/interact', jsonRequest('POST', { action: 'feed' }, bearer(secretA)))).status).toBe(403);
  });

  it('ignores an admin token when none is configured', async () => {
    const { app } = createTestApp();
    await claim(app, 'p1');
    expect((await app.request('/api/pet/p1/reset', { method: 'POST', headers: bearer(ADMIN) })).status).toBe(403);
  });
});

describe('who may read a pet', () => {
  it('lets anyone read a claimed pet by default', async () => {
    const { app } = createTestApp();
    await claim(app, 'p1');
    for (const [name, path] of READS) expect((await app.request(path('p1'))).status, name).toBe(200);
  });

  it('with READS_REQUIRE_AUTH: claimed reads need the secret (401, 403) or the admin token; unclaimed pets stay open', async () => {
    const { app } = createTestApp({ env: { READS_REQUIRE_AUTH: 'true', ADMIN_TOKEN: ADMIN } });
    const secret = await claim(app, 'p1');
    for (const [name, path] of READS) {
      const missing = await app.request(path('p1'));
      expect(missing.status, name).toBe(401);
      expect(missing.headers.get('www-authenticate'), name).toMatch(/^Bearer\b/);
      expect((await app.request(path('p1'), { headers: bearer('nope') })).status, name).toBe(403);
      expect((await app.request(path('p1'), { headers: bearer(secret) })).status, name).toBe(200);
      expect((await app.request(path('p1'), { headers: bearer(ADMIN) })).status, name).toBe(200);
      expect((await app.request(path('open'))).status, name).toBe(200);
    }
    const doc = await readJson<StateDocument>(await app.request('/api/pet/p1/state', { headers: bearer(secret) }));
    expect(doc.device_id).toBe('p1');
    // The answer just rendered is in the read cache now; a reader without the secret still gets none of it.
    expect((await app.request('/api/pet/p1/state')).status).toBe(401);
    expect((await app.request('/api/pet/p1/state', { headers: bearer('nope') })).status).toBe(403);
  });
});
