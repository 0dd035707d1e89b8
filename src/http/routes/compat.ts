/**
 * The original server's routes (upstream-facts §5.1), same behaviour on the same engine, in its
 * envelope `{success, data, timestamp}`; errors keep the envelope too
 * (`{success: false, error: {code, message}, timestamp}`) with the right status, unlike the
 * original (which answered 200 or 500 with a traceback).
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { Clock, PetService } from '../../service/index.js';
import type { AppEnv } from '../env.js';
import { pickLang } from '../lang.js';
import {
  CompatCatchupQuery,
  CompatDeviceQuery,
  CompatEnvelope,
  CompatErrorBody,
  CompatFeedBody,
  CompatInteractBody,
  LangOnlyQuery,
} from '../schemas.js';
import { noteAnswer } from './pet.js';

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
  400: json(CompatErrorBody, 'Bad device id, action, hours or body'),
  503: json(CompatErrorBody, 'Storage unavailable'),
};
const jsonBody = <T>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });

const statusRoute = createRoute({
  method: 'get',
  path: '/api/pet/status',
  tags: ['compat'],
  summary: 'Original server: the pet state in an envelope',
  request: { query: CompatDeviceQuery },
  responses: { 200: json(CompatEnvelope, 'Envelope with the state document'), ...errors },
});

const interactRoute = createRoute({
  method: 'post',
  path: '/api/pet/interact',
  tags: ['compat'],
  summary: 'Original server: interact',
  request: { query: LangOnlyQuery, body: jsonBody(CompatInteractBody) },
  responses: { 200: json(CompatEnvelope, 'Envelope with `action` and the state'), ...errors },
});

const feedRoute = createRoute({
  method: 'post',
  path: '/api/pet/feed',
  tags: ['compat'],
  summary: 'Original server: feed (food_type is accepted and ignored)',
  request: { query: LangOnlyQuery, body: jsonBody(CompatFeedBody) },
  responses: { 200: json(CompatEnvelope, 'Envelope with action "feed" and the state'), ...errors },
});

const catchupRoute = createRoute({
  method: 'post',
  path: '/api/pet/catchup',
  tags: ['compat'],
  summary: 'Original server: catch up (query parameters; hours defaults to 24)',
  request: { query: CompatCatchupQuery },
  responses: { 200: json(CompatEnvelope, 'Envelope with action "catchup", hours and the state'), ...errors },
});

const resetRoute = createRoute({
  method: 'post',
  path: '/api/debug/reset',
  tags: ['compat'],
  summary: "Original server: reset the pet's life",
  request: { query: CompatDeviceQuery },
  responses: { 200: json(CompatEnvelope, 'Envelope with a message and the new state'), ...errors },
});

/** Registers compatErrors on the compatibility routes; call before any middleware that may refuse a request. */
export function markCompatRoutes(app: OpenAPIHono<AppEnv>): void {
  for (const [method, path] of COMPAT_ROUTES) app.on(method, path, compatErrors);
}

export function registerCompatRoutes(app: OpenAPIHono<AppEnv>, service: PetService, clock: Clock): void {
  const timestamp = () => new Date(clock.nowMs()).toISOString();

  app.openapi(statusRoute, async (c) => {
    const { device_id, lang } = c.req.valid('query');
    c.set('device', device_id);
    const answer = await service.getState(device_id, { lang: pickLang(lang, c.req.header('accept-language')) });
    noteAnswer(c, device_id, answer);
    return c.json({ success: true as const, data: answer.value, timestamp: timestamp() }, 200);
  });

  app.openapi(interactRoute, async (c) => {
    const { device_id, action } = c.req.valid('json');
    c.set('device', device_id);
    const lang = pickLang(c.req.valid('query').lang, c.req.header('accept-language'));
    const answer = await service.interact(device_id, action, { lang });
    noteAnswer(c, device_id, answer);
    return c.json({ success: true as const, action, data: answer.value, timestamp: timestamp() }, 200);
  });

  app.openapi(feedRoute, async (c) => {
    const { device_id } = c.req.valid('json');
    c.set('device', device_id);
    const lang = pickLang(c.req.valid('query').lang, c.req.header('accept-language'));
    const answer = await service.interact(device_id, 'feed', { lang });
    noteAnswer(c, device_id, answer);
    return c.json({ success: true as const, action: 'feed', data: answer.value, timestamp: timestamp() }, 200);
  });

  app.openapi(catchupRoute, async (c) => {
    const { device_id, hours, lang } = c.req.valid('query');
    c.set('device', device_id);
    const answer = await service.catchup(device_id, hours, { lang: pickLang(lang, c.req.header('accept-language')) });
    noteAnswer(c, device_id, answer);
    return c.json({ success: true as const, action: 'catchup', hours, data: answer.value, timestamp: timestamp() }, 200);
  });

  app.openapi(resetRoute, async (c) => {
    const { device_id, lang } = c.req.valid('query');
    c.set('device', device_id);
    const answer = await service.reset(device_id, { lang: pickLang(lang, c.req.header('accept-language')) });
    noteAnswer(c, device_id, answer);
    return c.json(
      { success: true as const, message: `Pet ${device_id} reset`, data: answer.value, timestamp: timestamp() },
      200,
    );
  });
}
