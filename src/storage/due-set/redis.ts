/**
 * The due set on Redis (TCP and Upstash REST: one sorted set, `life_~due:pets`) and on a Redis
 * Cluster (DUE_BUCKETS sorted sets `life_~{due:bucket-<n>}`, each its own hash tag, so they spread
 * over the shards; a pet always lives in the bucket of its id's hash). The score is the instant;
 * claim and release are single-key scripts, so a claim and a takeover never interleave.
 */
import type { PipelinedCommand } from '../types.js';
import { assertPetId, globalKey, type KeyLayout } from '../keys.js';
import { assertClaim, assertInstant, type DueClaim, type DueSet } from './types.js';

/** Buckets of the cluster layout: a fixed number, so every instance agrees where a pet is. */
export const DUE_BUCKETS = 16;

/** KEYS[1] = a bucket; ARGV = now, lease end, limit. Moves the due pets' scores to the lease end; returns [member, score, …]. */
export const DUE_CLAIM_SCRIPT = `local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
for i = 1, #items, 2 do redis.call('ZADD', KEYS[1], ARGV[2], items[i]) end
return items
`;

/** KEYS[1] = the pet's bucket; ARGV = pet id, lease end, next instant ('' = remove). 1 when the lease still held. */
export const DUE_RELEASE_SCRIPT = `local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] == '' then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) end
return 1
`;

/** KEYS[1] = the pet's bucket; ARGV = pet id, new instant, threshold. Moves the pet when its instant is above the threshold. */
export const DUE_HASTEN_SCRIPT = `local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) <= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
`;

export interface RedisDueSetOptions {
  layout: KeyLayout;
  /** One command, one round trip, failures mapped to the driver's errors. */
  call(what: string, args: readonly string[], key: string): Promise<unknown>;
  /** Several commands in one round trip (per node on a cluster). */
  pipeline(what: string, commands: readonly PipelinedCommand[]): Promise<unknown[]>;
}

/** FNV-1a of the id: the bucket is a pure function of the id. */
function bucketOf(petId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < petId.length; i++) {
    hash ^= petId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % DUE_BUCKETS;
}

export function createRedisDueSet(options: RedisDueSetOptions): DueSet {
  const { layout, call, pipeline } = options;
  const bucketed = layout.name === 'cluster';
  const keys = bucketed
    ? Array.from({ length: DUE_BUCKETS }, (_, n) => globalKey('due', `bucket-${n}`, layout))
    : [globalKey('due', 'pets', layout)];
  const keyOf = (petId: string): string => {
    assertPetId(petId);
    return keys[bucketed ? bucketOf(petId) : 0] as string;
  };
  const evalArgs = (script: string, key: string, args: readonly string[]): string[] => ['EVAL', script, '1', key, ...args];
  /** One command per bucket: a plain call for the one set (Upstash pipelines only scripts and reads), a pipeline for the buckets. */
  const perBucket = async (what: string, argsOf: (key: string) => string[]): Promise<unknown[]> =>
    bucketed
      ? pipeline(
          what,
          keys.map((key) => ({ args: argsOf(key), keys: [key] })),
        )
      : [await call(what, argsOf(keys[0] as string), keys[0] as string)];

  return {
    async schedule(petId, atMs) {
      assertInstant('atMs', atMs);
      const key = keyOf(petId);
      await call('due schedule', ['ZADD', key, String(atMs), petId], key);
    },
    async hasten(petId, atMs, ifLaterThanMs = atMs) {
      assertInstant('atMs', atMs);
      const key = keyOf(petId);
      const threshold = String(Math.max(atMs, ifLaterThanMs));
      return Number(await call('due hasten', evalArgs(DUE_HASTEN_SCRIPT, key, [petId, String(atMs), threshold]), key)) === 1;
    },
    async unschedule(petId) {
      const key = keyOf(petId);
      await call('due unschedule', ['ZREM', key, petId], key);
    },
    async claim(nowMs, leaseMs, limit) {
      assertClaim(nowMs, leaseMs, limit);
      const leaseUntilMs = nowMs + leaseMs;
      const eachLimit = Math.max(1, Math.ceil(limit / keys.length));
      const args = [String(nowMs), String(leaseUntilMs), String(eachLimit)];
      const replies = await perBucket('due claim', (key) => evalArgs(DUE_CLAIM_SCRIPT, key, args));
      const claims: DueClaim[] = [];
      for (const reply of replies) {
        if (reply instanceof Error) throw reply;
        const items = reply as unknown[];
        for (let i = 0; i + 1 < items.length; i += 2) {
          claims.push({ petId: String(items[i]), dueMs: Number(items[i + 1]), leaseUntilMs });
        }
      }
      return claims.sort((a, b) => a.dueMs - b.dueMs);
    },
    async release(petId, leaseUntilMs, nextMs) {
      if (nextMs !== null) assertInstant('nextMs', nextMs);
      const key = keyOf(petId);
      const args = [petId, String(leaseUntilMs), nextMs === null ? '' : String(nextMs)];
      return Number(await call('due release', evalArgs(DUE_RELEASE_SCRIPT, key, args), key)) === 1;
    },
    async instantOf(petId) {
      const key = keyOf(petId);
      const score = await call('due instant', ['ZSCORE', key, petId], key);
      return score === null || score === undefined ? null : Number(score);
    },
    async size() {
      const replies = await perBucket('due size', (key) => ['ZCARD', key]);
      return replies.reduce<number>((sum, reply) => {
        if (reply instanceof Error) throw reply;
        return sum + Number(reply);
      }, 0);
    },
  };
}
