/**
 * The file driver's records tied to no pet (issue #13: owners, invite codes):
 * `<dir>/~<purpose>/<subject>.record` holding {"version","value","expires_at"} (the subject
 * %-encoded), each changed under its own lock file and the driver's keyed queue, replaced
 * atomically (writeAtomic). Reads are lock-free (a rename is atomic). An expired record counts as
 * absent; it stays on disk until it is written or taken again (invites are taken once, owners
 * never expire).
 */
import { unlink } from 'node:fs/promises';
import { CorruptStateError } from '../errors.js';
import { writeAtomic } from './atomic-write.js';
import { encodeSubject, ignoreMissing, readOptional, unavailableOnIoError } from './file-io.js';
import { type LockOptions, withFileLock } from './file-lock.js';
import type { KeyedQueue } from './keyed-queue.js';
import { assertRecordSave, recordKey } from './records.js';
import type { RecordRef, RecordSaveRequest, RecordSaveResult, StoredRecord } from './types.js';

export interface FileRecordsContext {
  inside: (...segments: string[]) => string;
  queue: KeyedQueue;
  lockOptions: (label: string) => LockOptions;
  now: () => number;
}

export interface FileRecords {
  load(ref: RecordRef): Promise<StoredRecord | null>;
  save(ref: RecordRef, request: RecordSaveRequest): Promise<RecordSaveResult>;
  take(ref: RecordRef): Promise<StoredRecord | null>;
}

export function createFileRecords({ inside, queue, lockOptions, now }: FileRecordsContext): FileRecords {
  /** The record's file (purpose and subject validated by recordKey, the path kept inside the root). */
  const fileOf = (ref: RecordRef): { key: string; file: string } => {
    const key = recordKey(ref);
    return { key, file: inside(`~${ref.purpose}`, `${encodeSubject(ref.subject)}.record`) };
  };

  const read = async (key: string, file: string): Promise<StoredRecord | null> => {
    const raw = await readOptional(file);
    if (raw === null) return null;
    let stored: { version?: unknown; value?: unknown; expires_at?: unknown };
    try {
      stored = JSON.parse(raw) as typeof stored;
    } catch (error) {
      throw new CorruptStateError(`${key} is not JSON`, { cause: error });
    }
    const { version, value, expires_at: expiresAt } = stored;
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || typeof value !== 'string') {
      throw new CorruptStateError(`${key} is not a versioned record`);
    }
    if (typeof expiresAt === 'number' && expiresAt <= now()) return null;
    return { version, value };
  };

  /** Runs `fn` holding the record's lock (and its turn in the queue). */
  const locked = <T>(ref: RecordRef, file: string, fn: () => Promise<T>): Promise<T> =>
    queue.run(file, () => unavailableOnIoError(() => withFileLock(`${file}.lock`, lockOptions(`the ${ref.purpose} record`), fn)));

  return {
    async load(ref) {
      const { key, file } = fileOf(ref);
      return unavailableOnIoError(() => read(key, file));
    },

    async save(ref, request) {
      const { key, file } = fileOf(ref);
      assertRecordSave(request);
      return locked(ref, file, async () => {
        const current = (await read(key, file))?.version ?? 0;
        if (current !== request.expectedVersion) return { ok: false, version: current };
        const ttl = request.ttlMs ?? null;
        const stored = { version: current + 1, value: request.value, expires_at: ttl === null ? null : now() + ttl };
        await writeAtomic(file, JSON.stringify(stored));
        return { ok: true, version: current + 1 };
      });
    },

    async take(ref) {
      const { key, file } = fileOf(ref);
      return locked(ref, file, async () => {
        const stored = await read(key, file);
        await unlink(file).catch(ignoreMissing);
        return stored;
      });
    },
  };
}
