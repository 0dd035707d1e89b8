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

export function requestFrame(options: FrameOptions): MiddlewareHandler<AppEnv> {
  const { clock, log, backend, cors, metrics } = options;
  const anyOrigin = cors.origins.includes('*');
  const allowed = new Set(cors.origins);
  const preflightHeaders: Record<string, string> = {
    'Access-Control-Allow-Methods': cors.allowMethods.join(', '),
    'Access-Control-Allow-Headers': cors.allowHeaders.join(', '),
    'Access-Control-Max-Age': String(cors.maxAgeS),
  };
  const expose = cors.exposeHeaders.join(', ');
  const securityHeaders = Object.fromEntries(SECURITY_HEADERS);

  return async (c, next) => {
    const started = performance.now();
    c.set('clock', clock);
    c.set('errorStyle', 'api');
    const incomingId = c.req.header('x-request-id');
    const requestId = incomingId !== undefined && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
    c.set('requestId', requestId);

    const origin = c.req.header('origin');
    const allowOrigin = anyOrigin ? '*' : origin !== undefined && allowed.has(origin) ? origin : null;
    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method') !== undefined) {
      const headers: Record<string, string> = { ...preflightHeaders, 'X-Request-Id': requestId };
      if (allowOrigin !== null) headers['Access-Control-Allow-Origin'] = allowOrigin;
      if (!anyOrigin) headers['Vary'] = 'Origin';
      return c.body(null, 204, { ...headers, ...securityHeaders });
    }

    const headers: Record<string, string> = { 'X-Request-Id': requestId, ...securityHeaders };
    // API answers carry a pet's state or a claim secret: no cache, shared or private, may keep them.
    // They also say where their time went (Server-Timing: the service fills in `timing`).
    const api = c.req.path.startsWith('/api/');
    if (api) {
      headers['Cache-Control'] = 'no-store';
      c.set('timing', { startedMs: started, storageMs: 0, serviceMs: 0 });
    }
    if (allowOrigin !== null) {
      headers['Access-Control-Allow-Origin'] = allowOrigin;
      headers['Access-Control-Expose-Headers'] = expose;
    }
    if (!anyOrigin) headers['Vary'] = 'Origin';
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
    const durationMs = performance.now() - started;
    metrics.request(routeLabelOf(c, status, route), c.req.method, status, durationMs / 1000);
    const line = {
      method: c.req.method,
      path: c.req.path,
      route,
      device: c.get('device') ?? null,
      status,
      duration_ms: Math.round(durationMs * 1000) / 1000,
      backend,
      round_trips: c.get('roundTrips') ?? 0,
      request_id: requestId,
    };
    if (status >= 500) log.warn(line, 'request');
    else log.info(line, 'request');
    return undefined;
  };
}
