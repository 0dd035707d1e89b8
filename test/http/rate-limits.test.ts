/**
 * Rate limits (docs/reliability.md): fixed windows per pet and per client address, counted in the storage in
 * the pet's one load; over a limit → 429 rate_limited with Retry-After and RateLimit headers,
 * before anything is applied or written. 0 disables a limit.
 */
import { describe, expect, it } from 'vitest';
import { StorageUnavailableError } from '../../src/errors.js';
import { normalizeAddress } from '../../src/http/request-guard.js';
import { createPetService, interactOperation, type StateDocument } from '../../src/service/index.js';
import { createMemoryStorage, type StorageDriver } from '../../src/storage/index.js';
import { clockedStorage, createTestApp, jsonRequest, readJson, type CompatJson, type ErrorJson, type TestApp } from './support.js';

const from = (address: string) => ({ 'X-Forwarded-For': address });
/** What @hono/node-server passes as the env of a request: its socket. */
const socket = (remoteAddress: string) => ({ incoming: { socket: { remoteAddress, remotePort: 40_000, remoteFamily: 'IPv4' } } });

function limitedApp(env: Record<string, string>): TestApp {
  const { clock, storage } = clockedStorage();
  return createTestApp({ storage, clock, env: { TRUST_PROXY: 'true', RATE_LIMIT_WINDOW_SECONDS: '60', ...env } });
}

/** stats.feed as stored (a GET would count against the limits). */
function storedFeeds(app: TestApp, id: string): number {
  const raw = app.storage.rawGet(`life_${id}:stats`);
  return raw === null ? 0 : (JSON.parse(raw) as { feed: number }).feed;
}

describe('rate limit per pet', () => {
  it('answers 429 rate_limited with Retry-After and RateLimit headers past the limit, applying nothing', async () => {
    const app = limitedApp({ RATE_LIMIT_PER_PET: '3', RATE_LIMIT_PER_CLIENT: '0' });
    const feed = () => app.app.request('/api/pet/p1/interact', jsonRequest('POST', { action: 'feed' }, from('10.0.0.1')));
    const ok = [await feed(), await feed(), await feed()];
    expect(ok.map((response) => response.status)).toEqual([200, 200, 200]);
    expect(ok.map((response) => response.headers.get('ratelimit'))).toEqual(['"pet";r=2;t=60', '"pet";r=1;t=60', '"pet";r=0;t=60']);
    expect(ok[0]?.headers.get('ratelimit-policy')).toBe('"pet";q=3;w=60');

    app.clock.advance(15_000);
    const refused = await feed();
    expect(refused.status).toBe(429);
    expect((await readJson<ErrorJson>(refused)).error.code).toBe('rate_limited');
    expect(refused.headers.get('retry-after')).toBe('45');
    expect(refused.headers.get('ratelimit')).toBe('"pet";r=0;t=45');
    expect(refused.headers.get('ratelimit-policy')).toBe('"pet";q=3;w=60');
    expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
    expect(storedFeeds(app, 'p1')).toBe(3);
  });

  it('opens again when the window resets', async () => {
    const app = limitedApp({ RATE_LIMIT_PER_PET: '2', RATE_LIMIT_PER_CLIENT: '0' });
    const read = () => app.app.request('/api/pet/p1/state');
    expect([(await read()).status, (await read()).status, (await read()).status]).toEqual([200, 200, 429]);
    app.clock.advance(59_999);
    expect((await read()).status).toBe(429);
    app.clock.advance(1);
    expect((await read()).status).toBe(200);
  });

  it('counts every client against the pet, and other pets apart', async () => {
    const app = limitedApp({ RATE_LIMIT_PER_PET: '2', RATE_LIMIT_PER_CLIENT: '0' });
    expect((await app.app.request('/api/pet/p1/state', { headers: from('10.0.0.1') })).status).toBe(200);
    expect((await app.app.request('/api/pet/p1/state', { headers: from('10.0.0.2') })).status).toBe(200);
    expect((await app.app.request('/api/pet/p1/state', { headers: from('10.0.0.3') })).status).toBe(429);
    expect((await app.app.request('/api/pet/p2/state', { headers: from('10.0.0.3') })).status).toBe(200);
  });

  it('refuses a new pet over the limit without creating it', async () => {
    const app = limitedApp({ RATE_LIMIT_PER_PET: '0', RATE_LIMIT_PER_CLIENT: '1' });
    expect((await app.app.request('/api/pet/first/state', { headers: from('10.0.0.9') })).status).toBe(200);
    expect((await app.app.request('/api/pet/second/state', { headers: from('10.0.0.9') })).status).toBe(429);
    expect(app.storage.keys().filter((key) => key.startsWith('life_second:'))).toEqual([]);
  });
});

describe('rate limit per client', () => {
  it('counts one address across pets, and other addresses apart', async () => {
    const app = limitedApp({ RATE_LIMIT_PER_PET: '0', RATE_LIMIT_PER_CLIENT: '3' });
    const statuses = [];
    for (const id of ['a', 'b', 'c', 'd'])
      statuses.push((await app.app.request(`/api/pet/${id}/state`, { headers: from('10.0.0.1') })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const other = await app.app.request('/api/pet/a/state', { headers: from('10.0.0.2') });
    expect(other.status).toBe(200);
    expect(other.headers.get('ratelimit')).toBe('"client";r=2;t=60');
    expect(app.storage.keys().filter((key) => key.startsWith('life_~'))).toEqual(['life_~rl-client:10.0.0.1', 'life_~rl-client:10.0.0.2']);
  });

  it('reports both limits, and the one exceeded decides Retry-After', async () => {
    const app = limitedApp({ RATE_LIMIT_PER_PET: '5', RATE_LIMIT_PER_CLIENT: '1' });
    expect((await app.app.request('/api/pet/a/state', { headers: from('10.0.0.1') })).headers.get('ratelimit')).toBe(
      '"pet";r=4;t=60, "client";r=0;t=60',
    );
    app.clock.advance(10_000);
    const refused = await app.app.request('/api/pet/b/state', { headers: from('10.0.0.1') });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('50');
    expect(refused.headers.get('ratelimit-policy')).toBe('"pet";q=5;w=60, "client";q=1;w=60');
  });

  it('takes the socket address, and X-Forwarded-For only with TRUST_PROXY', async () => {
    const untrusting = limitedApp({ RATE_LIMIT_PER_PET: '0', RATE_LIMIT_PER_CLIENT: '1', TRUST_PROXY: 'false' });
    const viaSocket = (address: string, forwarded: string) =>
      untrusting.app.request('/api/pet/p/state', { headers: from(forwarded) }, socket(address));
    expect((await viaSocket('192.0.2.1', '10.0.0.1')).status).toBe(200);
    expect((await viaSocket('192.0.2.1', '10.0.0.2')).status).toBe(429); // a new forwarded address does not help
    expect((await viaSocket('::ffff:192.0.2.2', '10.0.0.1')).status).toBe(200);
    expect(untrusting.storage.keys().filter((key) => key.startsWith('life_~'))).toEqual([
      'life_~rl-client:192.0.2.1',
      'life_~rl-client:192.0.2.2',
    ]);

    const trusting = limitedApp({ RATE_LIMIT_PER_PET: '0', RATE_LIMIT_PER_CLIENT: '1', TRUST_PROXY: 'true' });
    const viaProxy = (forwarded: string) => trusting.app.request('/api/pet/p/state', { headers: from(forwarded) }, socket('127.0.0.1'));
    expect((await viaProxy('203.0.113.7, 10.0.0.1')).status).toBe(200);
    expect((await viaProxy('203.0.113.8, 10.0.0.1')).status).toBe(200);
    expect((await viaProxy('203.0.113.7')).status).toBe(429);
    // A first hop that is no address falls back to the socket's.
    expect((await viaProxy('not-an-ip')).status).toBe(200);
    expect(trusting.storage.keys()).toContain('life_~rl-client:127.0.0.1');
  });

  it('does not count a client whose address is unknown', async () => {
    const app = limitedApp({ RATE_LIMIT_PER_PET: '0', RATE_LIMIT_PER_CLIENT: '1', TRUST_PROXY: 'false' });
    for (let i = 0; i < 3; i += 1) expect((await app.app.request('/api/pet/p/state')).status).toBe(200);
    expect(app.storage.keys().filter((key) => key.startsWith('life_~'))).toEqual([]);
  });
});

describe('rate limits, generally', () => {
  it('are off at 0: no 429, no counter, no RateLimit header', async () => {
    const app = limitedApp({ RATE_LIMIT_PER_PET: '0', RATE_LIMIT_PER_CLIENT: '0' });
    for (let i = 0; i < 50; i += 1) {
      const response = await app.app.request('/api/pet/p/interact', jsonRequest('POST', { action: 'greet' }, from('10.0.0.1')));
      expect(response.status).toBe(200);
      expect(response.headers.get('ratelimit')).toBeNull();
    }
    expect(app.storage.keys().filter((key) => key.startsWith('life_~'))).toEqual([]);
  });

  it('are on by default: 120 per pet and 300 per client per 60 s', async () => {
    const { app } = createTestApp({ env: { RATE_LIMIT_PER_PET: '', RATE_LIMIT_PER_CLIENT: '', TRUST_PROXY: 'true' } });
    const response = await app.request('/api/pet/p/state', { headers: from('10.0.0.1') });
    expect(response.headers.get('ratelimit-policy')).toBe('"pet";q=120;w=60, "client";q=300;w=60');
  });

  it('count in the same round trip as the load, so a change still costs two', async () => {
    const app = limitedApp({ RATE_LIMIT_PER_PET: '10', RATE_LIMIT_PER_CLIENT: '10' });
    await app.app.request('/api/pet/p/state', { headers: from('10.0.0.1') });
    const trips = app.storage.roundTrips();
    expect((await app.app.request('/api/pet/p/interact', jsonRequest('POST', { action: 'feed' }, from('10.0.0.1')))).status).toBe(200);
    expect(app.storage.roundTrips() - trips).toBe(2);
    const readTrips = app.storage.roundTrips();
    await app.app.request('/api/pet/p/forecast?hours=1', { headers: from('10.0.0.1') });
    expect(app.storage.roundTrips() - readTrips).toBe(1);
  });

  it('do not count requests refused before they reach a pet (bad input)', async () => {
    const app = limitedApp({ RATE_LIMIT_PER_PET: '1', RATE_LIMIT_PER_CLIENT: '1' });
    for (let i = 0; i < 5; i += 1) {
      expect((await app.app.request('/api/pet/p/interact', jsonRequest('POST', { action: 'dance' }, from('10.0.0.1')))).status).toBe(400);
    }
    expect((await app.app.request('/api/pet/p/interact', jsonRequest('POST', { action: 'feed' }, from('10.0.0.1')))).status).toBe(200);
  });

  it('apply to the compatibility routes, in their envelope', async () => {
    const app = limitedApp({ RATE_LIMIT_PER_PET: '1', RATE_LIMIT_PER_CLIENT: '0' });
    expect((await app.app.request('/api/pet/status?device_id=c')).status).toBe(200);
    const refused = await app.app.request('/api/pet/feed', jsonRequest('POST', { device_id: 'c' }));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(await readJson<CompatJson<unknown>>(refused)).toMatchObject({ success: false, error: { code: 'rate_limited' } });
  });

  it('are checked before the claim: a 429 does not tell whether a secret was right', async () => {
    const app = limitedApp({ RATE_LIMIT_PER_PET: '2', RATE_LIMIT_PER_CLIENT: '0' });
    expect((await app.app.request('/api/pet/p/claim', { method: 'POST' })).status).toBe(201);
    expect((await app.app.request('/api/pet/p/reset', { method: 'POST', headers: { Authorization: 'Bearer guess-1' } })).status).toBe(403);
    expect((await app.app.request('/api/pet/p/reset', { method: 'POST', headers: { Authorization: 'Bearer guess-2' } })).status).toBe(429);
  });

  it('answer 503 storage_unavailable when the storage cannot count (a down Redis)', async () => {
    const inner = createMemoryStorage();
    const down: StorageDriver = {
      ...inner,
      loadCounted: async () => Promise.reject(new StorageUnavailableError('redis://127.0.0.1:1 is unreachable')),
    };
    const { app } = createTestApp({ storage: down, env: { RATE_LIMIT_PER_PET: '5' } });
    const response = await app.request('/api/pet/p/interact', jsonRequest('POST', { action: 'feed' }));
    expect(response.status).toBe(503);
    expect((await readJson<ErrorJson>(response)).error.code).toBe('storage_unavailable');
    expect(inner.keys()).toEqual([]);
  });

  it('count a request once, however many compare-and-set attempts it takes', async () => {
    const inner = createMemoryStorage();
    let conflicts = 3;
    const storage: StorageDriver = {
      ...inner,
      async save(petId, request) {
        if (conflicts > 0) {
          conflicts -= 1;
          return { ok: false, version: request.expectedVersion };
        }
        return inner.save(petId, request);
      },
    };
    const service = createPetService({ storage, backoffMs: () => 0, rateLimits: { perPet: 5, perClient: 5, windowMs: 60_000 } });
    const answer = await service.perform('p', interactOperation('feed'), { client: '10.0.0.1', render: (doc: StateDocument) => doc });
    expect(answer.attempts).toBe(4);
    expect(inner.rawGet('life_~rl-pet:p')).toBe('1');
    expect(inner.rawGet('life_~rl-client:10.0.0.1')).toBe('1');
    expect(answer.value.limits.map((limit) => limit.remaining)).toEqual([4, 4]);
  });
});

describe('normalizeAddress', () => {
  it('spells an address one way and refuses what is not one', () => {
    expect(normalizeAddress('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeAddress(' 2001:DB8::1 ')).toBe('2001:db8::1');
    expect(normalizeAddress('[2001:db8::1]:443')).toBe('2001:db8::1');
    expect(normalizeAddress('10.0.0.1:8080')).toBe('10.0.0.1');
    expect(normalizeAddress('unknown')).toBeNull();
    expect(normalizeAddress('')).toBeNull();
    expect(normalizeAddress('10.0.0.1\u0000')).toBeNull();
  });
});
