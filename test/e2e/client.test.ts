/**
 * pet-life/client against the real built server (`node dist/src/main.js`), on files and on Redis:
 * typed calls, a change whose answer is lost retried with its Idempotency-Key and applied once,
 * refusals as PetLifeError with the wire code, the Bearer secret, watch() over the stream (resumed
 * from the last event id) and over polling, and the built `pet-life/client` export loaded by plain Node.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPetLifeClient, type PetEvent, PetLifeError, type Watch } from '../../src/client/index.js';
import { testRedisUrl, uniqueId } from '../helpers/redis.js';
import { ensureServerBuilt, PROJECT_ROOT, startServersPerTest } from '../helpers/server-process.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'pet-life-client-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
// Compiles dist/src when src is newer, before the first test's clock starts.
beforeAll(() => ensureServerBuilt(), 180_000);
const start = startServersPerTest({ RATE_LIMIT_PER_PET: '0', RATE_LIMIT_PER_CLIENT: '0' });

const BACKENDS: Array<[string, Record<string, string> | null]> = [
  ['files', { STORAGE: 'file', DATA_DIR: dataDir }],
  ['Redis', testRedisUrl ? { STORAGE: 'redis', REDIS_URL: testRedisUrl } : null],
];

async function until<T>(read: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Collects a watch's events; `count(n)` waits until n have come. */
function collector() {
  const events: PetEvent[] = [];
  const errors: unknown[] = [];
  return {
    events,
    errors,
    onEvent: (event: PetEvent) => void events.push(event),
    onError: (error: unknown) => void errors.push(error),
    count: (n: number) => until(() => (events.length >= n ? events : undefined)),
  };
}

for (const [backend, env] of BACKENDS) {
  describe.skipIf(env === null)(`pet-life/client on ${backend}`, () => {
    it('creates, reads and feeds a pet with typed calls; a lost answer is retried once, with its key', async () => {
      const server = await start(env ?? {});
      const posts: Array<string | null> = [];
      let loseNext = true;
      // The first interact reaches the server but its answer is lost, as on a dropped connection.
      const lossy: typeof fetch = async (input, init) => {
        const request = new Request(input, init);
        if (request.method !== 'POST') return fetch(request);
        posts.push(request.headers.get('idempotency-key'));
        const response = await fetch(request);
        if (loseNext && new URL(request.url).pathname.endsWith('/interact')) {
          loseNext = false;
          throw new TypeError('fetch failed');
        }
        return response;
      };
      const client = createPetLifeClient({ baseUrl: server.url, fetch: lossy, retry: { baseDelayMs: 10 } });
      const id = uniqueId('client');
      const born = await client.createPet({ device_id: id, pet_name: 'Mochi', timezone: 'Europe/Paris' }, 'en');
      expect(born).toMatchObject({ device_id: id, pet_name: 'Mochi', timezone: 'Europe/Paris' });
      const fed = await client.interact(id, 'feed', { lang: 'en' });
      expect(posts).toHaveLength(3);
      expect(posts[1]).toBe(posts[2]);
      expect(posts[0]).not.toBe(posts[1]);
      // Applied once although sent twice.
      expect(fed.stats?.feed).toBe(1);
      expect((await client.state(id)).stats?.feed).toBe(1);
      const forecast = await client.forecast(id, 2);
      expect(forecast.points.length).toBeGreaterThan(0);
    });

    it('throws refusals as PetLifeError with the wire code and sends the Bearer secret', async () => {
      const server = await start(env ?? {});
      const anonymous = createPetLifeClient({ baseUrl: server.url });
      const refused = await anonymous.interact('bad id!', 'feed').catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(PetLifeError);
      expect(refused).toMatchObject({ status: 400, code: 'invalid_device_id' });
      const action = await anonymous.interact(uniqueId('client'), 'dance' as 'feed').catch((error: unknown) => error);
      expect(action).toMatchObject({ status: 400, code: 'invalid_action' });

      const { data: owner } = await anonymous.POST('/api/owners');
      expect(owner?.secret).toBeTruthy();
      await expect(anonymous.GET('/api/owners/me/pets')).rejects.toMatchObject({ status: 401 });
      const owned = createPetLifeClient({ baseUrl: server.url, secret: () => owner?.secret });
      const id = uniqueId('owned');
      await owned.createPet({ device_id: id });
      const { data: mine } = await owned.GET('/api/owners/me/pets');
      expect(mine?.pets.map((pet) => pet.device_id)).toEqual([id]);
    });

    it('watches events over the stream, and resumes after the last event id', async () => {
      const server = await start(env ?? {});
      const client = createPetLifeClient({ baseUrl: server.url });
      const id = uniqueId('watched');
      await client.createPet({ device_id: id });
      const first = collector();
      const modes: string[] = [];
      const watch: Watch = client.watch(id, { ...first, onMode: (mode) => void modes.push(mode) });
      await until(() => (modes.includes('sse') ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, 200)); // the subscription is in place
      await client.interact(id, 'feed');
      await client.interact(id, 'play');
      const seen = await first.count(2);
      expect(seen.map((event) => [event.type, event.data['action']])).toEqual([
        ['interacted', 'feed'],
        ['interacted', 'play'],
      ]);
      expect(watch.lastEventId).toBe(seen[1]?.id);
      watch.close();

      // Missed while nobody watched: handed over on resuming, each once, then live ones.
      await client.interact(id, 'greet');
      const second = collector();
      const resumed = client.watch(id, { ...second, after: seen[1]?.id ?? '' });
      expect((await second.count(1)).map((event) => event.data['action'])).toEqual(['greet']);
      await client.interact(id, 'feed');
      expect((await second.count(2)).map((event) => event.data['action'])).toEqual(['greet', 'feed']);
      resumed.close();
      expect(first.errors).toEqual([]);
    });

    it('ends a watch the server refuses for good, saying so once', async () => {
      const server = await start(env ?? {});
      const client = createPetLifeClient({ baseUrl: server.url });
      const failures: Array<[unknown, boolean]> = [];
      client.watch('bad id!', { onEvent: () => undefined, onError: (error, closed) => void failures.push([error, closed]) });
      const [error, closed] = await until(() => failures[0]);
      expect(closed).toBe(true);
      expect(error).toMatchObject({ status: 400, code: 'invalid_device_id' });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(failures).toHaveLength(1);
    });

    it('falls back to polling ?format=json when the stream keeps failing', async () => {
      const server = await start(env ?? {});
      const id = uniqueId('polled');
      // A network that lets JSON through but breaks every event stream.
      const noStreams: typeof fetch = async (input, init) => {
        const request = new Request(input, init);
        if (request.headers.get('accept') === 'text/event-stream') throw new TypeError('stream blocked');
        return fetch(request);
      };
      const client = createPetLifeClient({ baseUrl: server.url, fetch: noStreams });
      await client.createPet({ device_id: id });
      const events = collector();
      const modes: string[] = [];
      const watch = client.watch(id, { ...events, streamFailures: 2, pollIntervalMs: 100, onMode: (mode) => void modes.push(mode) });
      await until(() => (modes.includes('poll') ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, 250)); // the first poll has found "now"
      await client.interact(id, 'feed');
      await client.interact(id, 'greet');
      expect((await events.count(2)).map((event) => event.data['action'])).toEqual(['feed', 'greet']);
      watch.close();
      expect(events.errors.length).toBeGreaterThanOrEqual(2);
    });
  });
}

describe('the pet-life/client export', () => {
  it('is built ESM that plain Node loads by the package name, and works', async () => {
    const server = await start({ STORAGE: 'file', DATA_DIR: dataDir });
    execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.client.json'], {
      cwd: PROJECT_ROOT,
    });
    const script = `
      import { createPetLifeClient, PetLifeError } from 'pet-life/client';
      const client = createPetLifeClient({ baseUrl: process.argv[1] });
      const pet = await client.createPet({}, 'en');
      const error = await client.state('bad id!').catch((e) => e);
      console.log(JSON.stringify({ id: pet.device_id, typed: error instanceof PetLifeError, code: error.code }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, server.url], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(JSON.parse(out)).toMatchObject({ typed: true, code: 'invalid_device_id', id: expect.stringMatching(/^pet_/) });
  });
});
