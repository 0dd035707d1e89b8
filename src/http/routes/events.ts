/**
 * `GET /api/pet/{device_id}/events` (docs/design.md §9): the pet's events as Server-Sent Events — the
 * retained ones after `Last-Event-ID` (or `?after=`), then live ones, each once, in id order —
 * or, with `?format=json`, the events after `after` as one JSON answer. `?token=` stands in for
 * the Authorization header, which a browser EventSource cannot send. A `: heartbeat` comment
 * keeps idle streams open; on Vercel the stream ends with `event: reconnect` 5 s before the
 * function's limit, and the client reconnects with its Last-Event-ID.
 */
import { createRoute, type DocumentedHono } from '../openapi.js';
import type { Context } from 'hono';
import { InvalidInputError } from '../../errors.js';
import type { EventHub, Owners, PetService, StreamGate, StreamSlots } from '../../service/index.js';
import { isEventId, type PetEvent } from '../../storage/index.js';
import type { AppEnv } from '../env.js';
import { toWireError } from '../errors.js';
import { jsonResponse } from '../json-response.js';
import { servePetRoute } from '../pet-route.js';
import { bearerOf, clientAddressOf } from '../request-guard.js';
import { ErrorBody, EventsJsonSchema, EventsQuery, PetParams } from '../schemas.js';

export interface EventRouteDeps {
  service: Pick<PetService, 'events'>;
  /** Finds the owner an owner secret proves (docs/design.md §8). */
  owners: Pick<Owners, 'resolve'>;
  hub: EventHub;
  /** Counts reads and streams in the rate limits (docs/design.md §14). */
  gate: StreamGate;
  /** Streams per client address (docs/design.md §9). */
  slots: StreamSlots;
  trustProxy: boolean;
  /** Per-client rate limits are on: the client's address is counted. */
  countsClients: boolean;
  /** A `: heartbeat` comment this often on an idle stream, ms. */
  heartbeatMs: number;
  /** End streams with `event: reconnect` after this long, ms (Vercel: its limit − 5 s); null = never. */
  maxStreamMs: number | null;
}

const json = <T>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });

const eventsRoute = createRoute({
  method: 'get',
  path: '/api/pet/{device_id}/events',
  tags: ['pet'],
  summary: "The pet's events, live (Server-Sent Events) or as JSON",
  description: [
    'Server-Sent Events: every retained event after `Last-Event-ID` (or `?after=`) first, then each new one as it is saved, with no gap and no duplicate; with neither, only the events saved from now on.',
    'Each is `id: <event id>`, `event: <type>`, `data: <the event as JSON>`. An idle stream gets a `: heartbeat` comment every 15 s.',
    'On Vercel the stream ends with `event: reconnect` a few seconds before the function limit; EventSource reconnects with Last-Event-ID.',
    'Access is that of a read (open unless READS_REQUIRE_AUTH and the pet is claimed); `?token=<secret>` is accepted as the Bearer secret here, since EventSource cannot send headers.',
    'With `?format=json`: the events after `after` as `{events: [...]}`.',
  ].join(' '),
  security: [{ bearer: [] }, {}],
  request: { params: PetParams, query: EventsQuery },
  responses: {
    200: {
      description: 'The event stream (text/event-stream), or with format=json the events',
      content: {
        'text/event-stream': {
          schema: { type: 'string', example: 'id: 1767225600000-0\nevent: interacted\ndata: {"id":"1767225600000-0",...}\n\n' },
        },
        'application/json': { schema: EventsJsonSchema },
      },
    },
    400: json(ErrorBody, 'Bad device id, `after`, `Last-Event-ID` or token'),
    401: json(ErrorBody, 'Claimed pet, READS_REQUIRE_AUTH on, and no secret'),
    403: json(ErrorBody, 'Claimed pet, READS_REQUIRE_AUTH on, and a wrong secret'),
    503: json(ErrorBody, 'Storage unavailable, or too many subscribers on this server (`busy`, Retry-After)'),
  },
});

/** Data queued for a client that does not read; past it the stream ends (docs/design.md §14). */
export const MAX_UNSENT_SSE_BYTES = 1 << 20;
/** After the end for slowness, the queue is dropped (and the connection closed) this long later if the client has not read it. */
const SLOW_GRACE_MS = 2_000;

/** The Node response under a request on the Node server (@hono/node-server's binding); undefined elsewhere. */
function nodeResponseOf(c: Context<AppEnv>): { destroy(): void } | undefined {
  const env: unknown = c.env;
  const outgoing = typeof env === 'object' && env !== null ? (env as { outgoing?: unknown }).outgoing : undefined;
  return typeof outgoing === 'object' && outgoing !== null && typeof (outgoing as { destroy?: unknown }).destroy === 'function'
    ? (outgoing as { destroy(): void })
    : undefined;
}

/** One SSE frame for an event. */
export function sseFrame(event: PetEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** The id to replay after: Last-Event-ID (what EventSource sends on a reconnect) over `?after=`. */
function afterOf(c: Context<AppEnv>, after: string | undefined): string | null {
  const header = c.req.header('last-event-id')?.trim();
  if (header !== undefined && header !== '') {
    if (!isEventId(header)) throw new InvalidInputError('invalid_query', 'Last-Event-ID must be an event id, <ms>-<seq>');
    return header;
  }
  return after ?? null;
}

export function registerEventRoutes(app: DocumentedHono<AppEnv>, deps: EventRouteDeps): void {
  servePetRoute(app, eventsRoute, async (c, { param, query }) => {
    const petId = param.device_id;
    c.set('device', petId);
    const bearer = bearerOf(c) ?? query.token ?? null;
    const after = afterOf(c, query.after);
    const owner = await deps.owners.resolve(bearer);
    const address = clientAddressOf(c, deps.trustProxy);
    const caller = { bearer, owner, client: deps.countsClients ? address : null };
    if (query.format === 'json') {
      // Counted like a request, then by what it read (EVENTS_PER_UNIT events a unit).
      await deps.gate.admit(petId, caller);
      const events = await deps.service.events(petId, { after, bearer, owner });
      await deps.gate.chargeEvents(petId, caller, events.length);
      return jsonResponse(c, { events }, 200);
    }
    const { opens } = await deps.gate.admit(petId, caller, { stream: true });
    const release = deps.slots.take(address, petId, opens);

    const encoder = new TextEncoder();
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    let ended = false;
    const timers: NodeJS.Timeout[] = [];
    let close = () => {};
    let lastId = (): string | null => after;
    let replayed = 0;
    let slow = false;
    let drop: NodeJS.Timeout | null = null;
    const end = () => {
      if (ended) return;
      ended = true;
      for (const timer of timers) clearTimeout(timer);
      release();
      close();
    };
    const reconnectFrame = () => `event: reconnect\ndata: ${JSON.stringify({ last_event_id: lastId() })}\n\n`;
    /** The client does not read: no more events; `reconnect` queued; the queue dropped if still unread after the grace. */
    const tooSlow = () => {
      slow = true;
      try {
        controller?.enqueue(encoder.encode(reconnectFrame()));
      } catch {
        // already closed
      }
      end();
      drop = setTimeout(() => {
        drop = null;
        try {
          controller?.error(new Error('the client does not read its event stream'));
        } catch {
          // already closed
        }
        // What Node holds for the connection goes too (only the Node server has one).
        nodeResponseOf(c)?.destroy();
      }, SLOW_GRACE_MS);
      drop.unref();
    };
    const write = (text: string) => {
      if (ended || controller === undefined) return;
      try {
        controller.enqueue(encoder.encode(text));
      } catch {
        end();
        return;
      }
      if ((controller.desiredSize ?? 0) < 0) tooSlow();
    };
    const stream = new ReadableStream<Uint8Array>(
      {
        start(started) {
          controller = started;
        },
        pull() {
          // The slow client read its queue after all: end the stream cleanly.
          if (slow && drop !== null) {
            clearTimeout(drop);
            drop = null;
            try {
              controller?.close();
            } catch {
              // already closed
            }
          }
        },
        cancel() {
          if (drop !== null) clearTimeout(drop);
          drop = null;
          end();
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: MAX_UNSENT_SSE_BYTES }),
    );
    // Subscribed before answering: a refusal (401, 403, 503 busy) is still an HTTP error. The
    // replay is queued on the stream until the client reads it.
    write('retry: 2000\n\n');
    // Without Last-Event-ID or ?after=, a first connection: live events only.
    let subscription: Awaited<ReturnType<EventHub['subscribe']>>;
    try {
      subscription = await deps.hub.subscribe(
        petId,
        (event) => {
          replayed += 1;
          write(sseFrame(event));
        },
        {
          after: after ?? 'now',
          bearer,
          owner,
          privileged: opens,
          // The server is shutting down: the client reconnects (to another instance, or this one restarted).
          onEnd: () => {
            write(reconnectFrame());
            end();
          },
          // A claim or an owners change took this caller's access: told why, then ended (no reconnect).
          onRevoked: (error) => {
            const wire = toWireError(error);
            write(`event: error\ndata: ${JSON.stringify({ error: { code: wire.code, message: wire.message } })}\n\n`);
            end();
          },
        },
      );
    } catch (error) {
      release();
      throw error;
    }
    // The replay read the log: counted by its size (the first unit was the request's).
    const replayCount = replayed;
    void deps.gate.chargeEvents(petId, caller, replayCount).catch(() => undefined);
    lastId = () => subscription.lastId;
    close = () => {
      subscription.close();
      // A slow client's queue is left to be read or dropped (tooSlow).
      if (slow) return;
      try {
        controller?.close();
      } catch {
        // already closed or cancelled
      }
    };
    // Ended during the replay (too slow): nothing more to set up.
    if (ended) close();
    else if (c.req.raw.signal.aborted) end();
    else c.req.raw.signal.addEventListener('abort', end, { once: true });
    if (!ended) {
      const heartbeat = setInterval(() => write(': heartbeat\n\n'), deps.heartbeatMs);
      heartbeat.unref();
      timers.push(heartbeat);
    }
    if (deps.maxStreamMs !== null && !ended) {
      const limit = setTimeout(() => {
        write(reconnectFrame());
        end();
      }, deps.maxStreamMs);
      limit.unref();
      timers.push(limit);
    }
    return new Response(stream, {
      status: 200,
      headers: {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store, no-transform',
        'X-Accel-Buffering': 'no',
      },
    });
  });
}
