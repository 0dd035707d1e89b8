/**
 * watch() over a scripted fetch (src/client/watch.ts): a stream that ends is opened again with
 * Last-Event-ID, events replayed twice are handed over once, in id order, and the secret goes
 * as Bearer on the stream and on the polls.
 */
import { describe, expect, it } from 'vitest';
import { createPetLifeClient, type PetEvent } from '../../src/client/index.js';
import { eventIdAfter } from '../../src/client/watch.js';

const event = (id: string, action: string): PetEvent => ({
  id,
  type: 'interacted',
  device_id: 'mochi',
  pet_time: '2026-03-01T08:00:00+01:00',
  at: '2026-03-01T07:00:00Z',
  data: { action },
});
const frames = (...events: PetEvent[]) => events.map((e) => `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');

/** A stream that sends `text` in two pieces (split inside a frame) and ends. */
function streamOf(text: string): Response {
  const cut = Math.floor(text.length / 2);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text.slice(0, cut)));
      controller.enqueue(new TextEncoder().encode(text.slice(cut)));
      controller.close();
    },
  });
  return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
}

describe('watch', () => {
  it('compares event ids as <ms>-<seq> numbers', () => {
    expect(eventIdAfter('1000-10', '1000-9')).toBe(true);
    expect(eventIdAfter('999-50', '1000-0')).toBe(false);
    expect(eventIdAfter('1000-0', '1000-0')).toBe(false);
    expect(eventIdAfter('1-0', undefined)).toBe(true);
  });

  it('reconnects with Last-Event-ID when the stream ends and hands each event over once', async () => {
    const seen: Array<{ url: string; headers: Headers }> = [];
    const answers = [
      () => streamOf(frames(event('1000-0', 'feed'), event('1000-1', 'play'))),
      // The replay overlaps what was already handed over, then ends with the server's `reconnect`.
      () => streamOf(`${frames(event('1000-1', 'play'), event('2000-0', 'greet'))}event: reconnect\ndata: {}\n\n`),
    ];
    let parked: (() => void) | undefined;
    const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const request = new Request(input, init);
      seen.push({ url: request.url, headers: request.headers });
      const next = answers.shift();
      if (next) return next();
      // Then an open stream that sends nothing until the watch is closed.
      return new Promise<Response>((_, reject) => {
        parked = () => reject(new DOMException('aborted', 'AbortError'));
        request.signal.addEventListener('abort', () => parked?.());
      });
    }) as typeof globalThis.fetch;
    const client = createPetLifeClient({ baseUrl: 'http://pets.test/', fetch, secret: 's3cret' });
    const events: PetEvent[] = [];
    const errors: unknown[] = [];
    const watch = client.watch('mochi', { after: '999-0', onEvent: (e) => void events.push(e), onError: (e) => void errors.push(e) });
    await expect.poll(() => seen.length).toBe(3);
    expect(events.map((e) => e.data['action'])).toEqual(['feed', 'play', 'greet']);
    expect(seen.map((request) => request.headers.get('last-event-id'))).toEqual(['999-0', '1000-1', '2000-0']);
    expect(seen[0]?.url).toBe('http://pets.test/api/pet/mochi/events');
    expect(seen[0]?.headers.get('authorization')).toBe('Bearer s3cret');
    expect(watch.lastEventId).toBe('2000-0');
    watch.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(errors).toEqual([]);
  });

  it('polls with the Bearer and from the last id when asked to', async () => {
    const urls: string[] = [];
    const auth: Array<string | null> = [];
    const batches = [[event('5-0', 'feed')], [event('5-0', 'feed'), event('6-0', 'play')]];
    const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const request = new Request(input, init);
      urls.push(request.url);
      auth.push(request.headers.get('authorization'));
      return Response.json({ events: batches.shift() ?? [] });
    }) as typeof globalThis.fetch;
    const client = createPetLifeClient({ baseUrl: 'http://pets.test', fetch, secret: () => 'owner' });
    const events: PetEvent[] = [];
    const watch = client.watch('mochi', { after: '4-0', transport: 'poll', pollIntervalMs: 10, onEvent: (e) => void events.push(e) });
    await expect.poll(() => urls.length).toBeGreaterThanOrEqual(3);
    watch.close();
    expect(events.map((e) => e.id)).toEqual(['5-0', '6-0']);
    expect(urls.slice(0, 3)).toEqual([
      'http://pets.test/api/pet/mochi/events?format=json&after=4-0',
      'http://pets.test/api/pet/mochi/events?format=json&after=5-0',
      'http://pets.test/api/pet/mochi/events?format=json&after=6-0',
    ]);
    expect(new Set(auth)).toEqual(new Set(['Bearer owner']));
  });
});
