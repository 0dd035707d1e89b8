/**
 * The compare-and-set with the rate-limit counters of its request (docs/design.md §11, §15): one
 * script call that counts the request, as HIT_SCRIPT does, and runs CAS_SCRIPT only when no
 * enforced counter is over its limit. A change of a held pet then costs the call and the snapshot
 * barrier, not a separate call for the counters before. It needs one Redis (or Upstash): the
 * counters are global keys, in other cluster slots than the pet's. The driver offers it only with
 * snapshots (redis-commands.ts `saveCounted`), the one case where no load could count instead.
 */
import { type KeyLayout, PLAIN_LAYOUT } from '../keys.js';
import { weightOf } from '../requests.js';
import type { HitRequest, HitResult, SaveResult } from '../types.js';
import { CorruptStateError } from '../../errors.js';
import { CAS_SCRIPT, parseCasReply } from './cas.js';
import { scriptSha1 } from './common.js';
import { hitKeys, parseHitReply } from './hit.js';

/**
 * KEYS and ARGV are CAS_SCRIPT's, then g counter keys at the end of KEYS, and at the end of ARGV
 * the window ms, the weight and the limit (0 = not enforced) of each counter, then g. Each counter
 * is counted first, in order (INCRBY its weight; the first hit of a window, or a counter without
 * an expiry, gets the window as expiry); when an enforced counter is then over its limit, nothing
 * is written and the reply is {{count1, ms left1, …}, {2}}; else {{counts}, CAS_SCRIPT's reply}.
 * CAS_SCRIPT runs unchanged as a function of the remaining KEYS and ARGV.
 */
export const COUNTED_CAS_SCRIPT = `local function cas(KEYS, ARGV)
${CAS_SCRIPT}end
local g = tonumber(ARGV[#ARGV])
local nk, na = #KEYS - g, #ARGV - 1 - 3 * g
local hits = {}
local over = false
for i = 1, g do
  local key, window = KEYS[nk + i], ARGV[na + i]
  local weight, limit = tonumber(ARGV[na + g + i]), tonumber(ARGV[na + 2 * g + i])
  local count = redis.call('INCRBY', key, weight)
  local left = redis.call('PTTL', key)
  if count == weight or left < 0 then
    redis.call('PEXPIRE', key, window)
    left = tonumber(window)
  end
  hits[2 * i - 1] = count
  hits[2 * i] = left
  if limit > 0 and count > limit then over = true end
end
if over then return {hits, {2}} end
return {hits, cas({unpack(KEYS, 1, nk)}, {unpack(ARGV, 1, na)})}
`;

export const COUNTED_CAS_SHA1 = scriptSha1(COUNTED_CAS_SCRIPT);

/** The counters of a counted save: each hit, and the limit its count may reach (0 = not enforced). */
export interface SaveCounters {
  hits: readonly HitRequest[];
  limits: readonly number[];
}

/** KEYS and ARGV of COUNTED_CAS_SCRIPT from CAS_SCRIPT's (each hit checked as hitKeys checks it). */
export function countedCasArguments(
  cas: { keys: string[]; args: string[] },
  counters: SaveCounters,
  layout: KeyLayout = PLAIN_LAYOUT,
): { keys: string[]; args: string[] } {
  const counterKeys = hitKeys(counters.hits, layout);
  if (counters.limits.length !== counterKeys.length || !counters.limits.every((limit) => Number.isSafeInteger(limit) && limit >= 0)) {
    throw new RangeError('a counted save needs one limit (a whole number, 0 = not enforced) per hit');
  }
  return {
    keys: [...cas.keys, ...counterKeys],
    args: [
      ...cas.args,
      ...counters.hits.map((hit) => String(hit.windowMs)),
      ...counters.hits.map((hit) => String(weightOf(hit))),
      ...counters.limits.map(String),
      String(counterKeys.length),
    ],
  };
}

/**
 * Parses COUNTED_CAS_SCRIPT's reply: the counts, the CAS reply as it came (for its conflict's
 * PTTL) and its result, null when a limit refused the write.
 */
export function parseCountedCasReply(
  reply: unknown,
  petId: string,
  count: number,
): { hits: HitResult[]; casReply: unknown; result: SaveResult | null } {
  if (Array.isArray(reply) && reply.length === 2 && Array.isArray(reply[0]) && reply[0].length === 2 * count) {
    const raw = reply[0] as unknown[];
    const hits = Array.from({ length: count }, (_, i) => parseHitReply([raw[2 * i], raw[2 * i + 1]]));
    const casReply: unknown = reply[1];
    if (Array.isArray(casReply) && casReply.length === 1 && Number(casReply[0]) === 2) return { hits, casReply, result: null };
    return { hits, casReply, result: parseCasReply(casReply, petId) };
  }
  throw new CorruptStateError(`unexpected reply from the counted compare-and-set script: ${JSON.stringify(reply).slice(0, 200)}`);
}
