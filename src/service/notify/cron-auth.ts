/**
 * Who may run the cron route (docs/design.md §13): Vercel Cron, which sends `Authorization: Bearer
 * $CRON_SECRET`, or Upstash QStash, whose `Upstash-Signature` JWT is checked with its Receiver
 * against the current and next signing keys (so a key rotation never fails a call).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Receiver } from '@upstash/qstash';

export interface CronAuthOptions {
  cronSecret: string | null;
  qstash: { current: string; next: string } | null;
}

export interface CronRequest {
  authorization: string | null;
  signature: string | null;
  body: string;
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** True when the request comes from a scheduler we trust; never throws. */
export function createCronAuth(options: CronAuthOptions): (request: CronRequest) => Promise<boolean> {
  const receiver =
    options.qstash === null ? null : new Receiver({ currentSigningKey: options.qstash.current, nextSigningKey: options.qstash.next });
  return async (request) => {
    if (options.cronSecret !== null && request.authorization !== null) {
      // Compared as digests: constant time whatever the lengths.
      if (timingSafeEqual(digest(request.authorization), digest(`Bearer ${options.cronSecret}`))) return true;
    }
    if (receiver !== null && request.signature !== null) {
      try {
        return await receiver.verify({ signature: request.signature, body: request.body });
      } catch {
        return false;
      }
    }
    return false;
  };
}
