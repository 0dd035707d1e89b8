/**
 * The shortest path of the Node server (docs/design.md §15, "The warm read"): a plain
 * `GET /api/pet/{id}/state` (no query, or `?lang=zh|en` alone) is first offered to the service's
 * warm read (PetService.performWarm: a held pet whose stored values and simulated minute are
 * those of an answer already made, no load). When it answers, the bytes already rendered (the
 * same JSON text and ETag as json-response.ts made for that frozen document) go straight to
 * node:http with the frame's headers (request-frame.ts: request id, security, CORS), Server-Timing,
 * the log line and the metrics — no Hono routing, no Request or Response object. Anything else,
 * and every request the warm read declines, goes to the app as usual: the answer is the same
 * either way (test/http/warm-state.test.ts compares them).
 */
import { createServer, type IncomingMessage, type RequestListener, type ServerOptions, type ServerResponse } from 'node:http';
import type { Lang } from '../engine/index.js';
import { DEVICE_ID_MAX_LENGTH } from '../rules.js';
import { stateOperation, type PetService } from '../service/index.js';
import { jsonText, noneMatchHits, validatorsOf } from './json-response.js';
import { pickLang } from './lang.js';
import { requestIdOf, type FrameHeaders } from './request-frame.js';
import { serverTimingOf, type FrameTiming } from './server-timing.js';

/** The one shape served here; the app's route (schemas.ts, DeviceId and StateQuery) accepts every request it matches. */
const WARM_STATE = new RegExp(`^/api/pet/([A-Za-z0-9_-]{1,${DEVICE_ID_MAX_LENGTH}})/state(?:\\?lang=(zh|en))?$`);
const ROUTE = '/api/pet/:device_id/state';
const asIs = <T>(value: T): T => value;

export interface WarmStateDeps {
  service: Pick<PetService, 'performWarm'>;
  frame: FrameHeaders;
}

/**
 * Answers `req` when the warm read can; false at once for a request of another shape, and a
 * promise of false (nothing written) when the warm read declines: then the app must answer.
 */
export type WarmState = (req: IncomingMessage, res: ServerResponse) => false | Promise<boolean>;

/** `listener` (the app's, from @hono/node-server), with `warm` tried first. */
export function warmFirst(warm: WarmState, listener: RequestListener): RequestListener {
  return (req, res) => {
    const tried = warm(req, res);
    if (tried === false) return listener(req, res);
    tried.then(
      (answered) => {
        if (!answered) listener(req, res);
      },
      () => {
        // Nothing written yet: the app answers (its error, if any); a half-written answer cannot be mended.
        if (!res.headersSent) listener(req, res);
        else res.destroy();
      },
    );
  };
}

/** node:http's createServer for @hono/node-server's `serve` (which passes options and its listener), with `warm` first. */
export function createServerWithWarmState(warm: WarmState): typeof createServer {
  return ((options: ServerOptions, listener: RequestListener) => createServer(options, warmFirst(warm, listener))) as typeof createServer;
}

export function createWarmState(deps: WarmStateDeps): WarmState {
  const { service, frame } = deps;
  return (req, res) => {
    if (req.method !== 'GET') return false;
    const url = req.url ?? '';
    const match = WARM_STATE.exec(url);
    if (match === null) return false;
    return serve(req, res, url, match);
  };

  async function serve(req: IncomingMessage, res: ServerResponse, url: string, match: RegExpExecArray): Promise<boolean> {
    const started = performance.now();
    const petId = match[1] as string;
    const lang = pickLang(match[2] as Lang | undefined, req.headers['accept-language']);
    const timing: FrameTiming = { startedMs: started, storageMs: 0, serviceMs: 0 };
    let answer: Awaited<ReturnType<PetService['performWarm']>>;
    try {
      answer = await service.performWarm(petId, stateOperation(lang), { render: asIs, timing });
    } catch {
      return false; // the app's path answers it, errors included
    }
    if (answer === undefined) return false;
    timing.serviceMs = performance.now() - started;
    const { body } = answer.value;
    const requestId = requestIdOf(single(req.headers['x-request-id']));
    const headers = frame.headersOf(requestId, frame.allowOriginOf(single(req.headers.origin)), true);
    const text = jsonText(body);
    Object.assign(headers, validatorsOf(body, text));
    const notModified = noneMatchHits(single(req.headers['if-none-match']), headers['ETag'] as string);
    const status = notModified ? 304 : 200;
    if (!notModified) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(text));
    }
    headers['Server-Timing'] = serverTimingOf(timing, performance.now());
    res.writeHead(status, headers);
    res.end(notModified ? undefined : text);
    frame.finish({
      method: 'GET',
      path: url.split('?', 1)[0] as string,
      route: ROUTE,
      label: ROUTE,
      device: petId,
      status,
      durationMs: performance.now() - started,
      roundTrips: answer.roundTrips,
      requestId,
    });
    return true;
  }
}

/** A header node:http may give as a list (only set-cookie is, here): its first value. */
function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
