/**
 * Event delivery (docs/design.md §9) over app.request: GET /api/pet/{id}/events as JSON and as Server-Sent
 * Events (framing, replay after Last-Event-ID / ?after=, live events, heartbeat, token, limits).
 */
import { describe, expect, it } from 'vitest';
import { createUpstashStorage } from '../../src/storage/upstash.js';
import { describeWithRedis, testRedisUrl, uniqueId } from '../helpers/redis.js';
import { startUpstashFake } from '../helpers/upstash-fake.js';
import { createTestApp, jsonRequest, readJson, type ErrorJson, readUntil } from './support.js';

interface EventJson {
  id: string;
  type: string;
  device_id: string;
  pet_time: string;
  at: string;
  data: Record<string, unknown>;
}

/** The `id:`/`event:`/`data:` frames of an SSE text (comments and retry skipped). */
function framesOf(text: string): Array<{ id?: string; event?: string; data?: string }> {
  return text
    .split('\n\n')
    .map((block) => {
      const frame: { id?: string; event?: string; data?: string } = {};
      for (const line of block.split('\n')) {
        const colon = line.indexOf(': ');
        if (colon <= 0) continue;
        const field = line.slice(0, colon);
        if (field === 'id' || field === 'event' || field === 'data') frame[field] = line.slice(colon + 2);
      }
      return frame;
    })
    .filter((frame) => frame.event !== undefined);
}

const feed = (app: ReturnType<typeof createTestApp>['app'], id: string, action = 'feed', headers: Record<string, string> = {}) =>
  app.request(`/api/pet/${id}/interact`, jsonRequest('POST', { action }, headers));

describe('GET /api/pet/{id}/events', () => {
  it('answers the events after `after` as JSON with format=json', async () => {
    const { app } = createTestApp();
    expect((await feed(app, 'ev-json')).status).toBe(200);
    expect((await feed(app, 'ev-json', 'play')).status).toBe(200);
    const all = await readJson<{ events: EventJson[] }>(await app.request('/api/pet/ev-json/events?format=json'));
    expect(all.events.map((event) => [event.type, event.data['action']])).toEqual([
      ['interacted', 'feed'],
      ['interacted', 'play'],
    ]);
    expect(all.events[0]).toMatchObject({ device_id: 'ev-json', id: expect.stringMatching(/^\d+-\d+$/) });
    const first = all.events[0]?.id ?? '';
    const rest = await readJson<{ events: EventJson[] }>(await app.request(`/api/pet/ev-json/events?format=json&after=${first}`));
    expect(rest.events.map((event) => event.id)).toEqual([all.events[1]?.id]);
  });

  it('refuses a malformed after or Last-Event-ID with 400', async () => {
    const { app } = createTestApp();
    const query = await app.request('/api/pet/ev-bad/events?format=json&after=yesterday');
    expect(query.status).toBe(400);
    const header = await app.request('/api/pet/ev-bad/events', { headers: { 'Last-Event-ID': 'nope' } });
    expect(header.status).toBe(400);
    expect((await readJson<ErrorJson>(header)).error.code).toBe('invalid_query');
  });

  it('streams the replay after Last-Event-ID, then live events, framed as id/event/data', async () => {
    const { app } = createTestApp();
    for (const action of ['feed', 'play', 'greet']) expect((await feed(app, 'ev-sse', action)).status).toBe(200);
    const { events } = await readJson<{ events: EventJson[] }>(await app.request('/api/pet/ev-sse/events?format=json'));
    const response = await app.request('/api/pet/ev-sse/events', { headers: { 'Last-Event-ID': events[0]?.id ?? '' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    setTimeout(() => void feed(app, 'ev-sse', 'feed'), 50);
    const text = await readUntil(response, (sofar) => framesOf(sofar).length >= 3);
    expect(text.startsWith('retry: ')).toBe(true);
    const frames = framesOf(text);
    expect(frames.map((frame) => frame.event)).toEqual(['interacted', 'interacted', 'interacted']);
    const sent = frames.map((frame) => JSON.parse(frame.data ?? '{}') as EventJson);
    expect(sent.map((event) => event.data['action'])).toEqual(['play', 'greet', 'feed']);
    expect(frames.map((frame) => frame.id)).toEqual(sent.map((event) => event.id));
    expect(sent[0]?.id).toBe(events[1]?.id);
  });

  it('sends only new events on a first connection (no Last-Event-ID, no after)', async () => {
    const { app } = createTestApp();
    expect((await feed(app, 'ev-new')).status).toBe(200);
    const response = await app.request('/api/pet/ev-new/events');
    setTimeout(() => void feed(app, 'ev-new', 'greet'), 50);
    const frames = framesOf(await readUntil(response, (sofar) => framesOf(sofar).length >= 1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(frames.map((frame) => (JSON.parse(frame.data ?? '{}') as EventJson).data['action'])).toEqual(['greet']);
  });

  it('sends a heartbeat comment on an idle stream', async () => {
    const { app } = createTestApp({ env: { EVENTS_HEARTBEAT_MS: '100' } });
    const response = await app.request('/api/pet/ev-beat/events');
    const text = await readUntil(response, (sofar) => sofar.includes(': heartbeat\n\n'));
    expect(text).toContain(': heartbeat\n\n');
  });

  it('ends the stream with a reconnect event before the Vercel limit', async () => {
    // VERCEL_MAX_DURATION_S is at least 10: the stream would end at 5 s; the test uses the app's
    // shortest allowed limit and only checks the frame is sent, with a fake clock-free wait.
    const { app } = createTestApp({ env: { VERCEL: '1', VERCEL_MAX_DURATION_S: '10' } });
    const response = await app.request('/api/pet/ev-vercel/events');
    const text = await readUntil(response, (sofar) => sofar.includes('event: reconnect'), 7000);
    expect(text).toContain('event: reconnect\ndata: {"last_event_id":null}\n\n');
  }, 10_000);

  it('accepts ?token= as the Bearer secret when reads need it', async () => {
    const { app } = createTestApp({ env: { READS_REQUIRE_AUTH: 'true' } });
    expect((await feed(app, 'ev-auth')).status).toBe(200);
    const claim = await readJson<{ secret: string }>(await app.request('/api/pet/ev-auth/claim', { method: 'POST' }));
    expect((await app.request('/api/pet/ev-auth/events?format=json')).status).toBe(401);
    expect((await app.request('/api/pet/ev-auth/events?format=json&token=wrong-secret')).status).toBe(403);
    const open = await app.request(`/api/pet/ev-auth/events?format=json&token=${claim.secret}`);
    expect(open.status).toBe(200);
    const stream = await app.request(`/api/pet/ev-auth/events?token=${claim.secret}&after=0-0`);
    expect(stream.status).toBe(200);
    const text = await readUntil(stream, (sofar) => framesOf(sofar).length >= 1);
    expect(framesOf(text)[0]?.event).toBe('interacted');
    expect((await app.request('/api/pet/ev-auth/events')).status).toBe(401);
  });

  it('answers 503 busy beyond EVENTS_MAX_PER_PET and frees the place when a stream ends', async () => {
    const { app } = createTestApp({ env: { EVENTS_MAX_PER_PET: '1' } });
    const first = await app.request('/api/pet/ev-busy/events');
    expect(first.status).toBe(200);
    const second = await app.request('/api/pet/ev-busy/events');
    expect(second.status).toBe(503);
    expect((await readJson<ErrorJson>(second)).error.code).toBe('busy');
    await (first.body as ReadableStream).cancel();
    const third = await app.request('/api/pet/ev-busy/events');
    expect(third.status).toBe(200);
    await (third.body as ReadableStream).cancel();
  });

  it('is in the OpenAPI document', async () => {
    const { app } = createTestApp();
    const doc = await readJson<{ paths: Record<string, { get?: { parameters?: Array<{ name: string }> } }> }>(
      await app.request('/openapi.json'),
    );
    const names = doc.paths['/api/pet/{device_id}/events']?.get?.parameters?.map((parameter) => parameter.name);
    expect(names).toEqual(expect.arrayContaining(['device_id', 'after', 'format', 'token']));
  });
});

describeWithRedis('events on Upstash REST (no subscribe: the hub reads the log every second)', () => {
  it('delivers a feed within the polling interval through the local REST server', async () => {
    const parsed = new URL(testRedisUrl ?? 'redis://127.0.0.1:6379');
    parsed.pathname = '/13';
    const fake = await startUpstashFake({ redisUrl: parsed.toString() });
    const storage = createUpstashStorage({ url: fake.url, token: fake.token });
    try {
      expect(storage.watch).toBeUndefined();
      const { app } = createTestApp({ storage });
      const id = uniqueId('up-events');
      expect((await feed(app, id, 'greet')).status).toBe(200);
      const stream = await app.request(`/api/pet/${id}/events`);
      expect(stream.status).toBe(200);
      const started = Date.now();
      const reading = readUntil(stream, (text) => text.includes('event: interacted'), 4000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await feed(app, id, 'feed')).status).toBe(200);
      const text = await reading;
      const frames = framesOf(text).filter((frame) => frame.event === 'interacted');
      expect(frames.map((frame) => (JSON.parse(frame.data ?? '{}') as EventJson).data['action'])).toEqual(['feed']);
      // One poll interval (1 s) plus the read, with room for a loaded machine.
      expect(Date.now() - started).toBeLessThan(2500);
    } finally {
      await storage.close();
      await fake.close();
    }
  });
});
