/**
 * One owed delivery, once (docs/design.md §13): the daily cap (counted at the first attempt),
 * quiet hours (pushes), a stale got_hungry (pushes), then the delivery record — created or taken
 * over by compare-and-set, so that of two instances only one sends — then the send, then the
 * record's outcome. What it answers tells the caller whether the pet still owes it and when.
 */
import type { PetEvent, StorageDriver } from '../../storage/index.js';
import { appendDeliveryLog } from './delivery-log.js';
import { DELIVERY_RECORD_TTL_MS, decodeDelivery, deliveryRef, type DeliveryRecord, type OwedDelivery } from './pet-state.js';
import type { PushOutcome, PushSender } from './push-sender.js';
import { pushText } from './push-text.js';
import { quietUntilMs } from './quiet-hours.js';
import { DISABLE_AFTER_MS, retryDelayMs } from './retry-schedule.js';
import type { PushTarget, Targets, WebhookTarget } from './targets.js';
import { sendWebhook, WEBHOOK_TIMEOUT_MS, type WebhookOutcome } from './webhook-sender.js';

const DAY_MS = 24 * 3_600_000;
/** How long a sender holds a delivery record: the send's timeout and some margin. */
const SENDING_HOLD_MS = WEBHOOK_TIMEOUT_MS + 5_000;

export interface DeliverContext {
  storage: StorageDriver;
  targets: Targets;
  petId: string;
  petName: string;
  petTimezone: string;
  nowMs: number;
  maxPerDay: number;
  /** Checks a URL against the address rule before it is called (public-address.ts). */
  checkUrl: (url: string) => Promise<void>;
  fetch?: typeof fetch;
  push: PushSender | null;
  /** The pet's page, for a push's click. */
  pageUrl: (petId: string) => string;
  /** Events of the pet after the owed one (to find a feeding after got_hungry). */
  laterEvents: (after: string) => Promise<PetEvent[]>;
}

/** Done (sent, refused for good, capped, stale or given up), or owed again at `nextMs`. */
export type DeliverResult = { done: true; sent: boolean } | { done: false; nextMs: number; failures: number; counted: boolean };

/** The webhook-id of an event: the pet and the event (event ids are per pet). */
export const webhookIdOf = (petId: string, eventId: string): string => `evt_${petId}_${eventId}`;

const isFeeding = (event: PetEvent): boolean => event.type === 'interacted' && event.data['action'] === 'feed';

export async function deliverOwed(
  owed: OwedDelivery,
  target: WebhookTarget | PushTarget | undefined,
  context: DeliverContext,
): Promise<DeliverResult> {
  const { storage, petId, nowMs } = context;
  if (target === undefined || ('disabled' in target && target.disabled !== null)) return { done: true, sent: false };
  if (owed.kind === 'push') {
    const push = target as PushTarget;
    const quietEnd = quietUntilMs(push.quiet_hours, push.timezone ?? context.petTimezone, nowMs);
    if (quietEnd !== null) return { done: false, nextMs: quietEnd, failures: owed.failures, counted: owed.counted === true };
    if (owed.event.type === 'got_hungry' && (await context.laterEvents(owed.event.id)).some(isFeeding)) {
      return { done: true, sent: false };
    }
  }
  let counted = owed.counted === true;
  if (!counted) {
    const hit = await storage.hit('notify-cap', `${owed.target}:${petId}`, DAY_MS);
    if (hit.count > context.maxPerDay) return { done: true, sent: false };
    counted = true;
  }

  // The delivery record decides who sends: create it, or take over one whose sender let it go.
  const ref = deliveryRef(owed.target, petId, owed.event.id);
  const holding: DeliveryRecord = { state: 'sending', until_ms: nowMs + SENDING_HOLD_MS };
  let version = 0;
  let claimed = await storage.saveRecord(ref, { expectedVersion: 0, value: JSON.stringify(holding), ttlMs: DELIVERY_RECORD_TTL_MS });
  if (!claimed.ok) {
    const [stored] = await storage.loadRecords([ref]);
    const record = decodeDelivery(stored);
    if (record === null || stored === null || stored === undefined)
      return { done: false, nextMs: nowMs + 1_000, failures: owed.failures, counted };
    if (record.state === 'done' || record.state === 'gone') return { done: true, sent: false };
    if (record.state === 'sending' && record.until_ms > nowMs)
      return { done: false, nextMs: record.until_ms, failures: owed.failures, counted };
    claimed = await storage.saveRecord(ref, {
      expectedVersion: stored.version,
      value: JSON.stringify(holding),
      ttlMs: DELIVERY_RECORD_TTL_MS,
    });
    if (!claimed.ok) return { done: false, nextMs: nowMs + 1_000, failures: owed.failures, counted };
  }
  version = claimed.version;

  const outcome =
    owed.kind === 'webhook'
      ? await sendToWebhook(owed, target as WebhookTarget, context)
      : await sendToPush(owed, target as PushTarget, context);
  const failures = outcome.ok ? owed.failures : owed.failures + 1;
  // A push service's refusal that no retry changes (a 400, a 413) is given up at once.
  const hopeless = 'retry' in outcome && !outcome.ok && !outcome.retry;
  const delay = outcome.ok || outcome.gone || hopeless ? null : retryDelayMs(failures);
  const state: DeliveryRecord['state'] = outcome.ok ? 'done' : outcome.gone ? 'gone' : 'retry';
  await storage.saveRecord(ref, { expectedVersion: version, value: JSON.stringify({ state, until_ms: 0 }), ttlMs: DELIVERY_RECORD_TTL_MS });

  if (owed.kind === 'webhook') {
    const webhook = target as WebhookTarget;
    await appendDeliveryLog(storage, webhook.id, {
      event_id: webhookIdOf(petId, owed.event.id),
      type: owed.event.type,
      device_id: petId,
      status: outcome.status,
      ok: outcome.ok,
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
      at: new Date(nowMs).toISOString(),
      next_try: delay === null ? null : new Date(nowMs + delay).toISOString(),
    });
    const endpoint = outcome.ok ? 'ok' : outcome.gone ? 'gone' : 'failed';
    if (endpoint !== 'ok' || webhook.failing_since_ms !== null) {
      await context.targets.markWebhook(owed.owner, webhook.id, endpoint, nowMs, DISABLE_AFTER_MS);
    }
  } else if (outcome.gone) {
    await context.targets.remove(owed.owner, 'push', owed.target).catch(() => undefined);
  }
  if (outcome.ok || outcome.gone || delay === null) return { done: true, sent: outcome.ok };
  return { done: false, nextMs: nowMs + delay, failures, counted };
}

async function sendToWebhook(owed: OwedDelivery, webhook: WebhookTarget, context: DeliverContext): Promise<WebhookOutcome> {
  try {
    await context.checkUrl(webhook.url);
  } catch (error) {
    return { status: null, ok: false, gone: false, error: error instanceof Error ? error.message : String(error) };
  }
  return sendWebhook(
    webhook.url,
    webhook.secret,
    {
      id: webhookIdOf(context.petId, owed.event.id),
      type: owed.event.type,
      timestamp: owed.event.at,
      data: { device_id: context.petId, event: owed.event },
    },
    { now: () => context.nowMs, ...(context.fetch === undefined ? {} : { fetch: context.fetch }) },
  );
}

async function sendToPush(owed: OwedDelivery, push: PushTarget, context: DeliverContext): Promise<PushOutcome> {
  if (context.push === null) return { status: null, ok: false, gone: false, retry: true, error: 'push is not configured' };
  try {
    await context.checkUrl(push.endpoint);
  } catch (error) {
    return { status: null, ok: false, gone: false, retry: true, error: error instanceof Error ? error.message : String(error) };
  }
  const text = pushText(owed.event, context.petName, push.lang);
  return context.push.send(
    { endpoint: push.endpoint, keys: push.keys },
    { ...text, device_id: context.petId, type: owed.event.type, event_id: owed.event.id, url: context.pageUrl(context.petId) },
    { urgency: owed.event.type === 'got_hungry' ? 'high' : 'normal' },
  );
}
