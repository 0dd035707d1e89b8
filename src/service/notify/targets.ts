/**
 * An owner's notification targets (docs/design.md §13): webhook endpoints and Web Push
 * subscriptions, in one record `life_~notify:<owner id>` changed by compare-and-set. A pet's
 * targets are those of its owners (`meta.owners`) that choose it (a webhook's `pets`).
 */
import { randomBytes } from 'node:crypto';
import { ConflictRetriesExhaustedError, CorruptStateError, LimitReachedError, NotFoundError } from '../../errors.js';
import type { RecordRef, StorageDriver } from '../../storage/index.js';

/** Events a target gets when it names none. */
export const DEFAULT_NOTIFY_EVENTS: readonly string[] = ['got_hungry', 'woke_up', 'visited'];
/** Every event type a target may choose (docs/design.md §9). */
export const NOTIFY_EVENT_TYPES: readonly string[] = [
  'fell_asleep',
  'woke_up',
  'got_hungry',
  'interacted',
  'visited',
  'befriended',
  'unfriended',
  'claimed',
  'reset',
  'updated',
  'created',
  'owner_added',
  'owner_left',
];
export const MAX_WEBHOOKS_PER_OWNER = 10;
export const MAX_PUSH_PER_OWNER = 20;
const MAX_ATTEMPTS = 20;

export interface WebhookTarget {
  id: string;
  url: string;
  /** `whsec_<base64 of 32 random bytes>`; shown once, kept to sign. */
  secret: string;
  events: string[];
  /** Only these pets; null: every pet of the owner. */
  pets: string[] | null;
  created_at: string;
  /** Wall ms of the first failure since the last success; null while it works. */
  failing_since_ms: number | null;
  /** Why deliveries stopped: `gone` (it answered 410) or `failing` (3 days of failures); null: active. */
  disabled: { reason: 'gone' | 'failing'; at: string } | null;
}

export interface QuietHours {
  from: string;
  to: string;
}

export interface PushTarget {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
  events: string[];
  lang: 'zh' | 'en';
  quiet_hours: QuietHours | null;
  /** Zone of the quiet hours; null: the pet's. */
  timezone: string | null;
  created_at: string;
}

export interface OwnerTargets {
  webhooks: WebhookTarget[];
  push: PushTarget[];
}

const EMPTY: OwnerTargets = { webhooks: [], push: [] };
const refOf = (ownerId: string): RecordRef => ({ purpose: 'notify', subject: ownerId });

export type WebhookInput = Pick<WebhookTarget, 'url' | 'events' | 'pets'>;
export type PushInput = Pick<PushTarget, 'endpoint' | 'keys' | 'events' | 'lang' | 'quiet_hours' | 'timezone'>;
/** What a delivery tells about an endpoint. */
export type EndpointOutcome = 'ok' | 'failed' | 'gone';

export interface Targets {
  /** The owner's targets (none when it has no record). */
  of(ownerId: string): Promise<OwnerTargets>;
  /** Several owners' targets in one round trip. */
  ofMany(ownerIds: readonly string[]): Promise<Map<string, OwnerTargets>>;
  addWebhook(ownerId: string, input: WebhookInput): Promise<WebhookTarget>;
  addPush(ownerId: string, input: PushInput): Promise<PushTarget>;
  /** NotFoundError when the owner has no such target. */
  remove(ownerId: string, kind: 'webhook' | 'push', id: string): Promise<void>;
  /** Records an endpoint's outcome: a success clears its failing mark; failures for 3 days or a 410 disable it. */
  markWebhook(ownerId: string, id: string, outcome: EndpointOutcome, nowMs: number, disableAfterMs: number): Promise<void>;
}

function decode(ownerId: string, value: string | undefined): OwnerTargets {
  if (value === undefined) return EMPTY;
  try {
    const parsed = JSON.parse(value) as OwnerTargets;
    if (Array.isArray(parsed.webhooks) && Array.isArray(parsed.push)) return parsed;
  } catch {
    // reported below
  }
  throw new CorruptStateError(`the notification targets of owner ${ownerId} cannot be read`);
}

export function createTargets(storage: StorageDriver): Targets {
  const update = async <T>(ownerId: string, change: (targets: OwnerTargets) => { next: OwnerTargets | null; result: T }): Promise<T> => {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const [stored] = await storage.loadRecords([refOf(ownerId)]);
      const { next, result } = change(decode(ownerId, stored?.value));
      if (next === null) return result;
      const saved = await storage.saveRecord(refOf(ownerId), { expectedVersion: stored?.version ?? 0, value: JSON.stringify(next) });
      if (saved.ok) return result;
    }
    throw new ConflictRetriesExhaustedError(`the targets of owner ${ownerId} are being changed by too many requests at once; try again`);
  };

  return {
    async of(ownerId) {
      const [stored] = await storage.loadRecords([refOf(ownerId)]);
      return decode(ownerId, stored?.value);
    },

    async ofMany(ownerIds) {
      const stored = ownerIds.length === 0 ? [] : await storage.loadRecords(ownerIds.map(refOf));
      return new Map(ownerIds.map((id, index) => [id, decode(id, stored[index]?.value)]));
    },

    addWebhook: (ownerId, input) =>
      update(ownerId, (targets) => {
        if (targets.webhooks.length >= MAX_WEBHOOKS_PER_OWNER) {
          throw new LimitReachedError(`an owner may have at most ${MAX_WEBHOOKS_PER_OWNER} webhook endpoints`);
        }
        const webhook: WebhookTarget = {
          id: `wh_${randomBytes(12).toString('base64url')}`,
          ...input,
          secret: `whsec_${randomBytes(32).toString('base64')}`,
          created_at: new Date().toISOString(),
          failing_since_ms: null,
          disabled: null,
        };
        return { next: { ...targets, webhooks: [...targets.webhooks, webhook] }, result: webhook };
      }),

    addPush: (ownerId, input) =>
      update(ownerId, (targets) => {
        // The same browser subscribing again replaces its subscription (its keys may have changed).
        const others = targets.push.filter((p) => p.endpoint !== input.endpoint);
        if (others.length >= MAX_PUSH_PER_OWNER) {
          throw new LimitReachedError(`an owner may have at most ${MAX_PUSH_PER_OWNER} push subscriptions`);
        }
        const push: PushTarget = { id: `ps_${randomBytes(12).toString('base64url')}`, ...input, created_at: new Date().toISOString() };
        return { next: { ...targets, push: [...others, push] }, result: push };
      }),

    async remove(ownerId, kind, id) {
      const found = await update(ownerId, (targets) => {
        const list = kind === 'webhook' ? targets.webhooks : targets.push;
        if (!list.some((t) => t.id === id)) return { next: null, result: false };
        const next =
          kind === 'webhook'
            ? { ...targets, webhooks: targets.webhooks.filter((t) => t.id !== id) }
            : { ...targets, push: targets.push.filter((t) => t.id !== id) };
        return { next, result: true };
      });
      if (!found) throw new NotFoundError(`no ${kind === 'webhook' ? 'webhook endpoint' : 'push subscription'} ${id}`);
    },

    async markWebhook(ownerId, id, outcome, nowMs, disableAfterMs) {
      await update(ownerId, (targets) => {
        const webhook = targets.webhooks.find((w) => w.id === id);
        if (webhook === undefined || webhook.disabled !== null) return { next: null, result: undefined };
        let changed: WebhookTarget | null = null;
        if (outcome === 'ok' && webhook.failing_since_ms !== null) changed = { ...webhook, failing_since_ms: null };
        if (outcome === 'gone') changed = { ...webhook, disabled: { reason: 'gone', at: new Date(nowMs).toISOString() } };
        if (outcome === 'failed') {
          const since = webhook.failing_since_ms ?? nowMs;
          const disabled = nowMs - since >= disableAfterMs ? { reason: 'failing' as const, at: new Date(nowMs).toISOString() } : null;
          if (webhook.failing_since_ms === null || disabled !== null) changed = { ...webhook, failing_since_ms: since, disabled };
        }
        if (changed === null) return { next: null, result: undefined };
        const done = changed;
        return { next: { ...targets, webhooks: targets.webhooks.map((w) => (w.id === id ? done : w)) }, result: undefined };
      });
    },
  };
}
