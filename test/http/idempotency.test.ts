/**
 * Retries (docs/reliability.md): POST interact, catchup, reset and the compatibility POSTs take an
 * Idempotency-Key; a repeat answers the first answer and applies nothing again.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { StateDocument } from '../../src/service/index.js';
import { decodeStoredAnswer } from '../../src/service/pets/idempotency.js';
import { createMemoryStorage, type MemoryStore } from '../../src/storage/index.js';
import { clockedStorage, createTestApp, HOUR, jsonRequest, MINUTE, readJson, type CompatJson, type ErrorJson } from './support.js';

const key = (value: string) => ({ 'Idempotency-Key': value });
const feed = (idempotencyKey: string, action = 'feed') => jsonRequest('POST', { action }, key(idempotencyKey));
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function feedsOf(app: ReturnType<typeof createTestApp>['app'], id: string): Promise<number> {
  return (await readJson<StateDocument>(await app.request(`/api/pet/${id}/state`))).stats.feed;
}

describe('Idempotency-Key on POST /api/pet/{device_id}/interact', () => {
  it('answers a repeat with the first answer, marked Idempotent-Replayed, and applies nothing again', async () => {
    const { app, clock } = createTestApp();
    const first = await app.request('/api/pet/p1/interact', feed('order-1'));
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const firstText = await first.text();
    expect((JSON.parse(firstText) as StateDocument).stats.feed).toBe(1);

    clock.advance(5 * MINUTE);
    const repeat = await app.request('/api/pet/p1/interact', feed('order-1'));
    expect(repeat.status).toBe(200);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(repeat.headers.get('content-type')).toMatch(/application\/json/);
    expect(await repeat.text()).toBe(firstText);
    expect(await feedsOf(app, 'p1')).toBe(1);
  });

  it('treats the same JSON written differently as the same request', async () => {
    const { app } = createTestApp();
    await app.request('/api/pet/p1/interact', feed('k'));
    const spaced = await app.request('/api/pet/p1/interact', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Idempotency-Key': 'k' },
      body: '{ "action" :  "feed" }',
    });
    expect(spaced.headers.get('idempotent-replayed')).toBe('true');
    // The draft's structured-field form "k" is the same key as k.
    const quoted = await app.request('/api/pet/p1/interact', feed('"k"'));
    expect(quoted.headers.get('idempotent-replayed')).toBe('true');
    expect(await feedsOf(app, 'p1')).toBe(1);
  });

  it('refuses the same key with another body or on another route with 422 idempotency_conflict, applying nothing', async () => {
    const { app } = createTestApp();
    await app.request('/api/pet/p1/interact', feed('k1'));
    const otherBody = await app.request('/api/pet/p1/interact', feed('k1', 'play'));
    expect(otherBody.status).toBe(422);
    expect((await readJson<ErrorJson>(otherBody)).error.code).toBe('idempotency_conflict');
    const otherRoute = await app.request('/api/pet/p1/catchup', jsonRequest('POST', { hours: 1 }, key('k1')));
    expect(otherRoute.status).toBe(422);
    const compatRoute = await app.request('/api/pet/feed', jsonRequest('POST', { device_id: 'p1' }, key('k1')));
    expect(compatRoute.status).toBe(422);
    expect((await readJson<CompatJson<unknown>>(compatRoute)).error?.code).toBe('idempotency_conflict');
    const state = await readJson<StateDocument>(await app.request('/api/pet/p1/state'));
    expect(state.stats).toEqual({ feed: 1, play: 0, greet: 0 });
    expect(state.version).toBe(1);
  });

  it('keeps keys per pet: the same key on another pet is another request', async () => {
    const { app } = createTestApp();
    await app.request('/api/pet/p1/interact', feed('shared'));
    const other = await app.request('/api/pet/p2/interact', feed('shared'));
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(await feedsOf(app, 'p2')).toBe(1);
  });

  it('counts concurrent repeats once in one process: all answers equal, one of them fresh', async () => {
    const { app } = createTestApp();
    const responses = await Promise.all(Array.from({ length: 20 }, () => app.request('/api/pet/busy/interact', feed('same'))));
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    const bodies = await Promise.all(responses.map((response) => response.text()));
    expect(new Set(bodies).size).toBe(1);
    expect(responses.filter((response) => response.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    expect(await feedsOf(app, 'busy')).toBe(1);
  });

  it('counts concurrent repeats once across two instances on one storage (the compare-and-set loser replays)', async () => {
    const store: MemoryStore = new Map();
    const one = createTestApp({ storage: createMemoryStorage({ store }) });
    const two = createTestApp({ storage: createMemoryStorage({ store }) });
    await one.app.request('/api/pet/shared/state');
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? one.app : two.app).request('/api/pet/shared/interact', feed('twice'))),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    const bodies = await Promise.all(responses.map((response) => response.text()));
    expect(new Set(bodies).size).toBe(1);
    expect(responses.filter((response) => response.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    expect(await feedsOf(one.app, 'shared')).toBe(1);
    expect(await feedsOf(two.app, 'shared')).toBe(1);
  });

  it('remembers a key for 24 hours (the memory driver on the same fake clock), then forgets it', async () => {
    const { clock, storage } = clockedStorage();
    const { app } = createTestApp({ storage, clock });
    await app.request('/api/pet/p1/interact', feed('daily'));
    clock.advance(24 * HOUR - 1000);
    expect((await app.request('/api/pet/p1/interact', feed('daily'))).headers.get('idempotent-replayed')).toBe('true');
    clock.advance(1000);
    const later = await app.request('/api/pet/p1/interact', feed('daily'));
    expect(later.headers.get('idempotent-replayed')).toBeNull();
    expect((await readJson<StateDocument>(later)).stats.feed).toBe(2);
  });

  it('stores the first answer as life_<id>:idem:<sha256 of the key> in the same compare-and-set, for 24 h', async () => {
    const { clock, storage } = clockedStorage();
    const { app } = createTestApp({ storage, clock });
    await app.request('/api/pet/p1/state');
    const trips = storage.roundTrips();
    const first = await app.request('/api/pet/p1/interact', feed('abc'));
    // One load and one compare-and-set, record included.
    expect(storage.roundTrips() - trips).toBe(2);
    const recordKey = `life_p1:idem:${sha256('abc')}`;
    expect(storage.keys()).toContain(recordKey);
    expect(storage.keys().some((name) => name.includes('abc'))).toBe(false);
    expect(storage.pttl(recordKey)).toBe(24 * HOUR);
    // Stored compressed (a state document is well over COMPRESS_ABOVE characters).
    const stored = storage.rawGet(recordKey) ?? '';
    expect(stored.startsWith('z')).toBe(true);
    const record = decodeStoredAnswer(recordKey, stored);
    expect(record).toEqual({ fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/), status: 200, body: await first.json() });

    // A replay is one read and no write.
    const before = storage.keys().map((name) => storage.rawGet(name));
    const replayTrips = storage.roundTrips();
    await app.request('/api/pet/p1/interact', feed('abc'));
    expect(storage.roundTrips() - replayTrips).toBe(1);
    expect(storage.keys().map((name) => storage.rawGet(name))).toEqual(before);
  });

  it('stores a typical keyed answer compressed (measured for docs/storage.md)', async () => {
    const { storage } = createTestApp();
    const { app } = createTestApp({ storage });
    const response = await app.request('/api/pet/p1/interact', feed('measure'));
    const text = await response.text();
    const recordKey = `life_p1:idem:${sha256('measure')}`;
    const stored = storage.rawGet(recordKey) ?? '';
    const plain = Buffer.byteLength(JSON.stringify(decodeStoredAnswer(recordKey, stored)));
    const body = Buffer.byteLength(text);
    console.info(`[idempotency] keyed answer: body ${body} B; record ${plain} B as JSON, ${stored.length} B stored`);
    expect(stored.length).toBeLessThan(plain * 0.4);
  });

  it('refuses a malformed key with 400 invalid_idempotency_key before touching the pet', async () => {
    const { app, storage } = createTestApp();
    for (const bad of ['', ' ', 'a b', 'x'.repeat(256), 'caf\u00e9']) {
      const response = await app.request('/api/pet/p1/interact', feed(bad));
      expect(response.status, JSON.stringify(bad)).toBe(400);
      expect((await readJson<ErrorJson>(response)).error.code).toBe('invalid_idempotency_key');
    }
    expect(storage.keys()).toEqual([]);
    expect((await app.request('/api/pet/p1/interact', feed('x'.repeat(255)))).status).toBe(200);
  });

  it('does not store failed requests: a key whose first use failed can be used again', async () => {
    const { app } = createTestApp();
    expect((await app.request('/api/pet/p1/interact', feed('retry-me', 'dance'))).status).toBe(400);
    const ok = await app.request('/api/pet/p1/interact', feed('retry-me'));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('idempotent-replayed')).toBeNull();
  });
});

describe('Idempotency-Key on the other POSTs', () => {
  it('catches up once on catchup', async () => {
    const { app } = createTestApp();
    const first = await readJson<StateDocument>(await app.request('/api/pet/p1/catchup', jsonRequest('POST', { hours: 6 }, key('c'))));
    const repeat = await app.request('/api/pet/p1/catchup', jsonRequest('POST', { hours: 6 }, key('c')));
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    const state = await readJson<StateDocument>(await app.request('/api/pet/p1/state'));
    expect(state.pet_time).toBe(first.pet_time);
  });

  it('resets once on reset', async () => {
    const { app } = createTestApp();
    await app.request('/api/pet/p1/interact', feed('f1'));
    await app.request('/api/pet/p1/reset', { method: 'POST', headers: key('r') });
    await app.request('/api/pet/p1/interact', feed('f2'));
    const repeat = await app.request('/api/pet/p1/reset', { method: 'POST', headers: key('r') });
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(await feedsOf(app, 'p1')).toBe(1);
  });

  it('replays the compatibility envelope exactly, timestamp included', async () => {
    const { app, clock } = createTestApp();
    const request = () => app.request('/api/pet/interact', jsonRequest('POST', { device_id: 'c1', action: 'feed' }, key('compat')));
    const first = await (await request()).text();
    clock.advance(MINUTE);
    const repeat = await request();
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(await repeat.text()).toBe(first);
    for (const path of ['/api/pet/feed', '/api/pet/catchup?device_id=c2&hours=2', '/api/debug/reset?device_id=c3']) {
      const body = path === '/api/pet/feed' ? { device_id: 'c4' } : undefined;
      const send = () =>
        app.request(path, body ? jsonRequest('POST', body, key(`k-${path}`)) : { method: 'POST', headers: key(`k-${path}`) });
      const once = await send();
      expect(once.status, path).toBe(200);
      const twice = await send();
      expect(twice.headers.get('idempotent-replayed'), path).toBe('true');
      expect(await twice.text()).toBe(await once.text());
    }
    expect(await feedsOf(app, 'c4')).toBe(1);
  });

  it('ignores the header on reads and on claim (a claim answer holds a secret and is never stored)', async () => {
    const { app, storage } = createTestApp();
    expect((await app.request('/api/pet/p1/state', { headers: key('read') })).status).toBe(200);
    expect((await app.request('/api/pet/p1/claim', { method: 'POST', headers: key('claim') })).status).toBe(201);
    expect((await app.request('/api/pet/p1/claim', { method: 'POST', headers: key('claim') })).status).toBe(401);
    expect(storage.keys().filter((name) => name.includes(':idem:'))).toEqual([]);
  });
});
