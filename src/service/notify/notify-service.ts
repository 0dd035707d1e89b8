/**
 * The notification surface the routes use (docs/design.md §13): registering and removing an
 * owner's webhook endpoints and push subscriptions (the address rule, the limits, a rate limit per
 * owner), enrolling the owner's pets on the schedule, test pings, the delivery log, the VAPID key,
 * and the scheduler (loop or cron drain).
 */
import { randomBytes } from 'node:crypto';
import { NotFoundError, RateLimitedError } from '../../errors.js';
import type { StorageDriver } from '../../storage/index.js';
import type { Clock } from '../clock.js';
import type { Owners } from '../owners.js';
import type { PetService } from '../pet-service.js';
import { readDeliveryLog, appendDeliveryLog, type DeliveryAttempt } from './delivery-log.js';
import { createNotifier } from './notifier.js';
import { assertCallableUrl } from './public-address.js';
import { createPushSender, type PushSender } from './push-sender.js';
import { createScheduler, type Scheduler, type SchedulerLog } from './scheduler.js';
import { createTargets, DEFAULT_NOTIFY_EVENTS, type PushInput, type PushTarget, type Targets, type WebhookTarget } from './targets.js';
import { loadVapidKeys, type VapidKeys } from './vapid-keys.js';
import { sendWebhook } from './webhook-sender.js';

/** Registration changes (add, remove, test) one owner may make per hour. */
export const NOTIFY_CHANGES_PER_HOUR = 60;
const HOUR_MS = 3_600_000;

export interface NotifyServiceOptions {
  storage: StorageDriver;
  service: PetService;
  owners: Pick<Owners, 'index'>;
  clock: Clock;
  allowPrivate: boolean;
  maxPerDay: number;
  vapid: Partial<VapidKeys>;
  /** Where the page is (PUBLIC_URL), for a push's click; null: the path alone. */
  publicUrl: string | null;
  log?: SchedulerLog;
  fetch?: typeof fetch;
  leaseMs?: number;
  tickMs?: number;
}

/** A webhook endpoint as listed (never its secret). */
export type WebhookView = Omit<WebhookTarget, 'secret' | 'failing_since_ms'> & { failing_since: string | null };

export interface NotifyService {
  readonly targets: Targets;
  readonly scheduler: Scheduler;
  publicKey(): Promise<string>;
  addWebhook(ownerId: string, input: { url: string; events?: string[] | undefined; pets?: string[] | undefined }): Promise<WebhookTarget>;
  listWebhooks(ownerId: string): Promise<WebhookView[]>;
  removeTarget(ownerId: string, kind: 'webhook' | 'push', id: string): Promise<void>;
  testWebhook(ownerId: string, id: string): Promise<DeliveryAttempt>;
  deliveries(ownerId: string, id: string): Promise<DeliveryAttempt[]>;
  addPush(ownerId: string, input: Omit<PushInput, 'events'> & { events?: string[] | undefined }): Promise<PushTarget>;
}

export function viewOf(webhook: WebhookTarget): WebhookView {
  const { secret: _secret, failing_since_ms: since, ...rest } = webhook;
  return { ...rest, failing_since: since === null ? null : new Date(since).toISOString() };
}

export function createNotifyService(options: NotifyServiceOptions): NotifyService {
  const { storage, service, owners, clock } = options;
  const targets = createTargets(storage);
  const rule = { allowPrivate: options.allowPrivate };
  const checkUrl = async (url: string): Promise<void> => {
    await assertCallableUrl(url, 'url', rule);
  };
  let vapid: Promise<VapidKeys> | null = null;
  const keys = (): Promise<VapidKeys> => {
    vapid ??= loadVapidKeys(storage, options.vapid).catch((error: unknown) => {
      vapid = null;
      throw error;
    });
    return vapid;
  };
  let sender: PushSender | null = null;
  const push: PushSender = {
    async send(sub, message, sendOptions) {
      sender ??= createPushSender({ vapid: await keys(), ...(options.fetch === undefined ? {} : { fetch: options.fetch }) });
      return sender.send(sub, message, sendOptions);
    },
  };
  const base = options.publicUrl?.replace(/\/+$/, '') ?? '';
  const notifier = createNotifier({
    storage,
    service,
    targets,
    clock,
    maxPerDay: options.maxPerDay,
    checkUrl,
    push,
    pageUrl: (petId) => `${base}/?pet=${encodeURIComponent(petId)}`,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
  const scheduler = createScheduler({
    storage,
    notifier,
    clock,
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }),
    ...(options.log === undefined ? {} : { log: options.log }),
  });

  /** Counts one registration change of the owner; RateLimitedError past NOTIFY_CHANGES_PER_HOUR. */
  const counted = async (ownerId: string): Promise<void> => {
    const hit = await storage.hit('rl-notify', ownerId, HOUR_MS);
    if (hit.count > NOTIFY_CHANGES_PER_HOUR) {
      const resetS = Math.max(1, Math.ceil(hit.resetInMs / 1000));
      throw new RateLimitedError(
        `at most ${NOTIFY_CHANGES_PER_HOUR} notification changes per hour per owner; retry after ${resetS} s`,
        resetS,
        [{ policy: 'client', limit: NOTIFY_CHANGES_PER_HOUR, remaining: 0, resetS, windowS: HOUR_MS / 1000 }],
      );
    }
  };
  /** Puts every pet of the owner on the schedule (from now on: no older event is delivered). */
  const enrollOwner = async (ownerId: string): Promise<void> => {
    const pets = await owners.index(ownerId);
    await Promise.all(pets.map((pet) => notifier.enroll(pet.id)));
  };
  const webhookOf = async (ownerId: string, id: string): Promise<WebhookTarget> => {
    const found = (await targets.of(ownerId)).webhooks.find((w) => w.id === id);
    if (found === undefined) {
      throw new NotFoundError(`no webhook endpoint ${id}`);
    }
    return found;
  };

  return {
    targets,
    scheduler,
    publicKey: async () => (await keys()).publicKey,

    async addWebhook(ownerId, input) {
      await counted(ownerId);
      await assertCallableUrl(input.url, 'url', rule);
      const webhook = await targets.addWebhook(ownerId, {
        url: input.url,
        events: input.events ?? [...DEFAULT_NOTIFY_EVENTS],
        pets: input.pets ?? null,
      });
      await enrollOwner(ownerId);
      return webhook;
    },

    listWebhooks: async (ownerId) => (await targets.of(ownerId)).webhooks.map(viewOf),

    async removeTarget(ownerId, kind, id) {
      await counted(ownerId);
      await targets.remove(ownerId, kind, id);
    },

    async testWebhook(ownerId, id) {
      await counted(ownerId);
      const webhook = await webhookOf(ownerId, id);
      await checkUrl(webhook.url);
      const nowMs = clock.nowMs();
      const pingId = `ping_${randomBytes(12).toString('base64url')}`;
      const outcome = await sendWebhook(
        webhook.url,
        webhook.secret,
        { id: pingId, type: 'ping', timestamp: new Date(nowMs).toISOString(), data: { webhook_id: id } },
        options.fetch === undefined ? {} : { fetch: options.fetch },
      );
      const attempt: DeliveryAttempt = {
        event_id: pingId,
        type: 'ping',
        device_id: null,
        status: outcome.status,
        ok: outcome.ok,
        ...(outcome.error === undefined ? {} : { error: outcome.error }),
        at: new Date(nowMs).toISOString(),
        next_try: null,
      };
      await appendDeliveryLog(storage, id, attempt);
      return attempt;
    },

    async deliveries(ownerId, id) {
      await webhookOf(ownerId, id);
      return readDeliveryLog(storage, id);
    },

    async addPush(ownerId, input) {
      await counted(ownerId);
      await assertCallableUrl(input.endpoint, 'subscription.endpoint', rule);
      const subscription = await targets.addPush(ownerId, { ...input, events: input.events ?? [...DEFAULT_NOTIFY_EVENTS] });
      await enrollOwner(ownerId);
      return subscription;
    },
  };
}
