/**
 * The frame around every request, in one middleware: context variables, request id, security
 * headers, CORS (configurable origins), then — once the response exists — one JSON log line
 * (docs/design.md §6: method, path, matched route, pet, status, duration, storage backend,
 * round trips).
 *
 * Same headers as hono/secure-headers' defaults, hono/request-id and hono/cors, gathered in a plain
 * object on the context (`headers`) rather than with c.header(): the pet routes answer with it as
 * is (json-response.ts), which spares a Headers object per request (undici's Headers.set showed in
 * a GET's CPU profile); any other response gets them added after the handler.
 */
import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes, routePath } from 'hono/route';
import type { Logger } from '../log.js';
import type { Clock } from '../service/index.js';
import type { AppEnv } from './env.js';
import { isFramed } from './json-response.js';
import { UNMATCHED_ROUTE, type AppMetrics } from './metrics.js';
import { serverTimingOf } from './server-timing.js';

/** hono/secure-headers' default set. */
export const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Cross-Origin-Resource-Policy', 'same-origin'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Origin-Agent-Cluster', '?1'],
  ['Referrer-Policy', 'no-referrer'],
  ['Strict-Transport-Security', 'max-age=15552000; includeSubDomains'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-DNS-Prefetch-Control', 'off'],
  ['X-Download-Options', 'noopen'],
  ['X-Frame-Options', 'SAMEORIGIN'],
  ['X-Permitted-Cross-Domain-Policies', 'none'],
  ['X-XSS-Protection', '0'],
];

export interface CorsOptions {
  /** Allowed origins; ['*'] allows any. */
  origins: readonly string[];
  allowMethods: readonly string[];
  allowHeaders: readonly string[];
  exposeHeaders: readonly string[];
  /** Preflight cache, seconds. */
  maxAgeS: number;
}

export interface FrameOptions {
  clock: Clock;
  log: Logger;
  /** Storage driver name for the log line. */
  backend: string;
  cors: CorsOptions;
  /** Where each answered request is counted (http_request_duration_seconds). */
  metrics: Pick<AppMetrics, 'request'>;
}

/**
 * The route pattern of the metrics: the matched route's (a 404 from a route, such as a missing
 * documentation asset, keeps it), `unmatched` when only middleware (method ALL) matched.
 */
function routeLabelOf(c: Context<AppEnv>, status: number, route: string | null): string {
  if (route !== null) return route;
  if (status !== 404) return UNMATCHED_ROUTE;
  const last = matchedRoutes(c).at(-1);
  return last === undefined || last.method === 'ALL' ? UNMATCHED_ROUTE : last.path;
}

/** A client's X-Request-Id is kept when it is short and plain; otherwise a UUID is made. */
const REQUEST_ID = /^[\w\-=]{1,255}$/;

/** The request id answered: the client's X-Request-Id when short and plain, else a new UUID. */
export function requestIdOf(incoming: string | undefined): string {
  return incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** The frame's headers of an answer, shared by the middleware and the warm read (warm-state.ts). */
export interface FrameHeaders {
  /** The origin answered in Access-Control-Allow-Origin for this request's Origin; null: none. */
  allowOriginOf(origin: string | undefined): string | null;
  /** The headers every non-preflight answer carries (`api`: under /api/, which no cache may keep). */
  headersOf(requestId: string, allowOrigin: string | null, api: boolean): Record<string, string>;
  /** The line logged and the request counted once an answer is out. */
  finish(entry: FinishedRequest): void;
}

export interface FinishedRequest {
  method: string;
  path: string;
  /** The route answered (its pattern); null for a 404/405. */
  route: string | null;
  /** The metrics' route label. */
  label: string;
  device: string | null;
  status: number;
  durationMs: number;
  roundTrips: number;
  requestId: string;
}

export function frameHeaders(options: FrameOptions): FrameHeaders {
  const { log, backend, cors, metrics } = options;
  const anyOrigin = cors.origins.includes('*');
  const allowed = new Set(cors.origins);
  const expose = cors.exposeHeaders.join(', ');
  const securityHeaders = Object.fromEntries(SECURITY_HEADERS);
  return {
    allowOriginOf: (origin) => (anyOrigin ? '*' : origin !== undefined && allowed.has(origin) ? origin : null),
    headersOf(requestId, allowOrigin, api) {
      const headers: Record<string, string> = { 'X-Request-Id': requestId, ...securityHeaders };
      // API answers carry a pet's state or a claim secret: no cache, shared or private, may keep them.
      if (api) headers['Cache-Control'] = 'no-store';
      if (allowOrigin !== null) {
        headers['Access-Control-Allow-Origin'] = allowOrigin;
        headers['Access-Control-Expose-Headers'] = expose;
      }
      if (!anyOrigin) headers['Vary'] = 'Origin';
      return headers;
    },
    finish(entry) {
      metrics.request(entry.label, entry.method, entry.status, entry.durationMs / 1000);
      const line = {
        method: entry.method,
        path: entry.path,
        route: entry.route,
        device: entry.device,
        status: entry.status,
        duration_ms: Math.round(entry.durationMs * 1000) / 1000,
        backend,
        round_trips: entry.roundTrips,
        request_id: entry.requestId,
      };
      if (entry.status >= 500) log.warn(line, 'request');
      else log.info(line, 'request');
    },
  };
}

export function requestFrame(options: FrameOptions): MiddlewareHandler<AppEnv> {
  const { clock, cors } = options;
  const anyOrigin = cors.origins.includes('*');
  const preflightHeaders: Record<string, string> = {
    'Access-Control-Allow-Methods': cors.allowMethods.join(', '),
    'Access-Control-Allow-Headers': cors.allowHeaders.join(', '),
    'Access-Control-Max-Age': String(cors.maxAgeS),
  };
  const securityHeaders = Object.fromEntries(SECURITY_HEADERS);
  const frame = frameHeaders(options);

  return async (c, next) => {
    const started = performance.now();
    c.set('clock', clock);
    c.set('errorStyle', 'api');
    const requestId = requestIdOf(c.req.header('x-request-id'));
    c.set('requestId', requestId);

    const allowOrigin = frame.allowOriginOf(c.req.header('origin'));
    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method') !== undefined) {
      const headers: Record<string, string> = { ...preflightHeaders, 'X-Request-Id': requestId };
      if (allowOrigin !== null) headers['Access-Control-Allow-Origin'] = allowOrigin;
      if (!anyOrigin) headers['Vary'] = 'Origin';
      return c.body(null, 204, { ...headers, ...securityHeaders });
    }

    // API answers also say where their time went (Server-Timing: the service fills in `timing`).
    const api = c.req.path.startsWith('/api/');
    if (api) c.set('timing', { startedMs: started, storageMs: 0, serviceMs: 0 });
    const headers = frame.headersOf(requestId, allowOrigin, api);
    c.set('headers', headers);

    await next();

    const response = c.res;
    if (!isFramed(response)) {
      const timing = c.get('timing');
      if (timing !== undefined) headers['Server-Timing'] = serverTimingOf(timing, performance.now());
      const target = response.headers;
      for (const name in headers) if (!target.has(name)) target.set(name, headers[name] as string);
    }
    const status = response.status;
    const route = status === 404 || status === 405 ? null : routePath(c, -1) || null;
    frame.finish({
      method: c.req.method,
      path: c.req.path,
      route,
      label: routeLabelOf(c, status, route),
      device: c.get('device') ?? null,
      status,
      durationMs: performance.now() - started,
      roundTrips: c.get('roundTrips') ?? 0,
      requestId,
    });
    return undefined;
  };
}
