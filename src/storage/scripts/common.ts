/**
 * What every Lua script of the Redis drivers shares: the EVALSHA handle of a script, the Lua that
 * reads a pet's TTL, and the parsing of the values a script read (MGET) and of the ms a pet has left.
 */
import { createHash } from 'node:crypto';

/** SHA-1 of a script, the EVALSHA handle. */
export function scriptSha1(script: string): string {
  return createHash('sha1').update(script).digest('hex');
}

/**
 * Lua for the smallest PTTL among the `count` pet keys after KEYS[offset] (absent ones left out;
 * -1 when none expires). A pet's keys share one TTL (CAS_SCRIPT sets it on all); the smallest is
 * the safe bound all the same.
 */
export function petTtlLua(offset: string, count: string): string {
  return `(function() local left = -1 for i = 1, ${count} do local t = redis.call('PTTL', KEYS[${offset} + i]) if t >= 0 and (left < 0 or t < left) then left = t end end return left end)()`;
}

/**
 * Values a script read with MGET, absent ones as null; null when the reply is not such a list.
 * Over RESP3 a script's nil comes back as `false` (Lua's false is a RESP3 boolean), over RESP2 as null.
 */
export function storedValues(reply: unknown): (string | null)[] | null {
  if (!Array.isArray(reply)) return null;
  const values: (string | null)[] = [];
  for (const value of reply as unknown[]) {
    if (typeof value === 'string') values.push(value);
    else if (value === null || value === false) values.push(null);
    else return null;
  }
  return values;
}

/**
 * The ms a pet has left as a script reply says it at `index` (SNAPSHOT_LOAD_SCRIPT, the counted
 * load, a conflicting CAS_SCRIPT); null when it has no expiry or the reply does not say.
 */
export function petTtlOf(reply: unknown, index: number): number | null {
  const left = Array.isArray(reply) ? Number(reply[index]) : Number.NaN;
  return Number.isSafeInteger(left) && left >= 0 ? left : null;
}

/** True for a Redis error reply raised by CAS_SCRIPT for a corrupt meta. */
export function isCorruptReply(message: string): boolean {
  return message.startsWith('CORRUPT ');
}
