/**
 * `GET /metrics`: the app's Prometheus metrics (http/metrics.ts) in the text exposition format.
 * With METRICS_TOKEN set it needs `Authorization: Bearer <token>`: 401 without a Bearer token, 403
 * with another one, compared in constant time (SHA-256 of both, then timingSafeEqual). Documented
 * in /openapi.json under `system`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createRoute, type DocumentedHono } from '../openapi.js';
import { ForbiddenError, UnauthorizedError } from '../../errors.js';
import type { AppEnv } from '../env.js';
import { answerError } from '../errors.js';
import type { AppMetrics } from '../metrics.js';
import { bearerOf } from '../request-guard.js';
import { ErrorBody } from '../schemas.js';

const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['system'],
  summary: 'Prometheus metrics (text exposition format)',
  description:
    'Request durations by route, storage round trips and latency, compare-and-set conflicts, events written and delivered, ' +
    'open event subscribers, rate-limited and replayed answers, read-cache hits and misses, and process metrics ' +
    '(docs/operations.md lists them). When METRICS_TOKEN is set, it needs `Authorization: Bearer <METRICS_TOKEN>`.',
  security: [{ bearer: [] }, {}],
  responses: {
    200: {
      description: 'The metrics',
      content: { 'text/plain': { schema: { type: 'string', example: '# HELP http_request_duration_seconds …' } } },
    },
    401: { content: { 'application/json': { schema: ErrorBody } }, description: 'METRICS_TOKEN is set and no Bearer token was sent' },
    403: { content: { 'application/json': { schema: ErrorBody } }, description: 'METRICS_TOKEN is set and another token was sent' },
  },
});

const sha256 = (text: string) => createHash('sha256').update(text).digest();

export interface MetricsRouteDeps {
  metrics: AppMetrics;
  /** METRICS_TOKEN; null: open. */
  token: string | null;
}

export function registerMetricsRoute(app: DocumentedHono<AppEnv>, deps: MetricsRouteDeps): void {
  const { metrics } = deps;
  const expected = deps.token === null ? null : sha256(deps.token);
  app.openAPIRegistry.registerPath(metricsRoute);
  app.get('/metrics', async (c) => {
    if (expected !== null) {
      const bearer = bearerOf(c);
      if (bearer === null) return answerError(c, new UnauthorizedError('the metrics need Authorization: Bearer <METRICS_TOKEN>'));
      if (!timingSafeEqual(sha256(bearer), expected)) return answerError(c, new ForbiddenError('wrong metrics token'));
    }
    return c.body(await metrics.text(), 200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
  });
}
