/**
 * The snapshot load (snapshots.ts): a pet's keys and the ms the pet has left, in one script call.
 */
import { CorruptStateError } from '../../errors.js';
import { petTtlLua, scriptSha1, storedValues } from './common.js';

/**
 * The snapshot load (Redis TCP with snapshots): what load's MGET reads, plus the ms the pet has
 * left, so that a snapshot is never held past the pet's expiry (Redis announces an expiry only when
 * it notices it). KEYS = loadKeyList order (meta, every system, extras), ARGV[1] = how many of
 * them are the pet's own (meta and systems). Returns {values, ms left (-1: no expiry)}.
 */
export const SNAPSHOT_LOAD_SCRIPT = `return {redis.call('MGET', unpack(KEYS)), ${petTtlLua('0', 'tonumber(ARGV[1])')}}
`;

export const SNAPSHOT_LOAD_SHA1 = scriptSha1(SNAPSHOT_LOAD_SCRIPT);

/** Parses SNAPSHOT_LOAD_SCRIPT's reply into the values of the keys it read. */
export function snapshotLoadValues(reply: unknown, keyCount: number): (string | null)[] {
  const values = Array.isArray(reply) ? storedValues(reply[0]) : null;
  if (values === null || values.length !== keyCount) {
    throw new CorruptStateError(`unexpected reply from the snapshot load script: ${JSON.stringify(reply).slice(0, 200)}`);
  }
  return values;
}
