/**
 * The compare-and-set save (docs/storage.md, DESIGN §11), one Lua script shared by both Redis
 * drivers (TCP and Upstash REST): its text, its arguments and the parsing of its reply. Pure; the
 * request checks every driver applies are in requests.ts.
 */
import { SYSTEM_NAMES } from '../../engine/types.js';
import { CorruptStateError } from '../../errors.js';
import { EVENT_LOG_MAX, EVENTS_CHANNEL, encodeEvent, isEventId } from '../events.js';
import { type KeyLayout, MAX_EXTRAS_PER_PET, PLAIN_LAYOUT, decodeLoad, encodeValue, extraKey, petKeys } from '../keys.js';
import { assertSaveRequest, saveTtl, type WriteRequest } from '../requests.js';
import type { SaveResult } from '../types.js';
import { scriptSha1, storedValues } from './common.js';

/**
 * KEYS[1] = meta, KEYS[2..1+n] = the n systems (SYSTEM_NAMES order), KEYS[2+n] = the extras
 * index (`life_<id>:extras`), KEYS[3+n] = the event log (`life_<id>:events`, a stream),
 * KEYS[4+n..] = extras.
 * ARGV[1] = expected version, or 'any' (a replace), ARGV[2] = pet TTL in ms (0 = none),
 * ARGV[3] = meta JSON, ARGV[4] = n, ARGV[5..4+n] = system JSON or '' when unchanged,
 * ARGV[5+n] = the new version (meta's), ARGV[6+n] = now (Unix ms, the caller's clock),
 * ARGV[7+n] = the most extras kept per pet, ARGV[8+n] = e, the number of events to append,
 * ARGV[9+n] = the log's bound, ARGV[10+n] = the channel to announce on, ARGV[11+n] = the pet id,
 * ARGV[12+n..11+n+e] = the events' JSON, then value, ttl ms per extra.
 * Stored meta without a numeric version is an error (CORRUPT); an absent meta is version 0.
 * On a match: writes the given systems and the meta (SET … PX ttl, or plain SET without a TTL),
 * refreshes the TTL of the unchanged system keys (PEXPIRE) and writes the extras with their own
 * PX; appends the events (XADD … MAXLEN ~ bound * e <json>: ids from the server's clock,
 * strictly increasing per stream), gives the log the pet's TTL (PEXPIRE, or PERSIST as for the
 * systems) and PUBLISHes the pet id on the channel when events were appended; returns
 * {1, new version, keys written, {event ids}}. On a mismatch it writes nothing and returns
 * {0, current version, {meta and every system as stored}, ms left of the meta (PTTL)}, so that
 * the caller can retry without reading the pet again (§11). Its last command reads nothing back but touches the meta and
 * systems with EXISTS: a read, so a client with CLIENT TRACKING … NOLOOP (snapshots.ts) is
 * tracking the keys again after its own write (a write drops every client's tracking of a key). Without a TTL, the unchanged system keys are PERSISTed only where an
 * expiry may linger — a pet without our meta (the Python server wrote 30-day keys) or whose meta
 * still has one (PET_TTL_DAYS was turned off, or the previous save had a per-save TTL) — so a
 * pet never vanishes, at one PTTL per save. A replace skips the read and the comparison (the
 * stored meta may be corrupt) and DELetes the systems it is not given; it keeps the log and
 * appends to it.
 * Extras are indexed in a sorted set scored by expiry: a save that writes extras drops the
 * expired entries and, over the bound, DELetes the extras that expire first; the index expires
 * with its last entry. The index is only touched by saves that write extras. The extras it
 * deletes are named by the index, not in KEYS: fine on one Redis and on Upstash (global script
 * lock). On Redis Cluster (7.0) a script without a `#!lua` flags line may touch undeclared keys
 * that live on the node running it, and the cluster layout (keys.ts) puts every extra in the
 * pet's slot, so the DEL reaches them (test/storage/redis-cluster.test.ts proves it). Only while
 * that slot is being migrated may an extra already sit on the other node: the DEL is a pcall so
 * that cannot abort the script after its writes, and such an extra still expires by its own PX.
 */
export const CAS_SCRIPT = `local n = tonumber(ARGV[4])
local replace = ARGV[1] == 'any'
local raw = redis.call('GET', KEYS[1])
if not replace then
  local current = 0
  if raw then
    local ok, meta = pcall(cjson.decode, raw)
    if not ok or type(meta) ~= 'table' or type(meta['version']) ~= 'number' then
      return redis.error_reply('CORRUPT ' .. KEYS[1] .. ' has no numeric version')
    end
    current = meta['version']
  end
  if current ~= tonumber(ARGV[1]) then
    return {0, current, redis.call('MGET', unpack(KEYS, 1, 1 + n)), redis.call('PTTL', KEYS[1])}
  end
end
local ttl = tonumber(ARGV[2])
local persist = ttl == 0 and (not raw or redis.call('PTTL', KEYS[1]) > 0)
local written = 1
for i = 1, n do
  local key, value = KEYS[1 + i], ARGV[4 + i]
  if value ~= '' then
    if ttl > 0 then redis.call('SET', key, value, 'PX', ttl) else redis.call('SET', key, value) end
    written = written + 1
  elseif replace then
    redis.call('DEL', key)
  elseif ttl > 0 then
    redis.call('PEXPIRE', key, ttl)
  elseif persist then
    redis.call('PERSIST', key)
  end
end
if ttl > 0 then redis.call('SET', KEYS[1], ARGV[3], 'PX', ttl) else redis.call('SET', KEYS[1], ARGV[3]) end
local e = tonumber(ARGV[8 + n])
local ids = {}
local log = KEYS[3 + n]
for i = 1, e do
  ids[i] = redis.call('XADD', log, 'MAXLEN', '~', ARGV[9 + n], '*', 'e', ARGV[11 + n + i])
end
if ttl > 0 then redis.call('PEXPIRE', log, ttl) elseif persist then redis.call('PERSIST', log) end
if e > 0 then redis.call('PUBLISH', ARGV[10 + n], ARGV[11 + n]) end
local m = #KEYS - 3 - n
if m > 0 then
  local index, now = KEYS[2 + n], tonumber(ARGV[6 + n])
  for j = 1, m do
    local key, value, px = KEYS[3 + n + j], ARGV[10 + n + e + 2 * j], tonumber(ARGV[11 + n + e + 2 * j])
    redis.call('SET', key, value, 'PX', px)
    redis.call('ZADD', index, now + px, key)
    written = written + 1
  end
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
  local over = redis.call('ZCARD', index) - tonumber(ARGV[7 + n])
  if over > 0 then
    local oldest = redis.call('ZRANGE', index, 0, over - 1)
    redis.pcall('DEL', unpack(oldest))
    redis.call('ZREM', index, unpack(oldest))
  end
  local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', index, math.max(1, math.ceil(tonumber(last[2]) - now)))
end
redis.call('EXISTS', unpack(KEYS, 1, 1 + n))
return {1, tonumber(ARGV[5 + n]), written, ids}
`;

export const CAS_SHA1 = scriptSha1(CAS_SCRIPT);

/**
 * KEYS and ARGV of CAS_SCRIPT for a save (validates the id, names and request first);
 * `driverTtlMs` is the driver's configured TTL, `nowMs` the clock the extras index is scored on.
 */
export function casArguments(
  petId: string,
  request: WriteRequest,
  driverTtlMs: number | undefined,
  nowMs: number,
  eventLogMax: number = EVENT_LOG_MAX,
  layout: KeyLayout = PLAIN_LAYOUT,
): { keys: string[]; args: string[] } {
  const keys = petKeys(petId, layout);
  assertSaveRequest(request);
  const extras = request.extras ?? [];
  const events = request.events ?? [];
  const keyList = [keys.meta, ...SYSTEM_NAMES.map((name) => keys.systems[name]), keys.extrasIndex, keys.events];
  const args = [
    String(request.expectedVersion),
    String(saveTtl(request, driverTtlMs) ?? 0),
    encodeValue(request.meta),
    String(SYSTEM_NAMES.length),
    ...SYSTEM_NAMES.map((name) => {
      const state = request.systems[name];
      return state === undefined ? '' : encodeValue(state);
    }),
    String(request.meta.version),
    String(Math.floor(nowMs)),
    String(MAX_EXTRAS_PER_PET),
    String(events.length),
    String(eventLogMax),
    EVENTS_CHANNEL,
    petId,
    ...events.map(encodeEvent),
  ];
  for (const extra of extras) {
    keyList.push(extraKey(petId, extra.name, layout));
    args.push(extra.value, String(extra.ttlMs));
  }
  return { keys: keyList, args };
}

/**
 * Parses CAS_SCRIPT's reply. A conflict carries the pet as stored (`record`) when its values
 * decode; when they do not (a corrupt pet), `record` is left out and the retry's load reports it.
 */
export function parseCasReply(reply: unknown, petId: string): SaveResult {
  if (Array.isArray(reply)) {
    const [flag, version] = reply.slice(0, 2).map(Number);
    if (flag === 1) {
      const keys = Number(reply[2]);
      const ids: unknown = reply[3] ?? [];
      if (Number.isSafeInteger(version) && Number.isSafeInteger(keys) && Array.isArray(ids) && ids.every(isEventId)) {
        return { ok: true, version: version as number, keys, eventIds: ids };
      }
    }
    if (flag === 0 && Number.isSafeInteger(version)) {
      const values = storedValues(reply[2]);
      if (values === null || values.length !== 1 + SYSTEM_NAMES.length) return { ok: false, version: version as number };
      try {
        return { ok: false, version: version as number, record: decodeLoad(petId, values) };
      } catch (error) {
        if (error instanceof CorruptStateError) return { ok: false, version: version as number };
        throw error;
      }
    }
  }
  throw new CorruptStateError(`unexpected reply from the compare-and-set script: ${JSON.stringify(reply)}`);
}
