/**
 * The Node server's WebSocket (issue #12): `/api/pet/{device_id}/ws[?token=…&after=…&lang=…]`.
 * Sends each event of the pet as a JSON text frame (the event object, as on the SSE stream:
 * replay after `after` when given, then live, no gap, no duplicate). Accepts `{"action": "feed"|"play"|"greet"}`
 * (optionally with `"ref"`, echoed) and answers `{"type": "response", "status", "ref"?, "body"}`
 * exactly as POST /api/pet/{id}/interact would: same access rule (the secret from `?token=` or the
 * Authorization header of the upgrade), same rate limits. Pinged every heartbeat.
 * Not on Vercel (its functions cannot hold a socket); there, use the SSE route.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Action } from '../engine/index.js';
import { InvalidInputError, isPetLifeError } from '../errors.js';
import type { Logger } from '../log.js';
import { ACTION_MESSAGE, isAction } from '../rules.js';
import { interactOperation, type Subscription } from '../service/index.js';
import { isEventId, PET_ID_PATTERN } from '../storage/index.js';
import type { Realtime } from './create-app.js';
import { toWireError } from './errors.js';
import { clientBucketOf, normalizeAddress } from './request-guard.js';

const WS_PATH = /^\/api\/pet\/([^/]+)\/ws$/;
const TOKEN = /^[\x21-\x7e]{1,512}$/;
/** Largest message accepted from a client, bytes. */
const MAX_MESSAGE_BYTES = 4096;

function refuse(socket: Duplex, status: number, reason: string, message: string): void {
  const body = JSON.stringify({ error: { code: status === 404 ? 'not_found' : 'invalid_query', message } });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function clientOf(request: IncomingMessage, trustProxy: boolean): string | null {
  if (trustProxy) {
    const header = request.headers['x-forwarded-for'];
    const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0];
    const forwarded = first === undefined ? null : normalizeAddress(first);
    if (forwarded !== null) return clientBucketOf(forwarded);
  }
  const remote = request.socket.remoteAddress;
  const address = remote === undefined ? null : normalizeAddress(remote);
  return address === null ? null : clientBucketOf(address);
}

function bearerOf(request: IncomingMessage, token: string | null): string | null {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
  return match?.[1] ?? token;
}

/** Serves `/api/pet/{id}/ws` on `server`'s upgrade requests; returns a function that closes every socket. */
export function attachEventSockets(server: Server, realtime: Realtime, log: Logger): () => void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const match = WS_PATH.exec(url.pathname);
    if (match === null) return refuse(socket, 404, 'Not Found', `no WebSocket at ${url.pathname}`);
    const petId = decodeURIComponent(match[1] ?? '');
    if (!PET_ID_PATTERN.test(petId)) return refuse(socket, 400, 'Bad Request', 'invalid device id');
    const token = url.searchParams.get('token');
    if (token !== null && !TOKEN.test(token)) return refuse(socket, 400, 'Bad Request', 'token must be 1–512 visible ASCII characters');
    const after = url.searchParams.get('after');
    if (after !== null && !isEventId(after)) return refuse(socket, 400, 'Bad Request', 'after must be an event id, <ms>-<seq>');
    const lang = url.searchParams.get('lang') === 'en' ? 'en' : 'zh';
    wss.handleUpgrade(request, socket, head, (ws) => {
      serveSocket(ws, { petId, bearer: bearerOf(request, token), after, lang, client: clientOf(request, realtime.trustProxy) });
    });
  });

  const serveSocket = (
    ws: WebSocket,
    call: { petId: string; bearer: string | null; after: string | null; lang: 'en' | 'zh'; client: string | null },
  ): void => {
    let subscription: Subscription | null = null;
    let alive = true;
    // The owner an owner secret proves (issue #13), looked up once per connection.
    const owner = realtime.owners.resolve(call.bearer);
    const sendJson = (value: unknown) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(value));
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
    });
    ws.on('error', (error) => log.debug({ err: error, device: call.petId }, 'websocket error'));

    // Interactions are answered in the order sent.
    let turn: Promise<void> = Promise.resolve();
    ws.on('message', (raw, isBinary) => {
      turn = turn.then(async () => {
        let ref: unknown;
        try {
          let message: unknown;
          try {
            message = JSON.parse(isBinary ? '' : raw.toString());
          } catch {
            throw new InvalidInputError('invalid_body', 'send a JSON text message such as {"action":"feed"}');
          }
          const fields = typeof message === 'object' && message !== null ? (message as Record<string, unknown>) : {};
          ref = fields['ref'];
          const action = fields['action'];
          if (!isAction(action)) throw new InvalidInputError('invalid_action', ACTION_MESSAGE);
          const answer = await realtime.service.perform(call.petId, interactOperation(action as Action, call.lang), {
            bearer: call.bearer,
            owner: await owner,
            client: realtime.countsClients ? call.client : null,
            render: (value) => value,
          });
          sendJson({ type: 'response', status: answer.value.status, ...(ref === undefined ? {} : { ref }), body: answer.value.body });
        } catch (error) {
          const wire = toWireError(error);
          if (!isPetLifeError(error)) log.error({ err: error, device: call.petId }, 'websocket interaction failed');
          sendJson({
            type: 'response',
            status: wire.status,
            ...(ref === undefined ? {} : { ref }),
            body: { error: { code: wire.code, message: wire.message } },
          });
        }
      });
    });

    const onEnd = () => ws.close(1001, 'server shutting down');
    owner
      .then((verified) =>
        realtime.hub.subscribe(call.petId, (event) => sendJson(event), {
          after: call.after ?? 'now',
          bearer: call.bearer,
          owner: verified,
          onEnd,
        }),
      )
      .then(
        (subscribed) => {
          if (ws.readyState === WebSocket.OPEN) subscription = subscribed;
          else subscribed.close();
        },
        (error: unknown) => {
          const wire = toWireError(error);
          sendJson({ type: 'error', status: wire.status, body: { error: { code: wire.code, message: wire.message } } });
          // 1008 policy violation (access), 1013 try again later (busy), 1011 otherwise.
          ws.close(wire.status === 401 || wire.status === 403 ? 1008 : wire.status === 503 ? 1013 : 1011, wire.code);
        },
      );
  };

  return () => {
    for (const client of wss.clients) client.close(1001, 'server shutting down');
    wss.close();
  };
}
