/**
 * The realtime and social surfaces against a hostile but ordinary client (docs/design.md §8, §9,
 * §14), each attack as it was measured, through the app on memory storage and on the real test
 * Redis: the bound is asserted (statuses, what a pre-opened stream received, what is counted).
 * The process-level attacks (a crashing upgrade, a socket that floods and never reads) are in
 * test/e2e/hostile-realtime.test.ts. docs/reliability.md lists each with its bound.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { realtimeOf } from '../../src/http/index.js';
import { parseUpgrade } from '../../src/http/upgrade-guard.js';
import { createMemoryStorage } from '../../src/storage/memory.js';
import type { StorageDriver } from '../../src/storage/index.js';
import { createRedisStorage } from '../../src/storage/redis.js';
import { DEFAULT_STREAM_SLOT_LIMITS, MAX_FRIENDS_PER_PET } from '../../src/service/index.js';
import { testRedisUrl, uniqueId } from '../helpers/redis.js';
import { createTestApp, jsonRequest, readJson, type ErrorJson, readUntil } from './support.js';

const drivers: StorageDriver[] = [];
afterAll(async () => {
  await Promise.all(drivers.map((driver) => driver.close()));
});

const backends: Array<{ name: string; make: () => StorageDriver }> = [{ name: 'memory', make: () => createMemoryStorage() }];
if (testRedisUrl) backends.push({ name: 'redis', make: () => createRedisStorage({ url: testRedisUrl ?? '' }) });
else console.warn('hostile-realtime: TEST_REDIS_URL is not set; the Redis half is skipped (run npm test)');

const auth = (secret: string) => ({ Authorization: `Bearer ${secret}` });
const from = (address: string, headers: Record<string, string> = {}) => ({ headers: { 'X-Forwarded-For': address, ...headers } });

describe('the WebSocket upgrade parses every input without throwing', () => {
  it.each([
    '/api/pet/%/ws',
    '/api/pet/%E0%A4%A/ws',
    'http://[zz]/api/pet/a/ws',
    '/api/pet/%00/ws',
    '',
    `/api/pet/${'a'.repeat(5000)}/ws`,
    '/api/pet/a/ws?token=%20x',
    '/api/pet/a/ws?after=%E0',
  ])('malformed target #%# is refused with a 4xx', (url) => {
    const parsed = parseUpgrade({ url });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect([400, 404]).toContain(parsed.status);
  });

  it('accepts the absolute form and an encoded id', () => {
    expect(parseUpgrade({ url: 'http://example.com/api/pet/a%2Db/ws?lang=en' })).toEqual({
      ok: true,
      call: { petId: 'a-b', token: null, after: null, lang: 'en' },
    });
  });
});

for (const backend of backends) {
  describe(`hostile realtime and social clients (${backend.name})`, () => {
    const make = () => {
      const storage = backend.make();
      drivers.push(storage);
      return storage;
    };
    const id = (label: string) => (backend.name === 'memory' ? label : uniqueId(label));

    it('strangers never take every event slot of a pet: per-address caps, and the owner always gets its stream', async () => {
      const { app } = createTestApp({ storage: make(), env: { TRUST_PROXY: 'true' } });
      const pet = id('slots');
      const { secret } = await readJson<{ secret: string }>(await app.request(`/api/pet/${pet}/claim`, { method: 'POST' }));
      const open: Response[] = [];
      const statuses: number[] = [];
      // 100 anonymous streams as measured: from one address, then spread over 25 (4 each) to fill the pet's 100.
      for (let i = 0; i < 100; i += 1) {
        const response = await app.request(`/api/pet/${pet}/events`, from('198.51.100.1'));
        statuses.push(response.status);
        if (response.status === 200) open.push(response);
        else await response.body?.cancel();
      }
      expect(statuses.filter((s) => s === 200)).toHaveLength(DEFAULT_STREAM_SLOT_LIMITS.perClientPerPet);
      expect(statuses.filter((s) => s === 429)).toHaveLength(100 - DEFAULT_STREAM_SLOT_LIMITS.perClientPerPet);
      for (let a = 2; open.length < 100; a += 1) {
        const response = await app.request(`/api/pet/${pet}/events`, from(`198.51.100.${a}`));
        if (response.status === 200) open.push(response);
        else {
          expect(response.status).toBe(503); // the pet's own cap (EVENTS_MAX_PER_PET) now
          await response.body?.cancel();
          break;
        }
      }
      expect(realtimeOf(app).hub.stats().subscribers).toBe(100);
      // The owner, from the strangers' own address, with its secret: a slot of its own.
      const owners = await app.request(`/api/pet/${pet}/events`, from('198.51.100.1', auth(secret)));
      expect(owners.status).toBe(200);
      await owners.body?.cancel();
      for (const response of open) await response.body?.cancel();
    });

    it('an SSE client that stops reading is ended past 1 MiB unsent, and its queue dropped', async () => {
      const { app } = createTestApp({ storage: make() });
      const pet = id('slow');
      expect((await app.request(`/api/pet/${pet}/state`)).status).toBe(200);
      const stream = await app.request(`/api/pet/${pet}/events`);
      expect(stream.status).toBe(200);
      const hub = realtimeOf(app).hub;
      expect(hub.stats().subscribers).toBe(1);
      // Never read: each interaction queues its event until the bound ends the stream.
      let sent = 0;
      while (hub.stats().subscribers > 0 && sent < 8000) {
        await Promise.all(
          Array.from({ length: 8 }, () => app.request(`/api/pet/${pet}/interact`, jsonRequest('POST', { action: 'greet' }))),
        );
        sent += 8;
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(hub.stats().subscribers).toBe(0);
      console.info(`sse slow reader (${backend.name}): ended after ${sent} events`);
      // 2 s later the unread queue is dropped: the body errors instead of handing out 1 MiB.
      await new Promise((resolve) => setTimeout(resolve, 2300));
      const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
      await expect(reader.read()).rejects.toThrow(/does not read/);
    }, 60_000);

    it('subscribing and event reads count in the client limit, event reads by how many events they read', async () => {
      const storage = make();
      const pet = id('weighted');
      // The pet's 250 events, made with no limits.
      const { app: setup } = createTestApp({ storage });
      for (let i = 0; i < 250; i += 1)
        expect((await setup.request(`/api/pet/${pet}/interact`, jsonRequest('POST', { action: 'greet' }))).status).toBe(200);
      const { app } = createTestApp({ storage, env: { TRUST_PROXY: 'true', RATE_LIMIT_PER_CLIENT: '6' } });
      const read = () => app.request(`/api/pet/${pet}/events?format=json`, from('203.0.113.9'));
      const first = await read();
      expect((await readJson<{ events: unknown[] }>(first)).events).toHaveLength(250);
      expect((await read()).status).toBe(200); // 3 + 3 units of 6
      const third = await read();
      expect(third.status).toBe(429);
      expect((await readJson<ErrorJson>(third)).error.code).toBe('rate_limited');
      // Subscribing counts too: another address, 6 streams, the 7th refused by the limit (not by a slot cap: other pets).
      const codes: number[] = [];
      for (let i = 0; i < 7; i += 1) {
        const response = await app.request(`/api/pet/${id(`sub${i}`)}/events`, from('203.0.113.10'));
        codes.push(response.status);
        await response.body?.cancel();
      }
      expect(codes).toEqual([200, 200, 200, 200, 200, 200, 429]);
    });

    it('the owner list counts one unit per pet listed', async () => {
      const { app } = createTestApp({ storage: make(), env: { TRUST_PROXY: 'true', RATE_LIMIT_PER_CLIENT: '10' } });
      const owner = await readJson<{ secret: string }>(await app.request('/api/owners', { method: 'POST' }));
      for (let i = 0; i < 5; i += 1) {
        expect((await app.request('/api/pets', jsonRequest('POST', { device_id: id(`list${i}`) }, auth(owner.secret)))).status).toBe(201);
      }
      const list = () => app.request('/api/owners/me/pets', from('203.0.113.20', auth(owner.secret)));
      expect((await list()).status).toBe(200); // 5 units
      expect((await list()).status).toBe(200); // 10
      expect((await list()).status).toBe(429);
    });

    it('nobody is made an owner without consent; owner ids are not in open events', async () => {
      const { app } = createTestApp({ storage: make(), env: { MAX_PETS_PER_OWNER: '20' } });
      const victim = await readJson<{ owner_id: string; secret: string }>(await app.request('/api/owners', { method: 'POST' }));
      const victimsPet = id('victim');
      expect((await app.request('/api/pets', jsonRequest('POST', { device_id: victimsPet }, auth(victim.secret)))).status).toBe(201);
      const opened = JSON.stringify(await readJson(await app.request(`/api/pet/${victimsPet}/events?format=json`)));
      expect(opened).not.toContain(victim.owner_id);
      expect(opened).not.toContain('own_');
      // The stranger offers it 19 pets of its own: offers only, nothing counted.
      const stranger = await readJson<{ secret: string }>(await app.request('/api/owners', { method: 'POST' }));
      for (let i = 0; i < 19; i += 1) {
        const pet = id(`bomb${i}`);
        expect((await app.request('/api/pets', jsonRequest('POST', { device_id: pet }, auth(stranger.secret)))).status).toBe(201);
        expect(
          (await app.request(`/api/pet/${pet}/owners`, jsonRequest('POST', { owner_id: victim.owner_id }, auth(stranger.secret)))).status,
        ).toBe(201);
      }
      const list = await readJson<{ pets: unknown[] }>(await app.request('/api/owners/me/pets', { headers: auth(victim.secret) }));
      expect(list.pets).toHaveLength(1);
      expect((await app.request('/api/pets', jsonRequest('POST', { device_id: id('mine2') }, auth(victim.secret)))).status).toBe(201);
    });

    it('a co-owner who left keeps no access: no claim of a pet with owners, no way back', async () => {
      const { app } = createTestApp({ storage: make() });
      const alice = await readJson<{ owner_id: string; secret: string }>(await app.request('/api/owners', { method: 'POST' }));
      const bob = await readJson<{ owner_id: string; secret: string }>(await app.request('/api/owners', { method: 'POST' }));
      const fam = id('fam');
      await app.request('/api/pets', jsonRequest('POST', { device_id: fam }, auth(alice.secret)));
      const offer = await readJson<{ code: string }>(
        await app.request(`/api/pet/${fam}/owners`, jsonRequest('POST', { owner_id: bob.owner_id }, auth(alice.secret))),
      );
      expect((await app.request('/api/owners/me/offers', jsonRequest('POST', { code: offer.code }, auth(bob.secret)))).status).toBe(200);
      const claim = await app.request(`/api/pet/${fam}/claim`, { method: 'POST', headers: auth(bob.secret) });
      expect(claim.status).toBe(409);
      // An offer bob makes lapses when he leaves.
      const bobsOffer = await readJson<{ code: string }>(
        await app.request(`/api/pet/${fam}/owners`, jsonRequest('POST', {}, auth(bob.secret))),
      );
      expect((await app.request(`/api/pet/${fam}/owners/me`, { method: 'DELETE', headers: auth(bob.secret) })).status).toBe(200);
      expect((await app.request(`/api/pet/${fam}/reset`, { method: 'POST', headers: auth(bob.secret) })).status).toBe(403);
      expect((await app.request(`/api/pet/${fam}/owners`, jsonRequest('POST', { owner_id: bob.owner_id }, auth(bob.secret)))).status).toBe(
        403,
      );
      expect((await app.request('/api/owners/me/offers', jsonRequest('POST', { code: bobsOffer.code }, auth(bob.secret)))).status).toBe(
        403,
      );
      expect((await app.request(`/api/pet/${fam}/interact`, jsonRequest('POST', { action: 'feed' }, auth(alice.secret)))).status).toBe(200);
    });

    it('who removes whom: no owner removes another; the admin token does, and the removed owner stream is closed', async () => {
      const admin = 'admin-token-for-the-hostile-realtime-test';
      const { app } = createTestApp({ storage: make(), env: { ADMIN_TOKEN: admin, READS_REQUIRE_AUTH: 'true' } });
      const alice = await readJson<{ owner_id: string; secret: string }>(await app.request('/api/owners', { method: 'POST' }));
      const bob = await readJson<{ owner_id: string; secret: string }>(await app.request('/api/owners', { method: 'POST' }));
      const fam = id('removal');
      await app.request('/api/pets', jsonRequest('POST', { device_id: fam }, auth(alice.secret)));
      const offer = await readJson<{ code: string }>(
        await app.request(`/api/pet/${fam}/owners`, jsonRequest('POST', {}, auth(alice.secret))),
      );
      expect((await app.request('/api/owners/me/offers', jsonRequest('POST', { code: offer.code }, auth(bob.secret)))).status).toBe(200);
      const remove = (ownerId: string, secret: string) =>
        app.request(`/api/pet/${fam}/owners/${ownerId}`, { method: 'DELETE', headers: auth(secret) });
      expect((await remove(alice.owner_id, bob.secret)).status).toBe(403);
      const bobsStream = await app.request(`/api/pet/${fam}/events`, { headers: auth(bob.secret) });
      expect(bobsStream.status).toBe(200);
      const read = readUntil(bobsStream, (text) => text.includes('event: error'), 5000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const removed = await remove(bob.owner_id, admin);
      expect(await readJson(removed)).toEqual({ device_id: fam, owners: [alice.owner_id] });
      await app.request(`/api/pet/${fam}/interact`, jsonRequest('POST', { action: 'feed' }, auth(alice.secret)));
      const text = await read;
      expect(text).toContain('event: error');
      expect(text).not.toContain('event: interacted');
      expect((await app.request(`/api/pet/${fam}/state`, { headers: auth(bob.secret) })).status).toBe(403);
      expect((await remove(bob.owner_id, admin)).status).toBe(404);
    });

    it('READS_REQUIRE_AUTH: no stream on a pet not stored; a stream is closed when a claim takes its access', async () => {
      const { app } = createTestApp({ storage: make(), env: { READS_REQUIRE_AUTH: 'true' } });
      const early = id('early');
      const refused = await app.request(`/api/pet/${early}/events`);
      expect(refused.status).toBe(404);
      await refused.body?.cancel();
      // A stranger's stream on an open pet, then the pet is claimed.
      const open = id('open');
      expect((await app.request(`/api/pet/${open}/state`)).status).toBe(200);
      const stream = await app.request(`/api/pet/${open}/events`);
      expect(stream.status).toBe(200);
      const read = readUntil(stream, (text) => text.includes('event: error'), 5000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const { secret } = await readJson<{ secret: string }>(await app.request(`/api/pet/${open}/claim`, { method: 'POST' }));
      await app.request(`/api/pet/${open}/interact`, jsonRequest('POST', { action: 'feed' }, auth(secret)));
      const text = await read;
      expect(text).toContain('event: error');
      expect(text).not.toContain('event: interacted');
      expect((await app.request(`/api/pet/${open}/state`)).status).toBe(401);
    });

    it('the friend limit holds under concurrent accepts of one pet invites: checked in the write that adds the friend', async () => {
      const { app } = createTestApp({ storage: make() });
      const hub = id('hub');
      await app.request(`/api/pet/${hub}/state`);
      const invite = async () =>
        (await readJson<{ code: string }>(await app.request(`/api/pet/${hub}/friends/invite`, { method: 'POST' }))).code;
      for (let i = 0; i < MAX_FRIENDS_PER_PET - 1; i += 1) {
        const pet = id(`f${i}`);
        await app.request(`/api/pet/${pet}/state`);
        expect((await app.request(`/api/pet/${pet}/friends`, jsonRequest('POST', { code: await invite() }))).status).toBe(201);
      }
      // One slot left, three accepts at once (each passes the read before its write).
      const late = [id('late0'), id('late1'), id('late2')];
      for (const pet of late) await app.request(`/api/pet/${pet}/state`);
      const codes = [await invite(), await invite(), await invite()];
      await Promise.all(late.map((pet, i) => app.request(`/api/pet/${pet}/friends`, jsonRequest('POST', { code: codes[i] }))));
      // Any read of a pet delivers what its outbox holds; then both sides agree.
      const friendsOf = async (pet: string) =>
        (await readJson<{ friends: { device_id: string }[] }>(await app.request(`/api/pet/${pet}/friends`))).friends.map(
          (f) => f.device_id,
        );
      await friendsOf(hub);
      const hubs = await friendsOf(hub);
      expect(hubs).toHaveLength(MAX_FRIENDS_PER_PET);
      for (const pet of late) expect((await friendsOf(pet)).includes(hub)).toBe(hubs.includes(pet));
    });

    it('a concurrent burst of accepts of one invite: one friendship; a failed accept leaves the code usable', async () => {
      const { app } = createTestApp({ storage: make() });
      const [a, b, c] = [id('fa'), id('fb'), id('fc')];
      for (const pet of [a, b, c]) await app.request(`/api/pet/${pet}/state`);
      const invite = await readJson<{ code: string }>(await app.request(`/api/pet/${a}/friends/invite`, { method: 'POST' }));
      // A refused accept (a pet cannot befriend itself) leaves the code usable.
      expect((await app.request(`/api/pet/${a}/friends`, jsonRequest('POST', { code: invite.code }))).status).toBe(400);
      const results = await Promise.all(
        [b, c].map((pet) => app.request(`/api/pet/${pet}/friends`, jsonRequest('POST', { code: invite.code }))),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 404]);
    });
  });
}
