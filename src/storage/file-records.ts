/**
 * The file driver's records tied to no pet (docs/design.md §8: owners, invite codes):
 * `<dir>/~<purpose>/<subject>.record` holding {"version","value","expires_at"} (the subject
 * %-encoded), each changed under its own lock file and the driver's keyed queue, replaced
 * atomically (writeAtomic). Reads are lock-free (a rename is atomic). An expired record counts as
 * absent. Expired records are swept: each save of a record with a time to live (an invite or
 * offer code) earns a look at SWEEP_BATCH files of its folder, read on from where the last look
 * stopped, and deletes the expired ones under their locks — so codes never taken (owners never
 * expire) do not stay on disk forever (docs/design.md §8, §14).
 */
import type { Dir } from 'node:fs';
import { opendir, unlink } from 'node:fs/promises';
import path from 'node:path';
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
  /** Waits for the sweep in flight, then closes the folder cursors. */
  close(): Promise<void>;
}

/** Files one save with a time to live earns the sweep a look at. */
const SWEEP_BATCH = 8;

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

  const cursors = new Map<string, Dir>();
  let sweeping: Promise<void> | null = null;
  let closed = false;

  /** Deletes `file` if it has expired, under its lock (a save may have renewed it meanwhile). */
  const dropIfExpired = (file: string) =>
    queue.run(file, () =>
      withFileLock(`${file}.lock`, lockOptions('an expired record'), async () => {
        const raw = await readOptional(file);
        if (raw === null) return;
        let expiresAt: unknown;
        try {
          expiresAt = (JSON.parse(raw) as { expires_at?: unknown }).expires_at;
        } catch {
          return; // a corrupt record is reported when read, never deleted behind the reader's back
        }
        if (typeof expiresAt === 'number' && expiresAt <= now()) await unlink(file).catch(ignoreMissing);
      }),
    );

  const sweepSome = async (folder: string): Promise<void> => {
    let dir = cursors.get(folder);
    if (dir === undefined) {
      dir = await opendir(folder);
      cursors.set(folder, dir);
    }
    for (let looked = 0; looked < SWEEP_BATCH && !closed; looked += 1) {
      const entry = await dir.read();
      if (entry === null) {
        cursors.delete(folder);
        await dir.close().catch(() => undefined);
        return;
      }
      if (entry.isFile() && entry.name.endsWith('.record')) await dropIfExpired(path.join(folder, entry.name));
    }
  };

  const sweep = (folder: string): void => {
    if (sweeping !== null || closed) return;
    sweeping = sweepSome(folder)
      .catch(() => undefined) // a sweep is housekeeping: the next save tries again
      .finally(() => {
        sweeping = null;
      });
  };

  return {
    async load(ref) {
      const { key, file } = fileOf(ref);
      return unavailableOnIoError(() => read(key, file));
    },

    async close() {
      closed = true;
      await sweeping;
      for (const dir of cursors.values()) await dir.close().catch(() => undefined);
      cursors.clear();
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
        if (ttl !== null) sweep(path.dirname(file));
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
