/**
 * Sends one webhook delivery (docs/design.md §13, Standard Webhooks): `POST url` with the JSON body
 * `{"type", "timestamp", "data": {"device_id", "event"}}` and the headers `webhook-id` (stable
 * across retries), `webhook-timestamp` (this attempt) and `webhook-signature`, signed with the
 * `standardwebhooks` package so any receiver's library verifies it. Redirects are not followed
 * (a redirect could lead past the address rule); the timeout counts as a failure.
 */
import { Webhook } from 'standardwebhooks';

export const WEBHOOK_TIMEOUT_MS = 10_000;

export interface WebhookMessage {
  /** `webhook-id`: the same on every attempt of this message. */
  id: string;
  type: string;
  /** ISO 8601: when the event happened (the body's `timestamp`). */
  timestamp: string;
  data: unknown;
}

export interface WebhookOutcome {
  status: number | null;
  ok: boolean;
  /** 410: the receiver says the endpoint is gone for good. */
  gone: boolean;
  error?: string;
}

export interface WebhookSenderOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** The attempt's time (webhook-timestamp). @default Date.now */
  now?: () => number;
}

/** The body and headers of one attempt (exported for tests and the receiver's checks). */
export function signedRequest(secret: string, message: WebhookMessage, nowMs: number): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ type: message.type, timestamp: message.timestamp, data: message.data });
  const at = new Date(Math.floor(nowMs / 1000) * 1000);
  const signature = new Webhook(secret).sign(message.id, at, body);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'pet-life-webhooks',
      'webhook-id': message.id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
    },
  };
}

export async function sendWebhook(
  url: string,
  secret: string,
  message: WebhookMessage,
  options: WebhookSenderOptions = {},
): Promise<WebhookOutcome> {
  const { body, headers } = signedRequest(secret, message, (options.now ?? Date.now)());
  try {
    const response = await (options.fetch ?? fetch)(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs ?? WEBHOOK_TIMEOUT_MS),
    });
    // The answer's body is not needed; drop it so that the connection is freed.
    await response.body?.cancel().catch(() => undefined);
    const ok = response.status >= 200 && response.status < 300;
    return { status: response.status, ok, gone: response.status === 410 };
  } catch (error) {
    return { status: null, ok: false, gone: false, error: error instanceof Error ? error.message : String(error) };
  }
}
