/**
 * The fixed-window rate-limit counter (`hit`): its Lua script, its arguments and its reply.
 */
import { CorruptStateError } from '../../errors.js';
import { type KeyLayout, PLAIN_LAYOUT, globalKey } from '../keys.js';
import { assertWindow, weightOf } from '../requests.js';
import type { HitRequest, HitResult } from '../types.js';
import { scriptSha1 } from './common.js';

/**
 * KEYS[1] = counter, ARGV[1] = window in ms, ARGV[2] = weight (optional, 1). INCRBY the weight;
 * the first hit of a window sets its expiry (as does a counter found without one); returns
 * {count, ms left}. The weight lets a cluster's counted load count its hits with this script.
 */
export const HIT_SCRIPT = `local weight = tonumber(ARGV[2]) or 1
local count = redis.call('INCRBY', KEYS[1], weight)
local left = redis.call('PTTL', KEYS[1])
if count == weight or left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {count, left}
`;

export const HIT_SHA1 = scriptSha1(HIT_SCRIPT);

/** KEYS and ARGV of HIT_SCRIPT. */
export function hitArguments(
  purpose: string,
  subject: string,
  windowMs: number,
  layout: KeyLayout = PLAIN_LAYOUT,
): { keys: string[]; args: string[] } {
  assertWindow(windowMs);
  return { keys: [globalKey(purpose, subject, layout)], args: [String(windowMs)] };
}

/** KEYS and ARGV of HIT_SCRIPT for a weighted hit (loadMany's; validated first). */
export function weightedHitArguments(request: HitRequest, layout: KeyLayout = PLAIN_LAYOUT): { keys: string[]; args: string[] } {
  const [key] = hitKeys([request], layout);
  return { keys: [key as string], args: [String(request.windowMs), String(weightOf(request))] };
}

/**
 * The counter key of every hit request, in order, each checked as `hit` checks it (purpose and
 * subject through globalKey, then the window). Throws TypeError/RangeError before any I/O.
 */
export function hitKeys(hits: readonly HitRequest[], layout: KeyLayout = PLAIN_LAYOUT): string[] {
  if (!Array.isArray(hits)) throw new TypeError('hits must be an array of {purpose, subject, windowMs}');
  return hits.map((request) => {
    const key = globalKey(request.purpose, request.subject, layout);
    assertWindow(request.windowMs);
    weightOf(request);
    return key;
  });
}

/** Parses HIT_SCRIPT's reply. */
export function parseHitReply(reply: unknown): HitResult {
  if (Array.isArray(reply)) {
    const [count, resetInMs] = reply.map(Number);
    if (Number.isSafeInteger(count) && Number.isSafeInteger(resetInMs)) {
      return { count: count as number, resetInMs: Math.max(0, resetInMs as number) };
    }
  }
  throw new CorruptStateError(`unexpected reply from the hit script: ${JSON.stringify(reply)}`);
}
