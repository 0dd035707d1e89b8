/**
 * The Web Push sender (RFC 8030/8291/8292, docs/design.md §13). `web-push` builds the request —
 * the payload encrypted with `aes128gcm` for the subscription's keys, the VAPID JWT signed with
 * this deployment's keys, TTL and Urgency — and fetch sends it: web-push's own sendNotification
 * speaks only https, while the sender must also reach a local push endpoint in self-hosting and
 * tests (the address rule for endpoints is checked where a subscription is registered).
 *
 * The outcome tells the caller what to do next: `gone` (404/410: the browser dropped the
 * subscription; delete it), `retry` (429, 5xx, 408, a network error or the timeout: the push service
 * may take it later), or neither (another 4xx, or a subscription whose keys cannot encrypt:
 * trying again sends the same refused request).
 *
 * `web-push` (with its JWT and ASN.1 dependencies) is imported on the first send, not with this
 * module: the Vercel bundle keeps it in a chunk of its own, so a cold function that sends no push
 * never loads it (docs/benchmarks.md "Cold start").
 */
import type { RequestDetails } from 'web-push';
import type { VapidKeys } from './vapid-keys.js';

export interface PushSubscriptionKeys {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** What the service worker receives, as JSON (the page shows title and body, opens `url`). */
export interface PushMessage {
  title: string;
  body: string;
  device_id: string;
  type: string;
  event_id: string;
  url: string;
}

export interface PushOutcome {
  /** The push service's HTTP status; null when no answer came (network error, timeout, bad keys). */
  status: number | null;
  ok: boolean;
  /** 404 or 410: the subscription no longer exists. */
  gone: boolean;
  retry: boolean;
  error?: string;
}

export type PushUrgency = 'very-low' | 'low' | 'normal' | 'high';

export interface PushSender {
  send(sub: PushSubscriptionKeys, message: PushMessage, options?: { ttlSeconds?: number; urgency?: PushUrgency }): Promise<PushOutcome>;
}

/** How long the push service keeps an undelivered message: a pet's news is stale after a day. */
export const DEFAULT_PUSH_TTL_S = 24 * 60 * 60;
/** A push service that has not answered by then is treated as down (retry). */
export const DEFAULT_PUSH_TIMEOUT_MS = 10_000;
/** At most this much of a refusal's body goes into the outcome's error (push services explain 4xx there). */
const ERROR_BODY_CHARS = 300;

type WebPush = typeof import('web-push');
let webPush: Promise<WebPush> | null = null;
const loadWebPush = (): Promise<WebPush> => {
  webPush ??= import('web-push').then((module) => ((module as { default?: WebPush }).default ?? module) as WebPush);
  return webPush;
};

function outcomeOf(status: number, detail: string): PushOutcome {
  if (status >= 200 && status < 300) return { status, ok: true, gone: false, retry: false };
  const gone = status === 404 || status === 410;
  const retry = status === 408 || status === 429 || status >= 500;
  const error = `the push service answered ${status}${detail === '' ? '' : `: ${detail}`}`;
  return { status, ok: false, gone, retry, error };
}

async function readDetail(response: Response): Promise<string> {
  try {
    const text = await response.text();
    return text.replace(/\s+/g, ' ').trim().slice(0, ERROR_BODY_CHARS);
  } catch {
    return '';
  }
}

export function createPushSender(options: { vapid: VapidKeys; fetch?: typeof fetch; timeoutMs?: number }): PushSender {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;
  const vapidDetails = { subject: options.vapid.subject, publicKey: options.vapid.publicKey, privateKey: options.vapid.privateKey };

  return {
    async send(sub, message, sendOptions = {}) {
      const webpush = await loadWebPush();
      let details: RequestDetails;
      try {
        details = webpush.generateRequestDetails(
          { endpoint: sub.endpoint, keys: { p256dh: sub.keys.p256dh, auth: sub.keys.auth } },
          JSON.stringify(message),
          {
            vapidDetails,
            TTL: sendOptions.ttlSeconds ?? DEFAULT_PUSH_TTL_S,
            urgency: sendOptions.urgency ?? 'normal',
            contentEncoding: 'aes128gcm',
          },
        );
      } catch (error) {
        // Keys that are not a P-256 point / 16-byte secret, or an endpoint that is not a URL.
        return { status: null, ok: false, gone: false, retry: false, error: `cannot build the push: ${(error as Error).message}` };
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(details.headers)) {
        // fetch sets the length from the body itself.
        if (name.toLowerCase() !== 'content-length') headers[name] = String(value);
      }
      try {
        const response = await doFetch(details.endpoint, {
          method: 'POST',
          headers,
          body: details.body === null ? null : new Uint8Array(details.body),
          // A redirect could lead to an address the registration check never saw.
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        const ok = response.status >= 200 && response.status < 300;
        const detail = ok ? '' : await readDetail(response);
        if (ok) await response.body?.cancel();
        return outcomeOf(response.status, detail);
      } catch (error) {
        const err = error as Error;
        const reason = err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : err.message;
        return { status: null, ok: false, gone: false, retry: true, error: `the push did not reach the push service: ${reason}` };
      }
    },
  };
}
