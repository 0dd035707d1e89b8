/**
 * Owners and social (docs/design.md §8) over HTTP: owners, several pets, family pets, friends and visits, and the access
 * rules (401 without a secret, 403 with a wrong one) of every new route.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createOwners, type StateDocument } from '../../src/service/index.js';
import { clockedStorage, createTestApp, jsonRequest, MINUTE, readJson, T0, type ErrorJson, type TestApp } from './support.js';

const auth = (secret: string) => ({ Authorization: `Bearer ${secret}` });
type App = TestApp['app'];

async function newOwner(app: App): Promise<{ owner_id: string; secret: string }> {
  const response = await app.request('/api/owners', { method: 'POST' });
  expect(response.status).toBe(201);
  return readJson(response);
}

async function ownedPet(app: App, secret: string, id: string): Promise<void> {
  const response = await app.request('/api/pets', jsonRequest('POST', { device_id: id, pet_name: id }, auth(secret)));
  expect(response.status).toBe(201);
}

async function status(app: App, path: string, init?: RequestInit): Promise<number> {
  return (await app.request(path, init)).status;
}

async function code(app: App, path: string, init?: RequestInit): Promise<string> {
  return (await readJson<ErrorJson>(await app.request(path, init))).error.code;
}

async function befriend(app: App, a: string, aSecret: string, b: string, bSecret: string): Promise<void> {
  const invite = await app.request(`/api/pet/${a}/friends/invite`, { method: 'POST', headers: auth(aSecret) });
  expect(invite.status).toBe(201);
  const { code: inviteCode } = await readJson<{ code: string }>(invite);
  expect((await app.request(`/api/pet/${b}/friends`, jsonRequest('POST', { code: inviteCode }, auth(bSecret)))).status).toBe(201);
}

async function stateOf(app: App, id: string, secret: string): Promise<StateDocument> {
  return readJson<StateDocument>(await app.request(`/api/pet/${id}/state`, { headers: auth(secret) }));
}

async function eventTypes(app: App, id: string): Promise<string[]> {
  const body = await readJson<{ events: { type: string; data: Record<string, unknown> }[] }>(
    await app.request(`/api/pet/${id}/events?format=json`),
  );
  return body.events.map((event) => event.type);
}

describe('owners', () => {
  it('POST /api/owners answers an id and a secret once, storing only its hash under life_~owner:<id>', async () => {
    const { app, storage } = createTestApp();
    const owner = await newOwner(app);
    expect(owner.owner_id).toMatch(/^own_[A-Za-z0-9_-]{22}$/);
    expect(owner.secret.startsWith(`${owner.owner_id}.`)).toBe(true);
    const raw = storage.rawGet(`life_~owner:${owner.owner_id}`) ?? '';
    expect(raw).toContain(createHash('sha256').update(owner.secret).digest('hex'));
    expect(storage.keys().some((key) => (storage.rawGet(key) ?? '').includes(owner.secret))).toBe(false);
    expect((await newOwner(app)).owner_id).not.toBe(owner.owner_id);
  });

  it('an owner creates pets, lists them with their states, and its secret acts for each', async () => {
    const { app, storage } = createTestApp();
    const alice = await newOwner(app);
    const bob = await newOwner(app);
    await ownedPet(app, alice.secret, 'a1');
    await ownedPet(app, alice.secret, 'a2');
    const generated = await app.request('/api/pets', jsonRequest('POST', {}, auth(alice.secret)));
    expect(generated.status).toBe(201);
    const generatedId = (await readJson<StateDocument>(generated)).device_id;
    expect(JSON.parse(storage.rawGet('life_a1:meta') ?? '{}').owners).toEqual([alice.owner_id]);

    const list = await readJson<{ owner_id: string; pets: { device_id: string; pet_name: string; simplified_state: unknown }[] }>(
      await app.request('/api/owners/me/pets', { headers: auth(alice.secret) }),
    );
    expect(list.owner_id).toBe(alice.owner_id);
    expect(list.pets.map((pet) => pet.device_id)).toEqual(['a1', 'a2', generatedId]);
    expect(list.pets[0]).toMatchObject({ pet_name: 'a1', simplified_state: { current_state: expect.any(String) } });

    // Creating it again is a 409 that leaves it in the owner's list.
    expect(await code(app, '/api/pets', jsonRequest('POST', { device_id: 'a1' }, auth(alice.secret)))).toBe('already_exists');
    const again = await readJson<{ pets: { device_id: string }[] }>(
      await app.request('/api/owners/me/pets', { headers: auth(alice.secret) }),
    );
    expect(again.pets.map((pet) => pet.device_id)).toEqual(['a1', 'a2', generatedId]);
    // A pet with owners: 401 without a secret, 403 with another owner's, 200 with its owner's.
    expect(await status(app, '/api/pet/a1/interact', jsonRequest('POST', { action: 'feed' }))).toBe(401);
    expect(await status(app, '/api/pet/a1/interact', jsonRequest('POST', { action: 'feed' }, auth(bob.secret)))).toBe(403);
    expect(await status(app, '/api/pet/a1/interact', jsonRequest('POST', { action: 'feed' }, auth(alice.secret)))).toBe(200);
    // A forged secret with Alice's id is no owner's.
    const forged = `${alice.owner_id}.${'A'.repeat(43)}`;
    expect(await status(app, '/api/pet/a1/interact', jsonRequest('POST', { action: 'feed' }, auth(forged)))).toBe(403);
    expect(await status(app, '/api/pets', jsonRequest('POST', { device_id: 'x9' }, auth(forged)))).toBe(403);
    expect(storage.rawGet('life_x9:meta')).toBeNull();
  });

  it('POST /api/owners: at most 20 per hour per client address when per-client limits are on (429)', async () => {
    const { app } = createTestApp({ env: { RATE_LIMIT_PER_CLIENT: '300', TRUST_PROXY: 'true' } });
    const from = (address: string) => ({ method: 'POST', headers: { 'X-Forwarded-For': address } });
    for (let i = 0; i < 20; i += 1) expect(await status(app, '/api/owners', from('198.51.100.7'))).toBe(201);
    const refused = await app.request('/api/owners', from('198.51.100.7'));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(await status(app, '/api/owners', from('198.51.100.8'))).toBe(201);
  });

  it('GET /api/owners/me/pets: 401 without a secret, 403 with one that is no owner secret', async () => {
    const { app } = createTestApp();
    expect(await status(app, '/api/owners/me/pets')).toBe(401);
    expect(await status(app, '/api/owners/me/pets', { headers: auth('not-an-owner') })).toBe(403);
    expect(await status(app, '/api/owners/me/pets', { headers: auth(`own_${'a'.repeat(22)}.${'b'.repeat(43)}`) })).toBe(403);
  });

  it('adopts a claimed pet with its claim secret; the claim becomes ownership (its secret no longer opens the pet)', async () => {
    const { app } = createTestApp();
    const alice = await newOwner(app);
    const claim = await readJson<{ secret: string }>(await app.request('/api/pet/c1/claim', { method: 'POST' }));
    const adopt = (body: unknown, headers: Record<string, string>) =>
      app.request('/api/owners/me/pets', jsonRequest('POST', body, headers));
    expect((await adopt({ device_id: 'c1', secret: claim.secret }, {})).status).toBe(401);
    expect((await adopt({ device_id: 'c1', secret: claim.secret }, auth('nope'))).status).toBe(403);
    expect((await adopt({ device_id: 'c1', secret: 'wrong' }, auth(alice.secret))).status).toBe(403);
    expect((await adopt({ device_id: 'nobody', secret: 'x' }, auth(alice.secret))).status).toBe(404);
    await app.request('/api/pet/open1/state');
    expect((await adopt({ device_id: 'open1', secret: 'x' }, auth(alice.secret))).status).toBe(403);
    const adopted = await adopt({ device_id: 'c1', secret: claim.secret }, auth(alice.secret));
    expect(adopted.status).toBe(200);
    expect(await readJson(adopted)).toEqual({ device_id: 'c1', owners: [alice.owner_id] });
    const list = await readJson<{ pets: { device_id: string }[] }>(
      await app.request('/api/owners/me/pets', { headers: auth(alice.secret) }),
    );
    expect(list.pets.map((pet) => pet.device_id)).toEqual(['c1']);
    expect(await status(app, '/api/pet/c1/interact', jsonRequest('POST', { action: 'greet' }, auth(claim.secret)))).toBe(403);
    expect(await status(app, '/api/pet/c1/interact', jsonRequest('POST', { action: 'greet' }, auth(alice.secret)))).toBe(200);
    // Nor can it be claimed again while owners hold it.
    expect(await code(app, '/api/pet/c1/claim', jsonRequest('POST', {}, auth(alice.secret)))).toBe('already_claimed');
  });

  it('family pets: an owner offers the pet, the other accepts, both act, one leaves; 401/403 on every route', async () => {
    const { app } = createTestApp();
    const alice = await newOwner(app);
    const bob = await newOwner(app);
    const carol = await newOwner(app);
    await ownedPet(app, alice.secret, 'fam');
    const add = (body: unknown, headers: Record<string, string>) => app.request('/api/pet/fam/owners', jsonRequest('POST', body, headers));
    expect((await add({ owner_id: bob.owner_id }, {})).status).toBe(401);
    expect((await add({ owner_id: bob.owner_id }, auth(carol.secret))).status).toBe(403);
    expect((await add({ owner_id: `own_${'z'.repeat(22)}` }, auth(alice.secret))).status).toBe(404);
    expect((await add({ owner_id: 'bad' }, auth(alice.secret))).status).toBe(400);
    const offered = await add({ owner_id: bob.owner_id }, auth(alice.secret));
    expect(offered.status).toBe(201);
    const offer = await readJson<{ code: string; device_id: string }>(offered);
    expect(offer.device_id).toBe('fam');
    // Nothing changes before the accept; only the named owner may accept, with its own secret.
    expect(await status(app, '/api/pet/fam/interact', jsonRequest('POST', { action: 'play' }, auth(bob.secret)))).toBe(403);
    const accept = (body: unknown, headers: Record<string, string>) =>
      app.request('/api/owners/me/offers', jsonRequest('POST', body, headers));
    expect((await accept({ code: offer.code }, {})).status).toBe(401);
    expect((await accept({ code: offer.code }, auth(carol.secret))).status).toBe(403);
    expect((await accept({ code: 'bad' }, auth(bob.secret))).status).toBe(400);
    const accepted = await accept({ code: offer.code }, auth(bob.secret));
    expect(await readJson(accepted)).toEqual({ device_id: 'fam', owners: [alice.owner_id, bob.owner_id] });
    expect((await accept({ code: offer.code }, auth(bob.secret))).status).toBe(404); // one use
    expect(await status(app, '/api/pet/fam/interact', jsonRequest('POST', { action: 'play' }, auth(bob.secret)))).toBe(200);
    const bobs = await readJson<{ pets: { device_id: string }[] }>(await app.request('/api/owners/me/pets', { headers: auth(bob.secret) }));
    expect(bobs.pets.map((pet) => pet.device_id)).toEqual(['fam']);

    const leave = (headers: Record<string, string>) => app.request('/api/pet/fam/owners/me', { method: 'DELETE', headers });
    expect((await leave({})).status).toBe(401);
    expect((await leave(auth(carol.secret))).status).toBe(403);
    expect((await leave(auth('not-an-owner'))).status).toBe(403);
    expect(await readJson(await leave(auth(bob.secret)))).toEqual({ device_id: 'fam', owners: [alice.owner_id] });
    expect(await status(app, '/api/pet/fam/interact', jsonRequest('POST', { action: 'play' }, auth(bob.secret)))).toBe(403);
    const after = await readJson<{ pets: unknown[] }>(await app.request('/api/owners/me/pets', { headers: auth(bob.secret) }));
    expect(after.pets).toEqual([]);
    expect(await eventTypes(app, 'fam')).toEqual(expect.arrayContaining(['created', 'owner_added', 'owner_left']));
  });

  it('a corrupt owned pet can be reset only by its owners (or the admin token), and keeps its owners', async () => {
    const { app, storage } = createTestApp();
    const alice = await newOwner(app);
    const bob = await newOwner(app);
    await ownedPet(app, alice.secret, 'cor');
    storage.rawSet('life_cor:energy', 'not json');
    expect(await code(app, '/api/pet/cor/state', { headers: auth(alice.secret) })).toBe('corrupt_state');
    expect(await status(app, '/api/pet/cor/reset', { method: 'POST' })).toBe(401);
    expect(await status(app, '/api/pet/cor/reset', { method: 'POST', headers: auth(bob.secret) })).toBe(403);
    expect(await status(app, '/api/pet/cor/reset', { method: 'POST', headers: auth(alice.secret) })).toBe(200);
    expect(JSON.parse(storage.rawGet('life_cor:meta') ?? '{}').owners).toEqual([alice.owner_id]);
    expect(await status(app, '/api/pet/cor/interact', jsonRequest('POST', { action: 'feed' }, auth(bob.secret)))).toBe(403);
  });

  it('limits: MAX_PETS_PER_OWNER and MAX_OWNERS_PER_PET answer 409 limit_reached and change nothing', async () => {
    const { app, storage } = createTestApp({ env: { MAX_PETS_PER_OWNER: '2', MAX_OWNERS_PER_PET: '2' } });
    const alice = await newOwner(app);
    await ownedPet(app, alice.secret, 'l1');
    await ownedPet(app, alice.secret, 'l2');
    expect(await code(app, '/api/pets', jsonRequest('POST', { device_id: 'l3' }, auth(alice.secret)))).toBe('limit_reached');
    expect(storage.rawGet('life_l3:meta')).toBeNull();
    const bob = await newOwner(app);
    const carol = await newOwner(app);
    const offerTo = async (ownerId: string) =>
      (
        await readJson<{ code: string }>(
          await app.request('/api/pet/l1/owners', jsonRequest('POST', { owner_id: ownerId }, auth(alice.secret))),
        )
      ).code;
    const acceptAs = (secret: string, offerCode: string) =>
      app.request('/api/owners/me/offers', jsonRequest('POST', { code: offerCode }, auth(secret)));
    expect((await acceptAs(bob.secret, await offerTo(bob.owner_id))).status).toBe(200);
    const carolsOffer = await offerTo(carol.owner_id);
    expect(await code(app, '/api/owners/me/offers', jsonRequest('POST', { code: carolsOffer }, auth(carol.secret)))).toBe('limit_reached');
    // The failed accept left the code usable: once bob leaves, carol's accept succeeds.
    expect(await status(app, '/api/pet/l1/owners/me', { method: 'DELETE', headers: auth(bob.secret) })).toBe(200);
    expect((await acceptAs(carol.secret, carolsOffer)).status).toBe(200);
    expect(await status(app, '/api/pet/l1/owners/me', { method: 'DELETE', headers: auth(carol.secret) })).toBe(200);
    // The refused owner's index was taken back.
    const carols = await readJson<{ pets: unknown[] }>(await app.request('/api/owners/me/pets', { headers: auth(carol.secret) }));
    expect(carols.pets).toEqual([]);
    expect(storage.rawGet(`life_~owner:${carol.owner_id}`)).toContain('"pets":[]');
  });

  it('repairs a crash between the index write and the pet write: listing hides the entry and prunes it after the grace period', async () => {
    const { clock, storage } = clockedStorage();
    const { app } = createTestApp({ storage, clock });
    const alice = await newOwner(app);
    await ownedPet(app, alice.secret, 'real');
    // The index write of a creation whose process died before the pet's write.
    await createOwners({ storage, clock }).addPet(alice.owner_id, 'ghost');
    const list = async () =>
      (await readJson<{ pets: { device_id: string }[] }>(await app.request('/api/owners/me/pets', { headers: auth(alice.secret) }))).pets;
    expect((await list()).map((pet) => pet.device_id)).toEqual(['real']);
    expect(storage.rawGet(`life_~owner:${alice.owner_id}`)).toContain('ghost'); // still in flight, maybe
    clock.advance(2 * MINUTE);
    expect((await list()).map((pet) => pet.device_id)).toEqual(['real']);
    expect(storage.rawGet(`life_~owner:${alice.owner_id}`)).not.toContain('ghost');
    // The retry of that creation completes it.
    await ownedPet(app, alice.secret, 'ghost');
    expect((await list()).map((pet) => pet.device_id)).toEqual(['real', 'ghost']);
  });
});

describe('friends', () => {
  it('invite, accept (one use), list with states on both sides, befriended events, delete on both sides', async () => {
    const { app } = createTestApp();
    const alice = await newOwner(app);
    const bob = await newOwner(app);
    await ownedPet(app, alice.secret, 'fa');
    await ownedPet(app, bob.secret, 'fb');
    const invite = await app.request('/api/pet/fa/friends/invite', { method: 'POST', headers: auth(alice.secret) });
    expect(invite.status).toBe(201);
    const { code: inviteCode, expires_at } = await readJson<{ code: string; expires_at: string }>(invite);
    expect(Date.parse(expires_at)).toBe(T0 + 24 * 3_600_000);
    // A stranger cannot use up the code.
    expect(await status(app, '/api/pet/fb/friends', jsonRequest('POST', { code: inviteCode }))).toBe(401);
    expect(await status(app, '/api/pet/fb/friends', jsonRequest('POST', { code: inviteCode }, auth(alice.secret)))).toBe(403);
    const accepted = await app.request('/api/pet/fb/friends', jsonRequest('POST', { code: inviteCode }, auth(bob.secret)));
    expect(accepted.status).toBe(201);
    expect(await readJson(accepted)).toMatchObject({ device_id: 'fa', familiarity: 0, last_visit: null });
    expect(await code(app, '/api/pet/fb/friends', jsonRequest('POST', { code: inviteCode }, auth(bob.secret)))).toBe('not_found');

    for (const [id, other, secret] of [
      ['fa', 'fb', alice.secret],
      ['fb', 'fa', bob.secret],
    ] as const) {
      const list = await readJson<{ friends: { device_id: string; simplified_state: unknown }[] }>(
        await app.request(`/api/pet/${id}/friends`, { headers: auth(secret) }),
      );
      expect(list.friends.map((friend) => friend.device_id)).toEqual([other]);
      expect(list.friends[0]?.simplified_state).toMatchObject({ current_state: expect.any(String) });
      expect(await eventTypes(app, id)).toContain('befriended');
    }

    expect(await status(app, '/api/pet/fa/friends/fb', { method: 'DELETE' })).toBe(401);
    expect(await status(app, '/api/pet/fa/friends/fb', { method: 'DELETE', headers: auth(bob.secret) })).toBe(403);
    expect(await status(app, '/api/pet/fa/friends/fb', { method: 'DELETE', headers: auth(alice.secret) })).toBe(200);
    for (const [id, secret] of [
      ['fa', alice.secret],
      ['fb', bob.secret],
    ] as const) {
      const list = await readJson<{ friends: unknown[] }>(await app.request(`/api/pet/${id}/friends`, { headers: auth(secret) }));
      expect(list.friends).toEqual([]);
    }
    expect(await code(app, '/api/pet/fa/friends/fb', { method: 'DELETE', headers: auth(alice.secret) })).toBe('not_friends');
  });

  it('access on invite and list: 401/403 on a pet with owners (lists too when READS_REQUIRE_AUTH is on)', async () => {
    const { app } = createTestApp({ env: { READS_REQUIRE_AUTH: 'true' } });
    const alice = await newOwner(app);
    const bob = await newOwner(app);
    await ownedPet(app, alice.secret, 'ia');
    expect(await status(app, '/api/pet/ia/friends/invite', { method: 'POST' })).toBe(401);
    expect(await status(app, '/api/pet/ia/friends/invite', { method: 'POST', headers: auth(bob.secret) })).toBe(403);
    expect(await status(app, '/api/pet/ia/friends')).toBe(401);
    expect(await status(app, '/api/pet/ia/friends', { headers: auth(bob.secret) })).toBe(403);
    expect(await status(app, '/api/pet/ia/friends', { headers: auth(alice.secret) })).toBe(200);
    expect(await status(app, '/api/pet/nobody/friends/invite', { method: 'POST' })).toBe(404);
    // The event log of an owned pet, with READS_REQUIRE_AUTH: its owner's secret opens it.
    expect(await status(app, '/api/pet/ia/events?format=json')).toBe(401);
    expect(await status(app, '/api/pet/ia/events?format=json', { headers: auth(bob.secret) })).toBe(403);
    expect(await status(app, '/api/pet/ia/events?format=json', { headers: auth(alice.secret) })).toBe(200);
    expect(await code(app, '/api/pet/ia/friends', jsonRequest('POST', { code: 'short' }, auth(alice.secret)))).toBe('invalid_body');
  });
});

describe('visits', () => {
  it('a visit counts on both pets once, logs visited on both, and an Idempotency-Key replay applies nothing', async () => {
    const { app, clock } = createTestApp();
    const alice = await newOwner(app);
    const bob = await newOwner(app);
    await ownedPet(app, alice.secret, 'va');
    await ownedPet(app, bob.secret, 'vb');
    await ownedPet(app, bob.secret, 'vc');
    expect(await code(app, '/api/pet/va/visit', jsonRequest('POST', { friend_id: 'vc' }, auth(alice.secret)))).toBe('not_friends');
    await befriend(app, 'va', alice.secret, 'vb', bob.secret);
    clock.advance(MINUTE);

    expect(await status(app, '/api/pet/va/visit', jsonRequest('POST', { friend_id: 'vb' }))).toBe(401);
    expect(await status(app, '/api/pet/va/visit', jsonRequest('POST', { friend_id: 'vb' }, auth(bob.secret)))).toBe(403);
    const key = { 'Idempotency-Key': 'visit-1', ...auth(alice.secret) };
    const first = await app.request('/api/pet/va/visit', jsonRequest('POST', { friend_id: 'vb' }, key));
    expect(first.status).toBe(200);
    const visit = await readJson<{ visit_id: string; outcome: string; visits: number; familiarity: number }>(first);
    expect(visit).toMatchObject({ visit_id: 'va:1', visits: 1 });
    const replay = await app.request('/api/pet/va/visit', jsonRequest('POST', { friend_id: 'vb' }, key));
    expect(replay.headers.get('Idempotent-Replayed')).toBe('true');
    expect(await readJson(replay)).toEqual(visit);

    expect((await stateOf(app, 'va', alice.secret)).stats.visits).toBe(1);
    expect((await stateOf(app, 'vb', bob.secret)).stats.visits).toBe(1);
    expect((await eventTypes(app, 'va')).filter((type) => type === 'visited')).toHaveLength(1);
    expect((await eventTypes(app, 'vb')).filter((type) => type === 'visited')).toHaveLength(1);
    // The friend's list shows the familiarity the visit left.
    const list = await readJson<{ friends: { familiarity: number; last_visit: string | null }[] }>(
      await app.request('/api/pet/vb/friends', { headers: auth(bob.secret) }),
    );
    expect(list.friends[0]?.familiarity).toBe(visit.familiarity);
    expect(list.friends[0]?.last_visit).not.toBeNull();
    // And the other way.
    expect(await status(app, '/api/pet/vb/visit', jsonRequest('POST', { friend_id: 'va' }, auth(bob.secret)))).toBe(200);
    expect((await stateOf(app, 'va', alice.secret)).stats.visits).toBe(2);
    expect((await stateOf(app, 'vb', bob.secret)).stats.visits).toBe(2);
    expect(await code(app, '/api/pet/va/visit', jsonRequest('POST', { friend_id: 'va' }, auth(alice.secret)))).toBe('invalid_body');
  });
});
