/**
 * The Lua scripts of the Redis drivers, one file each: text, EVALSHA handle, arguments, reply.
 * They run through one runner (script-runner.ts: EVALSHA, EVAL on NOSCRIPT).
 */
export { isCorruptReply, petTtlOf, scriptSha1, storedValues } from './common.js';
export { CAS_SCRIPT, CAS_SHA1, casArguments, parseCasReply } from './cas.js';
export { HIT_SCRIPT, HIT_SHA1, hitArguments, hitKeys, parseHitReply, weightedHitArguments } from './hit.js';
export {
  type CountedLoadCall,
  LOAD_COUNTED_SCRIPT,
  LOAD_COUNTED_SHA1,
  countedHitArguments,
  loadCountedArguments,
  parseLoadCountedReply,
} from './load-counted.js';
export { SNAPSHOT_LOAD_SCRIPT, SNAPSHOT_LOAD_SHA1, snapshotLoadValues } from './snapshot-load.js';
export {
  COUNTED_CAS_SCRIPT,
  COUNTED_CAS_SHA1,
  countedCasArguments,
  parseCountedCasReply,
  type SaveCounters,
} from './counted-cas.js';
