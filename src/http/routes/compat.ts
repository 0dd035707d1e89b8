/**
 * The original server's routes (docs/design.md §5; docs/life-model.md, "What the original server did"), same behaviour on the same engine, in its
 * envelope `{success, data, timestamp}`; errors keep the envelope too
 * (`{success: false, error: {code, message}, timestamp}`) with the right status, unlike the
 * original (which answered 200 or 500 with a traceback). They share the API's guards (docs/reliability.md):
 * rate limits, a claimed pet's Bearer secret, and Idempotency-Key on the POSTs.
 */
import { createRoute, type DocumentedHono } from '../openapi.js';
import type { MiddlewareHandler } from 'hono';
import { catchupOperation, interactOperation, resetOperation, stateOperation, type StateDocument } from '../../service/index.js';
import type { AppEnv } from '../env.js';
import { langOf } from '../lang.js';
import { answerPet, type PetCallDeps } from '../pet-call.js';
import { servePetRoute } from '../pet-route.js';
import {
  CompatCatchupQuery,
  CompatDeviceQuery,
  CompatEnvelope,
  CompatErrorBody,
  CompatFeedBody,
  CompatInteractBody,
  IDEMPOTENCY_KEY_PARAMETER,
  LangOnlyQuery,
} from '../schemas.js';

/** Routes answered in the original server's envelope, errors included. */
export const COMPAT_ROUTES = [
  ['GET', '/api/pet/status'],
  ['POST', '/api/pet/interact'],
  ['POST', '/api/pet/feed'],
  ['POST', '/api/pet/catchup'],
  ['POST', '/api/debug/reset'],
] as const;

/** Marks a request as a compatibility one, so that its errors keep the envelope. */
export const compatErrors: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.set('errorStyle', 'compat');
  await next();
};

const json = <T>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const errors = {
  400: json(CompatErrorBody, 'Bad device id, action, hours, body or Idempotency-Key'),
  401: json(CompatErrorBody, 'The pet is claimed and no Bearer secret was sent'),
  403: json(CompatErrorBody, 'Wrong Bearer secret'),
  429: json(CompatErrorBody, 'Too many requests to this pet or from this client'),
  503: json(CompatErrorBody, 'Storage unavailable'),
};
const idempotent = {
  parameters: [IDEMPOTENCY_KEY_PARAMETER],
  responses: { 422: json(CompatErrorBody, 'Idempotency-Key already used for another body or route') },
};
const security = [{ bearer: [] }, {}];
const jsonBody = <T>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });

const statusRoute = createRoute({
  method: 'get',
  path: '/api/pet/status',
  tags: ['compat'],
  summary: 'Original server: the pet state in an envelope',
  security,
  request: { query: CompatDeviceQuery },
  responses: { 200: json(CompatEnvelope, 'Envelope with the state document'), ...errors },
});

const interactRoute = createRoute({
  method: 'post',
  path: '/api/pet/interact',
  tags: ['compat'],
  summary: 'Original server: interact',
  security,
  parameters: idempotent.parameters,
  request: { query: LangOnlyQuery, body: jsonBody(CompatInteractBody) },
  responses: { 200: json(CompatEnvelope, 'Envelope with `action` and the state'), ...errors, ...idempotent.responses },
});

const feedRoute = createRoute({
  method: 'post',
  path: '/api/pet/feed',
  tags: ['compat'],
  summary: 'Original server: feed (food_type is accepted and ignored)',
  security,
  parameters: idempotent.parameters,
  request: { query: LangOnlyQuery, body: jsonBody(CompatFeedBody) },
  responses: { 200: json(CompatEnvelope, 'Envelope with action "feed" and the state'), ...errors, ...idempotent.responses },
});

const catchupRoute = createRoute({
  method: 'post',
  path: '/api/pet/catchup',
  tags: ['compat'],
  summary: 'Original server: catch up (query parameters; hours defaults to 24)',
  security,
  parameters: idempotent.parameters,
  request: { query: CompatCatchupQuery },
  responses: { 200: json(CompatEnvelope, 'Envelope with action "catchup", hours and the state'), ...errors, ...idempotent.responses },
});

const resetRoute = createRoute({
  method: 'post',
  path: '/api/debug/reset',
  tags: ['compat'],
  summary: "Original server: reset the pet's life",
  security,
  parameters: idempotent.parameters,
  request: { query: CompatDeviceQuery },
  responses: { 200: json(CompatEnvelope, 'Envelope with a message and the new state'), ...errors, ...idempotent.responses },
});

/** Registers compatErrors on the compatibility routes; call before any middleware that may refuse a request. */
export function markCompatRoutes(app: DocumentedHono<AppEnv>): void {
  for (const [method, path] of COMPAT_ROUTES) app.on(method, path, compatErrors);
}

export function registerCompatRoutes(app: DocumentedHono<AppEnv>, deps: PetCallDeps): void {
  const timestamp = (nowMs: number) => new Date(nowMs).toISOString();
  const envelope =
    <E extends object>(extra: E) =>
    (data: StateDocument, nowMs: number) => ({ success: true as const, ...extra, data, timestamp: timestamp(nowMs) });

  servePetRoute(app, statusRoute, (c, { query }) =>
    answerPet(c, deps, { deviceId: query.device_id, operation: stateOperation(langOf(c, query.lang)), render: envelope({}) }),
  );

  servePetRoute(app, interactRoute, (c, { query, json }) =>
    answerPet(c, deps, {
      deviceId: json.device_id,
      operation: interactOperation(json.action, langOf(c, query.lang)),
      render: envelope({ action: json.action }),
      idempotentInput: json,
    }),
  );

  servePetRoute(app, feedRoute, (c, { query, json }) =>
    answerPet(c, deps, {
      deviceId: json.device_id,
      operation: interactOperation('feed', langOf(c, query.lang)),
      render: envelope({ action: 'feed' }),
      idempotentInput: json,
    }),
  );

  servePetRoute(app, catchupRoute, (c, { query }) => {
    const { device_id, hours, lang } = query;
    return answerPet(c, deps, {
      deviceId: device_id,
      operation: catchupOperation(hours, langOf(c, lang)),
      render: envelope({ action: 'catchup', hours }),
      idempotentInput: { device_id, hours },
    });
  });

  servePetRoute(app, resetRoute, (c, { query }) => {
    const { device_id, lang } = query;
    return answerPet(c, deps, {
      deviceId: device_id,
      operation: resetOperation(langOf(c, lang)),
      render: envelope({ message: `Pet ${device_id} reset` }),
      idempotentInput: { device_id },
    });
  });
}
