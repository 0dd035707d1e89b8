/**
 * `watch(deviceId, {after, onEvent})`: follows GET /api/pet/{id}/events (docs/design.md §9). In a
 * browser through EventSource (which reconnects by itself with Last-Event-ID; the secret goes as
 * `?token=`, since EventSource sends no headers); elsewhere through a fetch stream read by
 * eventsource-parser, reconnecting with the last event id. Each event is handed over once, in id
 * order. When the stream keeps failing, it polls `?format=json&after=<last id>` instead and tries the
 * stream again later. A refusal that will not change by itself (400, 401, 403, 404) ends the watch.
 */
import { createParser } from 'eventsource-parser';
import { errorFromResponse, PetLifeError } from './errors.js';
import type { components } from './schema.js';

export type PetEvent = components['schemas']['PetEvent'];

/** The event types the server sends (docs/design.md §9); an EventSource hears only the types it listens to. */
export const EVENT_TYPES = [
  'interacted',
  'fell_asleep',
  'woke_up',
  'got_hungry',
  'reset',
  'updated',
  'claimed',
  'created',
  'visited',
  'befriended',
  'unfriended',
  'owner_added',
  'owner_left',
  'owner_removed',
] as const;

export interface WatchOptions {
  /** Hand over the retained events after this id first; without it, only events from now on. */
  after?: string;
  onEvent: (event: PetEvent) => void;
  /** Each failure on the way (a dropped stream, a failed poll); the watch goes on unless `closed`. */
  onError?: (error: unknown, closed: boolean) => void;
  /** How events arrive now: `sse` once a stream is open, `poll` after falling back. */
  onMode?: (mode: 'sse' | 'poll') => void;
  /** `auto` (default): the stream, polling when it keeps failing. */
  transport?: 'auto' | 'sse' | 'poll';
  /** Between polls, ms. @default 5000 */
  pollIntervalMs?: number;
  /** Failures of the stream in a row before polling. @default 3 */
  streamFailures?: number;
  /** How long to poll before trying the stream again, ms. @default 60000 */
  streamRetryMs?: number;
  /** Use fetch even where EventSource exists (what Node does anyway). */
  noEventSource?: boolean;
  signal?: AbortSignal;
}

export interface Watch {
  /** The id of the last event handed over (where a new watch would resume). */
  readonly lastEventId: string | undefined;
  close(): void;
}

export interface WatchDeps {
  baseUrl: string;
  fetch: typeof fetch;
  secret: () => string | null | undefined;
  sleep: (ms: number, signal?: AbortSignal | null) => Promise<void>;
}

/** Event ids are `<ms>-<seq>`; compared as numbers, so a replay overlapping a poll gives nothing twice. */
export function eventIdAfter(a: string, b: string | undefined): boolean {
  if (b === undefined) return true;
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am > bm || (am === bm && as > bs);
}

const FINAL_STATUSES = new Set([400, 401, 403, 404]);

function parseEvent(data: string): PetEvent | null {
  try {
    const event = JSON.parse(data) as Partial<PetEvent> | null;
    return event && typeof event.id === 'string' && typeof event.type === 'string' ? (event as PetEvent) : null;
  } catch {
    return null;
  }
}

export function watchEvents(deps: WatchDeps, deviceId: string, options: WatchOptions): Watch {
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const url = `${deps.baseUrl}/api/pet/${encodeURIComponent(deviceId)}/events`;
  let cursor = options.after;
  const pollIntervalMs = options.pollIntervalMs ?? 5000;
  const maxFailures = options.streamFailures ?? 3;
  const streamRetryMs = options.streamRetryMs ?? 60_000;

  const deliver = (event: PetEvent) => {
    if (!eventIdAfter(event.id, cursor)) return;
    cursor = event.id;
    options.onEvent(event);
  };
  const fail = (error: unknown, closed: boolean) => {
    if (!signal.aborted) options.onError?.(error, closed);
  };

  /** One stream over fetch until it ends: true when it ended cleanly (a `reconnect`, the server closing). */
  async function fetchStream(): Promise<boolean> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    const secret = deps.secret();
    if (secret) headers['authorization'] = `Bearer ${secret}`;
    if (cursor !== undefined) headers['last-event-id'] = cursor;
    const response = await deps.fetch(url, { headers, signal });
    if (!response.ok || response.body === null) throw await errorFromResponse(response);
    options.onMode?.('sse');
    const parser = createParser({
      onEvent: (message) => {
        const event = parseEvent(message.data);
        if (event !== null) deliver(event);
      },
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return true;
        parser.feed(value);
      }
    } finally {
      reader.releaseLock();
    }
  }

  /** One stream over EventSource, until it fails for good or too often. */
  function eventSourceStream(): Promise<void> {
    return new Promise((resolve, reject) => {
      const query = new URLSearchParams();
      if (cursor !== undefined) query.set('after', cursor);
      const secret = deps.secret();
      if (secret) query.set('token', secret);
      const source = new EventSource(query.size > 0 ? `${url}?${query}` : url);
      let failures = 0;
      const stop = (error?: unknown) => {
        source.close();
        signal.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onAbort = () => stop();
      signal.addEventListener('abort', onAbort, { once: true });
      source.onopen = () => {
        failures = 0;
        options.onMode?.('sse');
      };
      source.onerror = () => {
        failures += 1;
        // EventSource gives no status: CLOSED means an HTTP error answer, which it will not retry.
        if (source.readyState === EventSource.CLOSED || failures >= maxFailures) stop(new Error('the event stream failed'));
        else fail(new Error('the event stream dropped; reconnecting'), false);
      };
      const onMessage = (message: Event) => {
        const data = (message as Event & { data?: unknown }).data;
        const event = typeof data === 'string' ? parseEvent(data) : null;
        if (event !== null) deliver(event);
      };
      for (const type of EVENT_TYPES) source.addEventListener(type, onMessage);
      source.onmessage = onMessage;
    });
  }

  /** Polls until `until` (ms since epoch) or the end; false when refused for good. */
  async function poll(until: number): Promise<void> {
    options.onMode?.('poll');
    // Without a starting point, the first poll only finds where "now" is, as a stream would.
    let baseline = cursor === undefined;
    while (!signal.aborted && Date.now() < until) {
      try {
        const query = new URLSearchParams({ format: 'json' });
        if (cursor !== undefined) query.set('after', cursor);
        const headers: Record<string, string> = { accept: 'application/json' };
        const secret = deps.secret();
        if (secret) headers['authorization'] = `Bearer ${secret}`;
        const response = await deps.fetch(`${url}?${query}`, { headers, signal });
        if (!response.ok) throw await errorFromResponse(response);
        const { events } = (await response.json()) as { events: PetEvent[] };
        if (baseline) {
          cursor = events.at(-1)?.id ?? cursor;
          baseline = false;
        } else for (const event of events) deliver(event);
      } catch (error) {
        if (error instanceof PetLifeError && FINAL_STATUSES.has(error.status)) throw error;
        fail(error, false);
      }
      await deps.sleep(pollIntervalMs, signal).catch(() => undefined);
    }
  }

  async function run(): Promise<void> {
    const useEventSource = !options.noEventSource && typeof EventSource !== 'undefined';
    let failures = 0;
    while (!signal.aborted) {
      if (options.transport === 'poll' || (options.transport !== 'sse' && failures >= maxFailures)) {
        await poll(options.transport === 'poll' ? Number.POSITIVE_INFINITY : Date.now() + streamRetryMs);
        failures = 0;
        continue;
      }
      try {
        if (useEventSource) await eventSourceStream();
        else if (await fetchStream()) failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof PetLifeError && FINAL_STATUSES.has(error.status)) throw error;
        failures += useEventSource ? maxFailures : 1;
        fail(error, false);
        await deps.sleep(Math.min(5000, 250 * 2 ** failures), signal).catch(() => undefined);
      }
    }
  }

  run().catch((error: unknown) => {
    if (signal.aborted) return;
    fail(error, true);
    controller.abort();
  });

  return {
    get lastEventId() {
      return cursor;
    },
    close: () => controller.abort(),
  };
}
