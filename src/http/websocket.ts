/**
 * The Node server's WebSocket (docs/design.md §9): `/api/pet/{device_id}/ws[?token=…&after=…&lang=…]`.
 * Sends each event of the pet as a JSON text frame (the event object, as on the SSE stream:
 * replay after `after` when given, then live, no gap, no duplicate). Accepts `{"action": "feed"|"play"|"greet"}`
 * (optionally with `"ref"`, echoed) and answers `{"type": "response", "status", "ref"?, "body"}`
 * exactly as POST /api/pet/{id}/interact would: same access rule (the secret from `?token=` or the
 * Authorization header of the upgrade), same rate limits. Pinged every heartbeat.
 * Not on Vercel (its functions cannot hold a socket); there, use the SSE route.
 *
 * Against a hostile client (docs/design.md §14): the upgrade is parsed without throwing
 * (upgrade-guard.ts) and every listener is guarded; opening the socket and every message, valid
 * or not, count like a request in the client's and the pet's limits; a client holds a bounded
 * number of sockets (stream-slots.ts); messages are at most MAX_MESSAGE_BYTES, `ref` at most
 * MAX_REF_LENGTH characters, at most MAX_PENDING_MESSAGES are waiting (then the socket stops
 * reading), and a client whose unsent data passes MAX_UNSENT_BYTES is closed with 1013.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Action } from '../engine/index.js';
import { InvalidInputError, isPetLifeError } from '../errors.js';
import type { Logger } from '../log.js';
import { ACTION_MESSAGE, isAction } from '../rules.js';
import { interactOperation, type Subscription } from '../service/index.js';
import type { Realtime } from './create-app.js';
import { toWireError } from './errors.js';
import { clientBucketOf, normalizeAddress } from './request-guard.js';
import { guardListener, parseUpgrade, refuseUpgrade, upgradeBearerOf, type UpgradeCall } from './upgrade-guard.js';

/** Largest message accepted from a client, bytes (ws closes the socket with 1009 past it). */
const MAX_MESSAGE_BYTES = 4096;
/** Longest `ref` echoed: a string of at most this many characters, or a finite number. */
export const MAX_REF_LENGTH = 64;
/** Messages read but not answered yet; past it the socket stops reading until they are. */
const MAX_PENDING_MESSAGES = 16;
/** Data queued for a client that does not read; past it the client is closed (1013) and its memory freed. */
export const MAX_UNSENT_BYTES = 1 << 20;
/** After a close for slowness, the socket is destroyed this long later if the client has not finished the handshake. */
const CLOSE_GRACE_MS = 2_000;
/** The test-only path of FAULT_THROW_IN_LISTENERS. */
const FAULT_PATH = '/api/fault/throw';

function clientOf(request: IncomingMessage, trustProxy: boolean): string | null {
  if (trustProxy) {
    const header: unknown = request.headers['x-forwarded-for'];
    const first = typeof header === 'string' ? header.split(',')[0] : undefined;
    const forwarded = first === undefined ? null : normalizeAddress(first);
    if (forwarded !== null) return clientBucketOf(forwarded);
  }
  const remote = request.socket.remoteAddress;
  const address = remote === undefined ? null : normalizeAddress(remote);
  return address === null ? null : clientBucketOf(address);
}

/** A `ref` that may be echoed, or an error. */
function refOf(value: unknown): { ok: true; ref: string | number | undefined } | { ok: false } {
  if (value === undefined) return { ok: true, ref: undefined };
  if (typeof value === 'number' && Number.isFinite(value)) return { ok: true, ref: value };
  if (typeof value === 'string' && value.length <= MAX_REF_LENGTH) return { ok: true, ref: value };
  return { ok: false };
}

/** The action of a message, or the error it is refused with (`ref` filled in when it may be echoed). */
function actionOf(
  raw: Buffer | ArrayBuffer | Buffer[],
  isBinary: boolean,
): { action: Action; ref: string | number | undefined } | { error: InvalidInputError; ref: string | number | undefined } {
  let message: unknown;
  try {
    message = isBinary
      ? undefined
      : JSON.parse(
          Buffer.isBuffer(raw) ? raw.toString('utf8') : Buffer.concat(Array.isArray(raw) ? raw : [Buffer.from(raw)]).toString('utf8'),
        );
  } catch {
    message = undefined;
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return { error: new InvalidInputError('invalid_body', 'send a JSON text message such as {"action":"feed"}'), ref: undefined };
  }
  const fields = message as Record<string, unknown>;
  const ref = refOf(fields['ref']);
  if (!ref.ok) {
    return {
      error: new InvalidInputError('invalid_body', `ref must be a number or a string of at most ${MAX_REF_LENGTH} characters`),
      ref: undefined,
    };
  }
  const action = fields['action'];
  if (!isAction(action)) return { error: new InvalidInputError('invalid_action', ACTION_MESSAGE), ref: ref.ref };
  return { action, ref: ref.ref };
}

export interface EventSocketOptions {
  /** FAULT_THROW_IN_LISTENERS (tests only). */
  faultThrowInListeners?: boolean;
}

/** Serves `/api/pet/{id}/ws` on `server`'s upgrade requests; returns a function that closes every socket. */
export function attachEventSockets(server: Server, realtime: Realtime, log: Logger, options: EventSocketOptions = {}): () => void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // A socket error before the upgrade completes (a reset) is the client's business, never the process's.
    socket.on('error', (error) => log.debug({ err: error }, 'upgrade socket error'));
    if (options.faultThrowInListeners === true && request.url === FAULT_PATH) {
      socket.once('close', () => {
        throw new Error('fault: thrown in a socket listener (FAULT_THROW_IN_LISTENERS)');
      });
      throw new Error('fault: thrown in the upgrade listener (FAULT_THROW_IN_LISTENERS)');
    }
    const parsed = parseUpgrade(request);
    if (!parsed.ok) {
      refuseUpgrade(socket, parsed.status, parsed.message);
      return;
    }
    wss.handleUpgrade(
      request,
      socket,
      head,
      guardListener(
        log,
        'websocket connection',
        (ws: WebSocket) =>
          serveSocket(ws, parsed.call, upgradeBearerOf(request, parsed.call.token), clientOf(request, realtime.trustProxy)),
        (ws: WebSocket) => ws.terminate(),
      ),
    );
  };
  server.on(
    'upgrade',
    guardListener(log, 'websocket upgrade', onUpgrade, (_request, socket) => refuseUpgrade(socket, 500, 'the upgrade failed')),
  );

  const serveSocket = (ws: WebSocket, call: UpgradeCall, bearer: string | null, address: string | null): void => {
    let subscription: Subscription | null = null;
    let release = () => {};
    let alive = true;
    let closedForSlowness = false;
    // The rate limits count by address only when per-client limits are on; the stream slots always do.
    const counted = realtime.countsClients ? address : null;
    // The owner an owner secret proves (docs/design.md §8), looked up once per connection.
    const owner = realtime.owners.resolve(bearer).catch(() => null);
    const caller = async () => ({ bearer, owner: await owner, client: counted });

    const tooSlow = () => {
      if (closedForSlowness) return;
      closedForSlowness = true;
      log.info({ device: call.petId, unsent_bytes: ws.bufferedAmount }, 'websocket closed: the client does not read');
      subscription?.close();
      ws.close(1013, 'too much unsent data: read faster, then reconnect');
      setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
    };
    const sendJson = (value: unknown) => {
      if (ws.readyState !== WebSocket.OPEN || closedForSlowness) return;
      if (ws.bufferedAmount > MAX_UNSENT_BYTES) return tooSlow();
      ws.send(JSON.stringify(value));
    };
    const ping = setInterval(() => {
      if (!alive) {
        ws.terminate();
        return;
      }
      alive = false;
      ws.ping();
    }, realtime.heartbeatMs);
    ping.unref();
    ws.on('pong', () => {
      alive = true;
    });
    ws.on('close', () => {
      clearInterval(ping);
      subscription?.close();
      subscription = null;
      release();
    });
    ws.on('error', (error) => log.debug({ err: error, device: call.petId }, 'websocket error'));

    // Interactions are answered in the order sent; past MAX_PENDING_MESSAGES waiting, reading pauses.
    let turn: Promise<void> = Promise.resolve();
    let pending = 0;
    const answer = async (raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const parsed = actionOf(raw, isBinary);
      const ref = parsed.ref === undefined ? {} : { ref: parsed.ref };
      try {
        const who = await caller();
        if ('error' in parsed) await realtime.gate.refuse(call.petId, who, parsed.error);
        else {
          const done = await realtime.service.perform(call.petId, interactOperation(parsed.action, call.lang), {
            ...who,
            render: (value) => value,
          });
          sendJson({ type: 'response', status: done.value.status, ...ref, body: done.value.body });
        }
      } catch (error) {
        const wire = toWireError(error);
        if (!isPetLifeError(error)) log.error({ err: error, device: call.petId }, 'websocket interaction failed');
        sendJson({ type: 'response', status: wire.status, ...ref, body: { error: { code: wire.code, message: wire.message } } });
      }
    };
    ws.on('message', (raw, isBinary) => {
      pending += 1;
      if (pending >= MAX_PENDING_MESSAGES) ws.pause();
      turn = turn
        .then(() => answer(raw, isBinary))
        .catch((error: unknown) => log.error({ err: error, device: call.petId }, 'websocket message failed'))
        .finally(() => {
          pending -= 1;
          if (pending < MAX_PENDING_MESSAGES && ws.readyState === WebSocket.OPEN && ws.isPaused) ws.resume();
        });
    });

    const onEnd = () => ws.close(1001, 'server shutting down');
    const open = async (): Promise<Subscription> => {
      const who = await caller();
      // Counted like a request, with the read access check (and, with READS_REQUIRE_AUTH, only a stored pet).
      const { opens } = await realtime.gate.admit(call.petId, who);
      const take = realtime.slots.take(address, call.petId, opens);
      try {
        return await realtime.hub.subscribe(call.petId, (event) => sendJson(event), {
          after: call.after ?? 'now',
          bearer,
          owner: who.owner,
          privileged: opens,
          onEnd,
          onRevoked: (error) => {
            const wire = toWireError(error);
            sendJson({ type: 'error', status: wire.status, body: { error: { code: wire.code, message: wire.message } } });
            ws.close(1008, 'access revoked');
          },
        });
      } finally {
        release = take;
        if (ws.readyState !== WebSocket.OPEN) take();
      }
    };
    open().then(
      (subscribed) => {
        if (ws.readyState === WebSocket.OPEN && !closedForSlowness) subscription = subscribed;
        else subscribed.close();
      },
      (error: unknown) => {
        const wire = toWireError(error);
        if (!isPetLifeError(error)) log.error({ err: error, device: call.petId }, 'websocket subscription failed');
        sendJson({ type: 'error', status: wire.status, body: { error: { code: wire.code, message: wire.message } } });
        // 1008 policy violation (access, limits), 1013 try again later (busy), 1011 otherwise.
        ws.close([401, 403, 404, 429].includes(wire.status) ? 1008 : wire.status === 503 ? 1013 : 1011, wire.code);
      },
    );
  };

  return () => {
    for (const client of wss.clients) client.close(1001, 'server shutting down');
    wss.close();
  };
}
