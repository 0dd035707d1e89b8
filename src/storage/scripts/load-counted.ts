/**
 * The counted load: the rate-limit counters of a request and its pet's keys, in one script call.
 */
import { SYSTEM_NAMES } from '../../engine/types.js';
import { CorruptStateError } from '../../errors.js';
import { type KeyLayout, PLAIN_LAYOUT, decodeLoad, loadKeyList } from '../keys.js';
import { weightOf } from '../requests.js';
import type { HitRequest, HitResult, LoadOptions, PetRecord } from '../types.js';
import { petTtlLua, scriptSha1, storedValues } from './common.js';
import { hitKeys, parseHitReply } from './hit.js';

/**
 * The counted load: KEYS[1..h] = the h counters, KEYS[h+1..] = the pet's keys in loadKeyList
 * order (meta, every system, the requested extras); ARGV[1] = h, ARGV[1+i] = window ms of
 * counter i, ARGV[1+h+i] = its weight, ARGV[2+2h] = how many pet keys are meta and systems
 * (optional, 0). Each counter is counted as HIT_SCRIPT does, by its weight (INCRBY), in order, then
 * every pet key is read. Returns {{count1, ms left1, count2, …}, {value or nil per pet key}, ms
 * the pet has left (as SNAPSHOT_LOAD_SCRIPT; -1 when none expires or none was asked)}. Without pet keys it only counts (the hits of a read served from a
 * snapshot: one call per counter, each touching one global key).
 */
export const LOAD_COUNTED_SCRIPT = `local h = tonumber(ARGV[1])
local hits = {}
for i = 1, h do
  local weight = tonumber(ARGV[1 + h + i])
  local count = redis.call('INCRBY', KEYS[i], weight)
  local left = redis.call('PTTL', KEYS[i])
  if count == weight or left < 0 then
    redis.call('PEXPIRE', KEYS[i], ARGV[1 + i])
    left = tonumber(ARGV[1 + i])
  end
  hits[2 * i - 1] = count
  hits[2 * i] = left
end
local values = {}
if #KEYS > h then values = redis.call('MGET', unpack(KEYS, h + 1)) end
return {hits, values, ${petTtlLua('h', "tonumber(ARGV[2 + 2 * h] or '0')")}}
`;

export const LOAD_COUNTED_SHA1 = scriptSha1(LOAD_COUNTED_SCRIPT);

/** What a counted load sends (LOAD_COUNTED_SCRIPT) and needs to decode its reply. */
export interface CountedLoadCall {
  keys: string[];
  args: string[];
  /** The extras asked for (decodeLoad needs them). */
  extras: readonly string[];
  /** How many hits were asked for. */
  hits: number;
}

/** KEYS and ARGV of LOAD_COUNTED_SCRIPT (validates the id, the extra names and every hit first). */
export function loadCountedArguments(
  petId: string,
  options: LoadOptions & { hits: readonly HitRequest[] },
  layout: KeyLayout = PLAIN_LAYOUT,
): CountedLoadCall {
  const extras = options.extras ?? [];
  const petKeyList = loadKeyList(petId, extras, layout);
  const counters = hitKeys(options.hits, layout);
  return {
    keys: [...counters, ...petKeyList],
    args: [
      String(counters.length),
      ...options.hits.map((request) => String(request.windowMs)),
      ...options.hits.map((request) => String(weightOf(request))),
      String(1 + SYSTEM_NAMES.length),
    ],
    extras,
    hits: counters.length,
  };
}

/** KEYS and ARGV of LOAD_COUNTED_SCRIPT counting one hit and reading nothing (checked as hitKeys checks it). */
export function countedHitArguments(hit: HitRequest, layout: KeyLayout = PLAIN_LAYOUT): CountedLoadCall {
  const [counter] = hitKeys([hit], layout) as [string];
  return { keys: [counter], args: ['1', String(hit.windowMs), String(weightOf(hit))], extras: [], hits: 1 };
}

/** Parses LOAD_COUNTED_SCRIPT's reply into load()'s record and one HitResult per hit. */
export function parseLoadCountedReply(
  petId: string,
  call: CountedLoadCall,
  reply: unknown,
): { record: PetRecord | null; hits: HitResult[] } {
  const bad = (): never => {
    throw new CorruptStateError(`unexpected reply from the counted-load script: ${JSON.stringify(reply).slice(0, 200)}`);
  };
  if (!Array.isArray(reply) || reply.length < 2 || reply.length > 3) return bad();
  const [rawHits, values] = reply as [unknown, unknown];
  if (!Array.isArray(rawHits) || rawHits.length !== 2 * call.hits) return bad();
  const stored = storedValues(values);
  if (stored === null || stored.length !== call.keys.length - call.hits) return bad();
  const hits: HitResult[] = [];
  for (let i = 0; i < call.hits; i += 1) {
    hits.push(parseHitReply([rawHits[2 * i], rawHits[2 * i + 1]]));
  }
  // Counters only (no pet keys): nothing to decode.
  if (stored.length === 0) return { record: null, hits };
  return { record: decodeLoad(petId, stored, call.extras), hits };
}
