/**
 * Notifications (docs/design.md §13): an owner's webhook endpoints (`/api/owners/me/webhooks`,
 * Standard Webhooks) and Web Push subscriptions (`/api/owners/me/push`), the VAPID key
 * (`GET /api/push/key`) and the cron route that drains the schedule on Vercel
 * (`GET /api/cron/tick`). The work is in src/service/notify/.
 */
import { z } from 'zod';
import { UnauthorizedError } from '../../errors.js';
import type { Owners } from '../../service/index.js';
import type { NotifyService } from '../../service/notify/notify-service.js';
import { HH_MM } from '../../service/notify/quiet-hours.js';
import { NOTIFY_EVENT_TYPES } from '../../service/notify/targets.js';
import type { CronRequest } from '../../service/notify/cron-auth.js';
import { canonicalTimezone } from '../../engine/index.js';
import { createRoute, type DocumentedHono } from '../openapi.js';
import type { AppEnv } from '../env.js';
import { jsonResponse } from '../json-response.js';
import { servePetRoute } from '../pet-route.js';
import { bearerOf } from '../request-guard.js';
import { DeviceId, ErrorBody } from '../schemas.js';

export interface NotifyRouteDeps {
  owners: Pick<Owners, 'require'>;
  notify: NotifyService;
  cronAuth: (request: CronRequest) => Promise<boolean>;
  /** How long one cron call may drain, ms (below the function's time limit). */
  cronBudgetMs: number;
}

const json = <T>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const jsonBody = <T>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });
const security = [{ bearer: [] }];
const common = {
  400: json(ErrorBody, 'Bad body'),
  401: json(ErrorBody, 'No Bearer secret'),
  403: json(ErrorBody, 'The Bearer secret is not an owner secret'),
  429: json(ErrorBody, 'Too many registration changes'),
  503: json(ErrorBody, 'Storage unavailable'),
};

const EventType = z.enum(NOTIFY_EVENT_TYPES as [string, ...string[]], { message: `events must be among ${NOTIFY_EVENT_TYPES.join(', ')}` });
const Events = z.array(EventType).min(1).max(NOTIFY_EVENT_TYPES.length).optional();
const TargetId = z.object({ id: z.string().regex(/^(wh|ps)_[A-Za-z0-9_-]{16}$/, { message: 'not a target id' }) });

const WebhookBody = z
  .object({ url: z.string().min(1).max(2048), events: Events, pets: z.array(DeviceId).min(1).max(100).optional() })
  .strict();
const Webhook = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    pets: z.array(z.string()).nullable(),
    created_at: z.string(),
    failing_since: z.string().nullable(),
    disabled: z.object({ reason: z.enum(['gone', 'failing']), at: z.string() }).nullable(),
  })
  .meta({ id: 'Webhook' });
const WebhookCreated = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  pets: z.array(z.string()).nullable(),
  secret: z.string(),
});
const Attempt = z.object({
  event_id: z.string(),
  type: z.string(),
  device_id: z.string().nullable(),
  status: z.number().nullable(),
  ok: z.boolean(),
  error: z.string().optional(),
  at: z.string(),
  next_try: z.string().nullable(),
});
const PushBody = z
  .object({
    subscription: z.object({
      endpoint: z.string().min(1).max(2048),
      keys: z.object({ p256dh: z.string().regex(/^[A-Za-z0-9_-]{80,100}={0,2}$/), auth: z.string().regex(/^[A-Za-z0-9_-]{16,24}={0,2}$/) }),
    }),
    events: Events,
    lang: z.enum(['zh', 'en']).optional(),
    quiet_hours: z
      .object({ from: z.string().regex(HH_MM, { message: 'HH:MM' }), to: z.string().regex(HH_MM, { message: 'HH:MM' }) })
      .optional(),
    timezone: z
      .string()
      .max(64)
      .refine((tz) => canonicalTimezone(tz) !== null, { message: 'timezone must be an IANA zone' })
      .optional(),
  })
  .strict();

const routes = {
  key: createRoute({
    method: 'get',
    path: '/api/push/key',
    tags: ['notifications'],
    summary: 'The VAPID public key (base64url) to subscribe with',
    responses: { 200: json(z.object({ public_key: z.string() }), 'The key'), 503: common[503] },
  }),
  addWebhook: createRoute({
    method: 'post',
    path: '/api/owners/me/webhooks',
    tags: ['notifications'],
    summary: 'Register a webhook endpoint (its signing secret is shown once)',
    description:
      'Deliveries follow Standard Webhooks: `webhook-id` (stable across retries), `webhook-timestamp`, `webhook-signature: v1,…` (HMAC-SHA256 with the secret after `whsec_`). The URL must be https and resolve to public addresses (unless WEBHOOK_ALLOW_PRIVATE). At most 10 per owner.',
    security,
    request: { body: jsonBody(WebhookBody) },
    responses: { 201: json(WebhookCreated, 'The endpoint and its secret'), ...common, 409: json(ErrorBody, 'Limit reached') },
  }),
  listWebhooks: createRoute({
    method: 'get',
    path: '/api/owners/me/webhooks',
    tags: ['notifications'],
    summary: "The owner's webhook endpoints (a disabled one says why)",
    security,
    responses: { 200: json(z.object({ webhooks: z.array(Webhook) }), 'The endpoints'), ...common },
  }),
  removeWebhook: createRoute({
    method: 'delete',
    path: '/api/owners/me/webhooks/{id}',
    tags: ['notifications'],
    summary: 'Remove a webhook endpoint',
    security,
    request: { params: TargetId },
    responses: { 204: { description: 'Removed' }, ...common, 404: json(ErrorBody, 'No such endpoint') },
  }),
  testWebhook: createRoute({
    method: 'post',
    path: '/api/owners/me/webhooks/{id}/test',
    tags: ['notifications'],
    summary: 'Send a signed `ping` now and answer how it went',
    security,
    request: { params: TargetId },
    responses: { 200: json(Attempt, 'The attempt'), ...common, 404: json(ErrorBody, 'No such endpoint') },
  }),
  deliveries: createRoute({
    method: 'get',
    path: '/api/owners/me/webhooks/{id}/deliveries',
    tags: ['notifications'],
    summary: 'Recent attempts (newest first, at most 50)',
    security,
    request: { params: TargetId },
    responses: {
      200: json(z.object({ deliveries: z.array(Attempt) }), 'The attempts'),
      ...common,
      404: json(ErrorBody, 'No such endpoint'),
    },
  }),
  addPush: createRoute({
    method: 'post',
    path: '/api/owners/me/push',
    tags: ['notifications'],
    summary: 'Register a Web Push subscription (at most 20 per owner)',
    security,
    request: { body: jsonBody(PushBody) },
    responses: { 201: json(z.object({ id: z.string() }), 'Registered'), ...common, 409: json(ErrorBody, 'Limit reached') },
  }),
  removePush: createRoute({
    method: 'delete',
    path: '/api/owners/me/push/{id}',
    tags: ['notifications'],
    summary: 'Remove a Web Push subscription',
    security,
    request: { params: TargetId },
    responses: { 204: { description: 'Removed' }, ...common, 404: json(ErrorBody, 'No such subscription') },
  }),
  cron: createRoute({
    method: 'get',
    path: '/api/cron/tick',
    tags: ['notifications'],
    summary: 'Drain the due schedule (Vercel Cron with CRON_SECRET, or a QStash signature)',
    responses: {
      200: json(z.object({ claimed: z.number(), sent: z.number(), failed: z.number() }), 'What this call did'),
      401: json(ErrorBody, 'Neither the cron secret nor a valid QStash signature'),
      503: common[503],
    },
  }),
};

export function registerNotifyRoutes(app: DocumentedHono<AppEnv>, deps: NotifyRouteDeps): void {
  const { owners, notify } = deps;
  const owner = (c: Parameters<typeof bearerOf>[0]) => owners.require(bearerOf(c));

  servePetRoute(app, routes.key, async (c) => jsonResponse(c, { public_key: await notify.publicKey() }, 200));

  servePetRoute(app, routes.addWebhook, async (c, { json: body }) => {
    const webhook = await notify.addWebhook(await owner(c), body);
    return jsonResponse(c, { id: webhook.id, url: webhook.url, events: webhook.events, pets: webhook.pets, secret: webhook.secret }, 201);
  });
  servePetRoute(app, routes.listWebhooks, async (c) => jsonResponse(c, { webhooks: await notify.listWebhooks(await owner(c)) }, 200));
  servePetRoute(app, routes.removeWebhook, async (c, { param }) => {
    await notify.removeTarget(await owner(c), 'webhook', param.id);
    return c.body(null, 204);
  });
  servePetRoute(app, routes.testWebhook, async (c, { param }) => jsonResponse(c, await notify.testWebhook(await owner(c), param.id), 200));
  servePetRoute(app, routes.deliveries, async (c, { param }) =>
    jsonResponse(c, { deliveries: await notify.deliveries(await owner(c), param.id) }, 200),
  );
  servePetRoute(app, routes.addPush, async (c, { json: body }) => {
    const subscription = await notify.addPush(await owner(c), {
      endpoint: body.subscription.endpoint,
      keys: body.subscription.keys,
      events: body.events,
      lang: body.lang ?? 'zh',
      quiet_hours: body.quiet_hours ?? null,
      timezone: body.timezone === undefined ? null : canonicalTimezone(body.timezone),
    });
    return jsonResponse(c, { id: subscription.id }, 201);
  });
  servePetRoute(app, routes.removePush, async (c, { param }) => {
    await notify.removeTarget(await owner(c), 'push', param.id);
    return c.body(null, 204);
  });
  servePetRoute(app, routes.cron, async (c) => {
    const allowed = await deps.cronAuth({
      authorization: c.req.header('authorization') ?? null,
      signature: c.req.header('upstash-signature') ?? null,
      body: '',
    });
    if (!allowed) throw new UnauthorizedError('send Authorization: Bearer $CRON_SECRET, or a QStash signature');
    const report = await notify.scheduler.drain(Date.now() + deps.cronBudgetMs);
    return jsonResponse(c, report, 200);
  });
}
