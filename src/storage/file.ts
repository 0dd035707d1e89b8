/**
 * File driver (the local default): one folder per pet under `dir`, holding `pet.json` with the
 * pet's meta and systems, and its extra records (idempotency records) in files of their own
 * under `extras/`, so that they never grow `pet.json` (which every load parses). A save is atomic
 * and consistent: the new `pet.json` is written to a temp file, fsynced and renamed over the old
 * one, so a crash leaves either the old pet or the new one, never a partial or mixed pet; the
 * extras it writes join it through a save token (saveLocked, file-save.ts), so a change and
 * its record exist both or neither. Compare-and-set runs under a cross-process lock file
 * (withFileLock, file-lock.ts) plus an in-process queue per pet (keyed-queue.ts). Paths are built
 * only from validated ids and are checked to stay inside `dir`. Error messages never carry a path (StorageUnavailableError
 * messages reach clients in 503 bodies).
 *
 * Layout:  <dir>/<petId>/pet.json      {"meta":…,"systems":{…},"expires_at":…,"extras_token":…}
 *          <dir>/<petId>/extras/<name>.<expiresAtMs>.json            an extra (its value, as is)
 *          <dir>/<petId>/extras/<name>.<expiresAtMs>.<token>.pending an extra of the last save
 *          <dir>/<petId>/.lock         while a save or remove runs
 *          <dir>/~<purpose>/<subject>.json  `hit` counters; the subject %-encoded (IPv6 has ':')
 * (<name> is the extra's name %-encoded, so it holds no `.`.) Transient: pet.json.<pid>.<hex>.tmp
 * (a write in progress), .lock.<pid>.<hex>.tmp (a lock being created), .lock.stale.<pid>.<hex>
 * (a stale lock being taken over); what a crash leaves of these is removed the next time the
 * pet's lock is taken (atomic-write.ts). The pet.json codec: file-pet-json.ts; the event log:
 * file-events.ts; the extras folder and the save token: file-extras.ts; counters and their sweep:
 * file-counters.ts; the save itself: file-save.ts; path safety: file-io.ts; the inspector:
 * inspect/file.ts.
 * A `pet.json` of an older version, with its extras inside ("extras":{…}), still loads; its
 * next save moves them out.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { writeAtomic } from './atomic-write.js';
import { EVENT_LOG_MAX, assertEventLogMax, compareEventIds, readEventsOptions } from './events.js';
import { createFileDueSet } from './due-set/file.js';
import { createFileCounters } from './file-counters.js';
import { readLog } from './file-events.js';
import { EXTRAS_DIR, readExtras } from './file-extras.js';
import { ignoreMissing, insideFolder, unavailableOnIoError } from './file-io.js';
import { type LockOptions, withFileLock } from './file-lock.js';
import { type PetFile, petFileToRecord, readPetFile } from './file-pet-json.js';
import { createFileRecords } from './file-records.js';
import { LOCK_FILE, saveLocked } from './file-save.js';
import { createKeyedQueue } from './keyed-queue.js';
import { createLocalWatchers, type EventsListener } from './local-watchers.js';
import { assertExtraName, assertPetId } from './keys.js';
import { createFileInspector } from './inspect/file.js';
import {
  assertDistinctPets,
  assertReplaced,
  assertSaveRequest,
  assertTtlOption,
  corruptLoad,
  corruptSave,
  type WriteRequest,
  weightOf,
} from './requests.js';
import type {
  HitRequest,
  HitResult,
  LoadManyItem,
  LoadManyResult,
  LoadOptions,
  PetEvent,
  PetRecord,
  ReadEventsOptions,
  ReplaceRequest,
  SaveManyItem,
  SaveManyResult,
  SaveRequest,
  SaveResult,
  StorageDriver,
} from './types.js';

/** Tests name files as the driver does. */
export { encodeSubject } from './file-io.js';

export interface FileStorageOptions {
  /** Folder holding one sub-folder per pet (DATA_DIR). */
  dir: string;
  /** Time to live of a pet in ms, refreshed on every save. @default undefined (no TTL) */
  ttlMs?: number;
  /**
   * A lock older than this is taken over (its holder is presumed dead). A lock whose holder is
   * known dead (same host, pid gone) is taken over at once, and one that cannot be read
   * (empty or cut off) once it is older than 1 s (or this, if smaller). @default 10000
   */
  staleLockMs?: number;
  /** How long to wait for a busy lock before giving up (StorageUnavailableError). @default 5000 */
  lockTimeoutMs?: number;
  /** Clock for expiry (tests pass a fake one). @default Date.now */
  now?: () => number;
  /** Events kept per pet (exactly). @default EVENT_LOG_MAX (1000) */
  eventLogMax?: number;
}

/** This process's watchers per data folder (resolved): drivers on one folder hear each other's saves. */
const fileWatchers = new Map<string, Set<EventsListener>>();

export function createFileStorage(options: FileStorageOptions): StorageDriver {
  const { dir, ttlMs, staleLockMs = 10_000, lockTimeoutMs = 5_000, now = Date.now, eventLogMax = EVENT_LOG_MAX } = options;
  if (typeof dir !== 'string' || dir === '') throw new TypeError('dir must be a non-empty path');
  assertTtlOption(ttlMs);
  assertEventLogMax(eventLogMax);
  const root = path.resolve(dir);
  const watchers = createLocalWatchers(fileWatchers, root);
  const queue = createKeyedQueue();
  /** Lock options; `label` names what is locked in messages that can reach clients (never a path). */
  const lockOptions = (label: string): LockOptions => ({ staleLockMs, lockTimeoutMs, label });
  let trips = 0;

  const inside = insideFolder(root);
  const petDir = (petId: string): string => {
    assertPetId(petId);
    return inside(petId);
  };
  const counters = createFileCounters({ inside, queue, lockOptions, now });
  const records = createFileRecords({ inside, queue, lockOptions, now });

  const readPet = (petId: string, folder: string): Promise<PetFile | null> => readPetFile(petId, folder, now());

  /** Reads pet.json and the extras asked for. */
  const readWithExtras = async (
    petId: string,
    folder: string,
    extras: readonly string[],
  ): Promise<{ file: PetFile | null; extraValues: Map<string, string> }> => {
    const file = await readPet(petId, folder);
    const extraValues =
      file === null ? new Map<string, string>() : await readExtras(path.join(folder, EXTRAS_DIR), file.extras_token ?? null, extras, now);
    return { file, extraValues };
  };

  /** Tells this process's watchers of the folder (after the save has returned). */
  const announce = (petId: string): void => watchers.announce(petId);

  /** Checks a load's id and names (before any I/O); returns the pet's folder. */
  const loadable = (petId: string, extras: readonly string[]): string => {
    const folder = petDir(petId);
    extras.forEach(assertExtraName);
    return folder;
  };

  /** A load's reading, without counting a round trip (load and loadMany count theirs). */
  const readRecord = async (petId: string, folder: string, extras: readonly string[]): Promise<PetRecord | null> => {
    const { file, extraValues } = await unavailableOnIoError(() => readWithExtras(petId, folder, extras));
    return petFileToRecord(petId, file, extras, extraValues, now());
  };

  const load = async (petId: string, loadOptions: LoadOptions = {}): Promise<PetRecord | null> => {
    const extras = loadOptions.extras ?? [];
    const folder = loadable(petId, extras);
    trips += 1;
    return readRecord(petId, folder, extras);
  };

  /** Checks a save or replace (before any I/O); returns the pet's folder. */
  const writable = (petId: string, request: WriteRequest): string => {
    const folder = petDir(petId);
    assertSaveRequest(request);
    for (const extra of request.extras ?? []) assertExtraName(extra.name);
    return folder;
  };

  const write = async (petId: string, request: WriteRequest): Promise<SaveResult> => {
    const folder = writable(petId, request);
    trips += 1;
    return writeChecked(petId, folder, request);
  };

  /** A checked save or replace, without counting a round trip (write and saveMany count theirs). */
  const writeChecked = async (petId: string, folder: string, request: WriteRequest): Promise<SaveResult> => {
    const result = await queue.run(folder, () =>
      unavailableOnIoError(() =>
        withFileLock(path.join(folder, LOCK_FILE), lockOptions(`pet ${petId}`), () =>
          saveLocked({ now, ttlMs, eventLogMax }, petId, folder, request),
        ),
      ),
    );
    if (result.ok && result.eventIds.length > 0) announce(petId);
    return result;
  };

  return {
    name: 'FileStorage',
    target: dir,

    load,

    async loadCounted(
      petId: string,
      loadOptions: LoadOptions & { hits: readonly HitRequest[] },
    ): Promise<{ record: PetRecord | null; hits: HitResult[] }> {
      const folder = petDir(petId);
      const extras = loadOptions.extras ?? [];
      extras.forEach(assertExtraName);
      if (!Array.isArray(loadOptions.hits)) throw new TypeError('hits must be an array of {purpose, subject, windowMs}');
      const hitCounters = loadOptions.hits.map((request) =>
        counters.counterOf(request.purpose, request.subject, request.windowMs, weightOf(request)),
      );
      trips += 1;
      // The pet file is read without a lock (as load does) while the hits are counted under
      // their counters' locks, in order; the hits count even when reading the pet fails.
      const [read, hits] = await Promise.all([
        unavailableOnIoError(() => readWithExtras(petId, folder, extras)),
        Promise.all(hitCounters.map(counters.countHit)),
      ]);
      return { record: petFileToRecord(petId, read.file, extras, read.extraValues, now()), hits };
    },

    async loadMany(
      items: readonly LoadManyItem[],
      manyOptions: { hits?: readonly HitRequest[] } = {},
    ): Promise<{ records: LoadManyResult[]; hits: HitResult[] }> {
      const folders = items.map((item) => loadable(item.petId, item.extras ?? []));
      const hitRequests = manyOptions.hits ?? [];
      if (!Array.isArray(hitRequests)) throw new TypeError('hits must be an array of {purpose, subject, windowMs}');
      const hitCounters = hitRequests.map((request) =>
        counters.counterOf(request.purpose, request.subject, request.windowMs, weightOf(request)),
      );
      trips += 1;
      // A plain loop counted as one round trip: the pets read in parallel (lock-free, as load),
      // the hits counted in order under their counters' locks.
      const [records, hits] = await Promise.all([
        Promise.all(
          items.map((item, index) =>
            readRecord(item.petId, folders[index] as string, item.extras ?? []).then(
              (record): LoadManyResult => ({ ok: true, record }),
              corruptLoad,
            ),
          ),
        ),
        (async () => {
          const counted: HitResult[] = [];
          for (const counter of hitCounters) counted.push(await counters.countHit(counter));
          return counted;
        })(),
      ]);
      return { records, hits };
    },

    save: (petId: string, request: SaveRequest): Promise<SaveResult> => write(petId, request),

    async saveMany(items: readonly SaveManyItem[]): Promise<SaveManyResult[]> {
      assertDistinctPets(items);
      const folders = items.map((item) => writable(item.petId, item.request));
      trips += 1;
      // Each pet under its own lock, the pets in parallel: atomic per pet, not across them.
      return Promise.all(items.map((item, index) => writeChecked(item.petId, folders[index] as string, item.request).catch(corruptSave)));
    },

    async replace(petId: string, request: ReplaceRequest): Promise<SaveResult & { ok: true }> {
      return assertReplaced(await write(petId, { ...request, expectedVersion: 'any' }));
    },

    async remove(petId: string): Promise<void> {
      const folder = petDir(petId);
      trips += 1;
      await queue.run(folder, () =>
        unavailableOnIoError(async () => {
          await withFileLock(path.join(folder, LOCK_FILE), lockOptions(`pet ${petId}`), async () => {
            await rm(path.join(folder, EXTRAS_DIR), { recursive: true, force: true });
            for (const entry of await readdir(folder).catch(() => [] as string[])) {
              if (entry !== LOCK_FILE) await unlink(path.join(folder, entry)).catch(ignoreMissing);
            }
          });
          // Another process may have started a save meanwhile: then the folder stays.
          await rmdir(folder).catch(() => undefined);
        }),
      );
    },

    async readEvents(petId: string, readOptions?: ReadEventsOptions): Promise<PetEvent[]> {
      const folder = petDir(petId);
      const { after, limit } = readEventsOptions(readOptions);
      trips += 1;
      const events = await unavailableOnIoError(() =>
        readLog(petId, folder, eventLogMax, async () => (await readPet(petId, folder))?.events ?? null),
      );
      const start = after === null ? 0 : events.findIndex((event) => compareEventIds(event.id, after) > 0);
      return start < 0 ? [] : events.slice(start, start + limit);
    },

    watch: (onEvents: (petId: string) => void): Promise<() => Promise<void>> => watchers.watch(onEvents),

    async loadRecords(refs) {
      trips += 1;
      return Promise.all(refs.map((ref) => records.load(ref)));
    },

    async saveRecord(ref, request) {
      trips += 1;
      return records.save(ref, request);
    },

    async takeRecord(ref) {
      trips += 1;
      return records.take(ref);
    },

    async hit(purpose: string, subject: string, windowMs: number): Promise<HitResult> {
      const counter = counters.counterOf(purpose, subject, windowMs);
      trips += 1;
      return counters.countHit(counter);
    },

    async ping(): Promise<void> {
      trips += 1;
      await unavailableOnIoError(async () => {
        await mkdir(root, { recursive: true });
        const probe = path.join(root, `.ping.${process.pid}.${randomBytes(4).toString('hex')}`);
        await writeAtomic(probe, '');
        await unlink(probe);
      });
    },

    dueSet: createFileDueSet(root),

    inspector: createFileInspector({
      root,
      petDir,
      now,
      trip: () => {
        trips += 1;
      },
    }),

    roundTrips: () => trips,

    async close(): Promise<void> {
      watchers.close();
      await counters.close();
      await records.close();
      await queue.idle();
    },
  };
}
