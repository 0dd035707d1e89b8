/**
 * The upgrade path of the WebSocket route read defensively (docs/design.md §14): every input a
 * client controls — the request target (origin-form, absolute-form, bad percent-encoding), the
 * query and the headers — is parsed without throwing, and anything malformed is a 4xx answer
 * written on the raw socket. `guardListener` wraps a socket or upgrade listener so that an error
 * it throws (or the promise it returns rejects with) is logged and the connection alone dropped:
 * nothing a client sends may end the process.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.js';
import { isEventId, PET_ID_PATTERN } from '../storage/index.js';

const WS_PATH = /^\/api\/pet\/([^/]+)\/ws$/;
const TOKEN = /^[\x21-\x7e]{1,512}$/;
/** Longer request targets are refused unparsed (Node's parser allows far more). */
const MAX_TARGET_LENGTH = 2048;

export interface UpgradeCall {
  petId: string;
  token: string | null;
  after: string | null;
  lang: 'en' | 'zh';
}

export type ParsedUpgrade = { ok: true; call: UpgradeCall } | { ok: false; status: 400 | 404; message: string };

const refused = (status: 400 | 404, message: string): ParsedUpgrade => ({ ok: false, status, message });

function decoded(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** The URL of a request target in origin-form (`/path?q`) or absolute-form (`http://host/path?q`); null when malformed. */
function targetUrl(target: string): URL | null {
  if (target.length === 0 || target.length > MAX_TARGET_LENGTH) return null;
  try {
    // An absolute-form target carries its own host; an origin-form one is resolved against a fixed base.
    return new URL(target, 'http://localhost');
  } catch {
    return null;
  }
}

/** What an upgrade request asks for, or why it is refused. Never throws. */
export function parseUpgrade(request: Pick<IncomingMessage, 'url'>): ParsedUpgrade {
  const url = typeof request.url === 'string' ? targetUrl(request.url) : null;
  if (url === null) return refused(400, 'the request target is not a valid URL');
  const match = WS_PATH.exec(url.pathname);
  if (match === null) return refused(404, 'no WebSocket at this path; use /api/pet/{device_id}/ws');
  const petId = decoded(match[1] ?? '');
  if (petId === null || !PET_ID_PATTERN.test(petId)) return refused(400, 'invalid device id');
  const token = url.searchParams.get('token');
  if (token !== null && !TOKEN.test(token)) return refused(400, 'token must be 1–512 visible ASCII characters');
  const after = url.searchParams.get('after');
  if (after !== null && !isEventId(after)) return refused(400, 'after must be an event id, <ms>-<seq>');
  const lang = url.searchParams.get('lang') === 'en' ? 'en' : 'zh';
  return { ok: true, call: { petId, token, after, lang } };
}

/** The secret of `Authorization: Bearer <secret>` (or `token` when there is none); a repeated or odd header is no secret. */
export function upgradeBearerOf(request: Pick<IncomingMessage, 'headers'>, token: string | null): string | null {
  const header: unknown = request.headers.authorization;
  if (typeof header !== 'string') return token;
  const match = header.length > 600 ? null : /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
  return match?.[1] ?? token;
}

/** Writes an HTTP error answer on a socket that has not been upgraded, then ends it; never throws. */
export function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const reason =
    status === 404 ? 'Not Found' : status === 503 ? 'Service Unavailable' : status >= 500 ? 'Internal Server Error' : 'Bad Request';
  const code = status === 404 ? 'not_found' : status >= 500 ? 'internal' : 'invalid_query';
  const body = JSON.stringify({ error: { code, message } });
  try {
    if (socket.destroyed) return;
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  } catch {
    socket.destroy();
  }
}

/**
 * `listener`, made safe to register on a server or socket: a throw or a rejected promise is
 * logged, and `onError` (e.g. answering 500 and closing the socket) runs instead of the error
 * reaching the process.
 */
export function guardListener<A extends unknown[]>(
  log: Logger,
  what: string,
  listener: (...args: A) => unknown,
  onError?: (...args: A) => void,
): (...args: A) => void {
  const failed = (args: A, error: unknown) => {
    log.error({ err: error }, `${what} failed`);
    try {
      onError?.(...args);
    } catch (again) {
      log.error({ err: again }, `${what}: cleaning up after the failure failed too`);
    }
  };
  return (...args: A) => {
    try {
      const result = listener(...args);
      if (result instanceof Promise) result.catch((error: unknown) => failed(args, error));
    } catch (error) {
      failed(args, error);
    }
  };
}
