/**
 * The client's fetch: the owner or claim secret as `Authorization: Bearer`, and for every change
 * (any method but GET and HEAD) an `Idempotency-Key` kept across its retries. A change answered 503,
 * or whose answer never came, may or may not have been applied; sent again with the same key, the
 * server applies it at most once and answers the first answer again (docs/reliability.md).
 */
import { retryAfterSeconds } from './errors.js';

export interface RetryOptions {
  /** Tries of one change in all, the first included. @default 3 */
  tries?: number;
  /** The pause before the second try, ms; each next one doubles, with full jitter. @default 250 */
  baseDelayMs?: number;
  /** No pause is longer, Retry-After included. @default 5000 */
  maxDelayMs?: number;
}

export interface ClientFetchOptions {
  fetch: typeof fetch;
  /** Read at each request: the Bearer secret, or null/undefined for none. */
  secret: () => string | null | undefined;
  retry: Required<RetryOptions>;
  /** The pause between tries (tests pass a fake). */
  sleep: (ms: number, signal?: AbortSignal | null) => Promise<void>;
  /** In [0, 1): the jitter (tests pass a fixed one). */
  random: () => number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = { tries: 3, baseDelayMs: 250, maxDelayMs: 5000 };

/** 128 random bits, hex (crypto.randomUUID needs a secure context; a page on a LAN address over http is not one). */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

export function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const isChange = (method: string) => method !== 'GET' && method !== 'HEAD';

/** A fetch that adds the secret and, on changes, the key and the retries. */
export function clientFetch(options: ClientFetchOptions): (input: Request) => Promise<Response> {
  return async (input) => {
    const headers = new Headers(input.headers);
    const secret = options.secret();
    if (secret && !headers.has('authorization')) headers.set('authorization', `Bearer ${secret}`);
    if (!isChange(input.method)) return options.fetch(new Request(input, { headers }));
    if (!headers.has('idempotency-key')) headers.set('idempotency-key', newIdempotencyKey());
    // Read once, so that every try sends the same bytes.
    const body = input.body === null ? null : await input.arrayBuffer();
    const { tries, baseDelayMs, maxDelayMs } = options.retry;
    for (let attempt = 1; ; attempt += 1) {
      let waitS: number | undefined;
      try {
        const response = await options.fetch(new Request(input.url, { method: input.method, headers, body, signal: input.signal }));
        if (response.status !== 503 || attempt >= tries) return response;
        waitS = retryAfterSeconds(response);
        await response.body?.cancel();
      } catch (error) {
        // Aborted by the caller: not a failure to retry.
        if (attempt >= tries || input.signal.aborted) throw error;
      }
      const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      const delay = waitS === undefined ? options.random() * backoff : Math.min(maxDelayMs, waitS * 1000);
      await options.sleep(delay, input.signal);
    }
  };
}
