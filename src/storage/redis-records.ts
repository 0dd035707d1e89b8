/**
 * Records tied to no pet (owners, invites; records.ts) on Redis: a load is one pipeline of one GET
 * per record, a save or a take one script call on the record's one key.
 */
import { type KeyLayout, PLAIN_LAYOUT } from './keys.js';
import { RECORD_SAVE_SCRIPT, RECORD_TAKE_SCRIPT, assertRecordSave, decodeRecord, parseRecordSaveReply, recordKey } from './records.js';
import { luaScript, type ScriptRunner } from './script-runner.js';
import type { RecordRef, RecordSaveRequest, RecordSaveResult, StorageDriver } from './types.js';

const RECORD_SAVE = luaScript(RECORD_SAVE_SCRIPT);
const RECORD_TAKE = luaScript(RECORD_TAKE_SCRIPT);

export interface RedisRecordsDeps {
  /** Runs an operation within the transport's limits, mapping its failures (the body's `run`). */
  run: <T>(what: string, operation: () => Promise<T>, petId?: string) => Promise<T>;
  scripts: ScriptRunner;
  /** A pipelined reply, or the error it carries mapped as `run` maps failures. */
  failedReply: (reply: unknown, what: string) => unknown;
  layout?: KeyLayout;
}

export function createRedisRecords(deps: RedisRecordsDeps): Pick<StorageDriver, 'loadRecords' | 'saveRecord' | 'takeRecord'> {
  const { run, scripts, failedReply, layout = PLAIN_LAYOUT } = deps;
  return {
    async loadRecords(refs: readonly RecordRef[]) {
      const keys = refs.map((ref) => recordKey(ref, layout));
      if (keys.length === 0) return [];
      // One pipeline of one GET per record: each touches one global key (a cluster routes each to
      // its own shard, one round trip per node in parallel).
      const values = await run('load records', () => scripts.pipeline(keys.map((key) => ({ args: ['GET', key], keys: [key] }))));
      return keys.map((key, index) => decodeRecord(key, failedReply(values[index], 'load records') as string | null));
    },

    async saveRecord(ref: RecordRef, request: RecordSaveRequest): Promise<RecordSaveResult> {
      const key = recordKey(ref, layout);
      assertRecordSave(request);
      const args = [String(request.expectedVersion), request.value, request.ttlMs == null ? '' : String(request.ttlMs)];
      return parseRecordSaveReply(await run('save record', () => scripts.call(RECORD_SAVE, [key], args)));
    },

    async takeRecord(ref: RecordRef) {
      const key = recordKey(ref, layout);
      const raw = await run('take record', () => scripts.call(RECORD_TAKE, [key], []));
      return decodeRecord(key, typeof raw === 'string' ? raw : null);
    },
  };
}
