/**
 * File driver (the local default): one folder per pet under `dir`, holding `pet.json` with the
 * pet's meta and systems, and its extra records (idempotency records) in files of their own
 * under `extras/`, so that they never grow `pet.json` (which every load parses). A save is atomic
 * and consistent: the new `pet.json` is written to a temp file, fsynced and renamed over the old
 * one, so a crash leaves either the old pet or the new one, never a partial or mixed pet; the
 * extras it writes join it through a save token (see saveLocked), so a change and its record
 * exist both or neither. Compare-and-set runs under a cross-process lock file (withFileLock,
 * file-lock.ts) plus an in-process queue per pet (keyed-queue.ts). Paths are built only from validated ids and are
 * checked to stay inside `dir`. Error messages never carry a path (StorageUnavailableError
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
 * pet's lock is taken (atomic-write.ts). Counters and their sweep: file-counters.ts; the extras
 * folder: file-extras.ts.
 * A `pet.json` of an older version, with its extras inside ("extras":{…}), still loads; its
 * next save moves them out.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rm, rmdir, stat, truncate, unlink } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { SYSTEM_NAMES } from '../engine/types.js';
import { InvalidInputError, PetLifeError } from '../errors.js';
import { DEVICE_ID_MESSAGE } from '../rules.js';
import { removeStaleTemps, syncFolder, writeAtomic, writeDurable } from './atomic-write.js';
import {
  EVENT_LOG_MAX,
  assertEventLogMax,
  compareEventIds,
  decodeEvent,
  encodeEvent,
  isEventId,
  nextEventId,
  readEventsOptions,
} from './events.js';
import { createFileDueSet } from './due-set/file.js';
import { createFileCounters } from './file-counters.js';
import { createFileRecords } from './file-records.js';
import { type ExtraFile, listExtras, promote, pruneExtras } from './file-extras.js';
import { encodeSubject, errorCode, ignoreMissing, readOptional, unavailableOnIoError } from './file-io.js';
import { type LockOptions, withFileLock } from './file-lock.js';
import { createKeyedQueue } from './keyed-queue.js';
import { createLocalWatchers, type EventsListener } from './local-watchers.js';
import { PET_ID_PATTERN, assertExtraName, assertPetId, corrupt, decodeLoad, encodeValue } from './keys.js';
import {
  assertDistinctPets,
  assertReplaced,
  assertSaveRequest,
  assertTtlOption,
  corruptLoad,
  corruptSave,
  saveTtl,
  type WriteRequest,
  weightOf,
} from './requests.js';
import { firstIssue } from './schemas.js';
import type {
  HitRequest,
  HitResult,
  JsonObject,
  LoadManyItem,
  LoadManyResult,
  LoadOptions,
  PetEvent,
  PetEventDraft,
  PetMeta,
  PetRecord,
  ReadEventsOptions,
  ReplaceRequest,
  SaveManyItem,
  SaveManyResult,
  SaveRequest,
  SaveResult,
  StorageDriver,
  StoredKey,
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

/** The committed state of a pet's event log, in pet.json. */
interface EventLogState {
  /** The log file is `events.<gen>.log`; a compaction writes the next generation. */
  gen: number;
  /** The id of the last committed event: lines after it (a crashed save's) are not events. */
  last: string;
  /** Committed bytes of the log file: a save first cuts the file back to this. */
  size: number;
  /** Committed lines in the log file (up to 2 × the bound before a compaction). */
  count: number;
}

/** What `pet.json` holds. */
interface PetFile {
  meta: PetMeta | null;
  systems: Partial<Record<string, JsonObject>>;
  /** Unix ms after which the pet counts as gone, or null. */
  expires_at: number | null;
  /** The token of the save that wrote this file, when it wrote extras: its pending extras count. */
  extras_token?: string | null;
  /** The event log's committed state; absent/null: no log. */
  events?: EventLogState | null;
  /** Extras as older versions kept them, inside pet.json (read; moved out by the next save). */
  extras?: Record<string, { value: string; expires_at: number }>;
}

const PET_FILE = 'pet.json';
/** `events.<gen>.log`: the pet's event log, JSON lines `{"id":…,"type":…,"pet_time":…,"at":…,"data":…}`. */
const EVENT_LOG_FILE = /^events\.(\d{1,15})\.log$/;
const eventLogFile = (gen: number): string => `events.${gen}.log`;
/** This process's watchers per data folder (resolved): drivers on one folder hear each other's saves. */
const fileWatchers = new Map<string, Set<EventsListener>>();
const LOCK_FILE = '.lock';
const EXTRAS_DIR = 'extras';

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

  /** A path inside root; refuses anything that would resolve outside it (defence in depth). */
  const inside = (...segments: string[]): string => {
    const full = path.resolve(root, ...segments);
    if (!full.startsWith(root + path.sep)) {
      throw new InvalidInputError('invalid_device_id', DEVICE_ID_MESSAGE);
    }
    return full;
  };
  const petDir = (petId: string): string => {
    assertPetId(petId);
    return inside(petId);
  };
  const counters = createFileCounters({ inside, queue, lockOptions, now });
  const records = createFileRecords({ inside, queue, lockOptions, now });

  const readPet = async (petId: string, folder: string): Promise<PetFile | null> => {
    const raw = await readOptional(path.join(folder, PET_FILE));
    if (raw === null) return null;
    const file = parsePetFile(petId, raw);
    if (file.expires_at !== null && file.expires_at !== undefined && file.expires_at <= now()) return null;
    return file;
  };

  /**
   * A pet file as load() returns it: re-encoded and decoded through the Redis drivers' checks.
   * `extraValues` are the values read from `extras/`; a name missing there may still be inside an
   * older pet.json.
   */
  const toRecord = (
    petId: string,
    file: PetFile | null,
    extras: readonly string[],
    extraValues: ReadonlyMap<string, string>,
  ): PetRecord | null => {
    if (file === null) return null;
    const t = now();
    const values = [
      file.meta === null ? null : encodeValue(file.meta),
      ...SYSTEM_NAMES.map((name) => {
        const state = file.systems[name];
        return state === undefined ? null : encodeValue(state);
      }),
      ...extras.map((name) => {
        const found = extraValues.get(name);
        if (found !== undefined) return found;
        const legacy = file.extras?.[name];
        return legacy !== undefined && legacy.expires_at > t ? legacy.value : null;
      }),
    ];
    return decodeLoad(petId, values, extras);
  };

  /**
   * Reads the extras `names` of the pet in `folder` (lock-free, like pet.json): for each, the
   * live final file, or a pending one of the save that wrote `file` (its token), the one that
   * expires last. A file renamed or deleted by a save between listing and reading is looked
   * for again (a pending extra is promoted by a rename, so it is always in one place or the
   * other).
   */
  const readExtras = async (folder: string, file: PetFile | null, names: readonly string[]): Promise<Map<string, string>> => {
    const found = new Map<string, string>();
    if (file === null || names.length === 0) return found;
    const extrasDir = path.join(folder, EXTRAS_DIR);
    const wanted = new Set(names.map(encodeSubject));
    for (let attempt = 1; ; attempt += 1) {
      const t = now();
      const best = new Map<string, ExtraFile>();
      for (const extra of await listExtras(extrasDir)) {
        if (!wanted.has(extra.name) || extra.expiresAt <= t) continue;
        if (extra.token !== null && extra.token !== file.extras_token) continue;
        const seen = best.get(extra.name);
        if (seen === undefined || extra.expiresAt > seen.expiresAt) best.set(extra.name, extra);
      }
      found.clear();
      let vanished = false;
      for (const name of names) {
        const extra = best.get(encodeSubject(name));
        if (extra === undefined) continue;
        const value = await readOptional(path.join(extrasDir, extra.entry));
        if (value === null) vanished = true;
        else found.set(name, value);
      }
      if (!vanished || attempt >= 3) return found;
    }
  };

  /** Reads pet.json and the extras asked for. */
  const readWithExtras = async (
    petId: string,
    folder: string,
    extras: readonly string[],
  ): Promise<{ file: PetFile | null; extraValues: Map<string, string> }> => {
    const file = await readPet(petId, folder);
    return { file, extraValues: await readExtras(folder, file, extras) };
  };

  /**
   * A save (`expectedVersion` a number) or a replace ('any') of the pet in `folder`, holding its
   * lock. The extras join the new pet.json through a random save token:
   *   1. pending extras of the previous save (its token is in the old pet.json) are promoted
   *      (renamed to final), other pending ones (of a save that crashed before its pet.json) are
   *      deleted;
   *   2. this save's extras are written as pending files named with a new token, fsynced;
   *   3. pet.json is written (atomically) with that token: from here on the extras count;
   *   4. they are promoted, and expired, superseded and over-the-bound extras are deleted.
   * A crash before 3 leaves the old pet and extras that nobody accepts (deleted at the next
   * save); after 3, the new pet and extras that readers accept (promoted at the next save).
   */
  const saveLocked = async (petId: string, folder: string, request: WriteRequest): Promise<SaveResult> => {
    await removeStaleTemps(folder, PET_FILE, LOCK_FILE, [EXTRAS_DIR]);
    const replace = request.expectedVersion === 'any';
    let old: PetFile | null;
    let oldToken: string | null;
    let corruptLog: EventLogState | null = null;
    try {
      old = await readPet(petId, folder);
      oldToken = old?.extras_token ?? null;
    } catch (error) {
      // A replace overwrites a corrupt pet; the extras its last save wrote still count.
      if (!replace || !(error instanceof PetLifeError)) throw error;
      old = null;
      const raw = await readOptional(path.join(folder, PET_FILE));
      oldToken = lenientToken(raw);
      corruptLog = lenientEvents(raw);
    }
    if (!replace) {
      const current = old?.meta?.version ?? 0;
      if (current !== request.expectedVersion) return { ok: false, version: current };
    }
    const t = now();
    const extrasDir = path.join(folder, EXTRAS_DIR);
    const finals: ExtraFile[] = [];
    for (const extra of await listExtras(extrasDir)) {
      if (extra.token === null) finals.push(extra);
      else if (extra.token === oldToken) finals.push(await promote(extrasDir, extra));
      else await unlink(path.join(extrasDir, extra.entry)).catch(ignoreMissing);
    }
    // Extras of an older pet.json move to files of their own (they are committed already).
    for (const [name, legacy] of Object.entries(old?.extras ?? {})) {
      const expiresAt = Math.floor(legacy.expires_at); // file names hold whole ms
      if (expiresAt <= t) continue;
      const entry = `${encodeSubject(name)}.${expiresAt}.json`;
      await writeAtomic(path.join(extrasDir, entry), legacy.value);
      finals.push({ entry, name: encodeSubject(name), expiresAt, token: null });
    }
    const extras = request.extras ?? [];
    const token = extras.length === 0 ? null : randomBytes(8).toString('hex');
    const pending: ExtraFile[] = [];
    if (token !== null) {
      await mkdir(extrasDir, { recursive: true });
      // The same name twice in one save: the last one wins (as two SETs in the script).
      for (const extra of new Map(extras.map((e) => [e.name, e])).values()) {
        const name = encodeSubject(extra.name);
        const expiresAt = Math.floor(t + extra.ttlMs);
        const entry = `${name}.${expiresAt}.${token}.pending`;
        await writeDurable(path.join(extrasDir, entry), extra.value);
        pending.push({ entry, name, expiresAt, token });
      }
      await syncFolder(extrasDir);
    }
    const committedLog = old === null ? corruptLog : (old.events ?? null);
    const drafts = request.events ?? [];
    // A save without events of a stored pet leaves its log as it is (no I/O): debris of a crashed
    // append is cut off by the next save that appends; a new, expired or corrupt pet's old logs go.
    const { events, eventIds, superseded } =
      drafts.length === 0 && old !== null
        ? { events: committedLog, eventIds: [], superseded: [] }
        : await appendEvents(folder, committedLog, drafts, t);
    const pttl = saveTtl(request, ttlMs);
    const next: PetFile = {
      meta: request.meta,
      systems: replace ? { ...request.systems } : { ...(old?.systems ?? {}), ...request.systems },
      expires_at: pttl === undefined ? null : t + pttl,
      extras_token: token,
      // Absent for a pet without a log: pet.json stays as before issue #12.
      ...(events === null ? {} : { events }),
    };
    await writeAtomic(path.join(folder, PET_FILE), encodeValue(next));
    for (const file of superseded) await unlink(path.join(folder, file)).catch(() => undefined);
    // Committed. What follows only tidies up: a failure must not report the save as failed.
    try {
      for (const extra of pending) finals.push(await promote(extrasDir, extra));
      await pruneExtras(extrasDir, finals, t);
    } catch {
      // The next save under the lock finishes it (pending files with the current token count).
    }
    return { ok: true, version: request.meta.version, keys: 1 + Object.keys(request.systems).length + extras.length, eventIds };
  };

  /**
   * Appends `drafts` to the pet's log in `folder` (holding its lock, before pet.json is written)
   * and returns the log state the new pet.json commits, the ids given, and the log files to
   * delete once it is committed. First it undoes what a crashed save left: a current log longer
   * than its committed size is cut back to it (saves only ever append to it), log files of other
   * generations are superseded. Over 2 × the bound, the newest `bound` committed lines and the
   * new ones go to a new generation's file instead (the old one stays intact until pet.json
   * names the new one). A pet without a committed log (new, expired, or a corrupt one replaced)
   * starts generation 0 afresh.
   */
  const appendEvents = async (
    folder: string,
    committed: EventLogState | null,
    drafts: readonly PetEventDraft[],
    t: number,
  ): Promise<{ events: EventLogState | null; eventIds: string[]; superseded: string[] }> => {
    const entries = await readdir(folder).catch(() => [] as string[]);
    const logs = entries.filter((entry) => EVENT_LOG_FILE.test(entry));
    const current = committed === null ? null : eventLogFile(committed.gen);
    const superseded = logs.filter((entry) => entry !== current);
    let intact = false;
    if (committed !== null && current !== null && logs.includes(current)) {
      const size = (await stat(path.join(folder, current))).size;
      if (size > committed.size) await truncate(path.join(folder, current), committed.size);
      // Shorter than committed: cut by someone else; its ids carry on in a new generation.
      intact = size >= committed.size;
    }
    if (drafts.length === 0) {
      // Nothing to add: a log whose file is gone is no log.
      return { events: intact ? committed : null, eventIds: [], superseded };
    }
    const eventIds: string[] = [];
    let last = committed?.last ?? null;
    const lines = drafts.map((draft) => {
      const id = nextEventId(last, t);
      last = id;
      eventIds.push(id);
      return `{"id":${JSON.stringify(id)},${encodeEvent(draft).slice(1)}\n`;
    });
    const added = lines.join('');
    const addedBytes = Buffer.byteLength(added);
    const lastId = last as string;
    if (committed === null || current === null || !intact) {
      const gen = committed === null ? 0 : committed.gen + 1;
      const kept = lines.slice(-eventLogMax).join('');
      await writeAtomic(path.join(folder, eventLogFile(gen)), kept);
      return {
        events: { gen, last: lastId, size: Buffer.byteLength(kept), count: Math.min(lines.length, eventLogMax) },
        eventIds,
        superseded: superseded.filter((entry) => entry !== eventLogFile(gen)),
      };
    }
    if (committed.count + lines.length > 2 * eventLogMax) {
      const old = (await readFile(path.join(folder, current))).subarray(0, committed.size).toString('utf8');
      const all = [
        ...old
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => `${line}\n`),
        ...lines,
      ];
      const kept = all.slice(-eventLogMax);
      const content = kept.join('');
      const gen = committed.gen + 1;
      await writeAtomic(path.join(folder, eventLogFile(gen)), content);
      return {
        events: { gen, last: lastId, size: Buffer.byteLength(content), count: kept.length },
        eventIds,
        superseded: [...superseded, current].filter((entry) => entry !== eventLogFile(gen)),
      };
    }
    const handle = await open(path.join(folder, current), 'a');
    try {
      await handle.writeFile(added, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    return {
      events: { gen: committed.gen, last: lastId, size: committed.size + addedBytes, count: committed.count + lines.length },
      eventIds,
      superseded,
    };
  };

  /** The committed events of the pet in `folder`: those of the log pet.json names, up to its last id, the newest `eventLogMax`. */
  const readLog = async (petId: string, folder: string): Promise<PetEvent[]> => {
    for (let attempt = 1; ; attempt += 1) {
      const file = await readPet(petId, folder);
      const state = file?.events ?? null;
      if (state === null) return [];
      const raw = await readFile(path.join(folder, eventLogFile(state.gen))).catch((error: unknown) => {
        if (errorCode(error) === 'ENOENT') return null;
        throw error;
      });
      // Superseded by a compaction between the two reads: read pet.json again.
      if (raw === null) {
        if (attempt >= 3) return [];
        continue;
      }
      const events: PetEvent[] = [];
      for (const line of raw.subarray(0, state.size).toString('utf8').split('\n')) {
        if (line === '') continue;
        const id = lineId(line);
        if (id === null || compareEventIds(id, state.last) > 0) continue;
        const event = decodeEvent(id, petId, line);
        if (event !== null) events.push({ ...event, id });
      }
      return events.slice(-eventLogMax);
    }
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
    return toRecord(petId, file, extras, extraValues);
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
        withFileLock(path.join(folder, LOCK_FILE), lockOptions(`pet ${petId}`), () => saveLocked(petId, folder, request)),
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
      return { record: toRecord(petId, read.file, extras, read.extraValues), hits };
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
      const events = await unavailableOnIoError(() => readLog(petId, folder));
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

    inspector: {
      async listPets(listOptions = {}): Promise<string[]> {
        trips += 1;
        const entries = await unavailableOnIoError(() =>
          readdir(root, { withFileTypes: true }).catch((error: unknown) => {
            if (errorCode(error) === 'ENOENT') return [];
            throw error;
          }),
        );
        const ids: string[] = [];
        for (const entry of entries
          .filter((e) => e.isDirectory() && PET_ID_PATTERN.test(e.name))
          .sort((a, b) => (a.name < b.name ? -1 : 1))) {
          if (ids.length >= (listOptions.limit ?? 100)) break;
          const found = await stat(path.join(root, entry.name, PET_FILE)).then(
            () => true,
            () => false,
          );
          if (found) ids.push(entry.name);
        }
        return ids;
      },
      async describePet(petId: string): Promise<StoredKey[]> {
        const folder = petDir(petId);
        trips += 1;
        const described: StoredKey[] = [];
        const walk = async (relative: string): Promise<void> => {
          const entries = await readdir(path.join(folder, relative), { withFileTypes: true }).catch(() => []);
          for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
            const inner = relative === '' ? entry.name : path.join(relative, entry.name);
            if (entry.isDirectory()) {
              await walk(inner);
              continue;
            }
            const info = await stat(path.join(folder, inner)).catch(() => null);
            if (info === null) continue;
            let expiresAt: number | null = null;
            if (inner === PET_FILE) {
              const raw = await readOptional(path.join(folder, PET_FILE));
              try {
                const value = JSON.parse(raw ?? 'null') as { expires_at?: unknown } | null;
                expiresAt = typeof value?.expires_at === 'number' ? value.expires_at : null;
              } catch {
                expiresAt = null;
              }
            } else if (relative === EXTRAS_DIR) {
              const match = /\.(\d{1,16})\.(?:json|[^.]+\.pending)$/.exec(entry.name);
              expiresAt = match ? Number(match[1]) : null;
            }
            described.push({
              key: path.join(petId, inner),
              type: 'file',
              bytes: info.size,
              ttlMs: expiresAt === null ? null : Math.max(0, expiresAt - now()),
            });
          }
        };
        await unavailableOnIoError(() => walk(''));
        return described;
      },
    },

    roundTrips: () => trips,

    async close(): Promise<void> {
      watchers.close();
      await counters.close();
      await queue.idle();
    },
  };
}

/**
 * The shape of `pet.json` (each value inside is then checked by decodeLoad, as for Redis). The
 * meta must be an object with a numeric version, as CAS_SCRIPT requires, so a save never
 * compares against garbage.
 */
const PET_FILE_SCHEMA = z.looseObject({
  meta: z.looseObject({ version: z.number() }).nullable(),
  systems: z.record(z.string(), z.unknown()),
  extras: z.record(z.string(), z.object({ value: z.string(), expires_at: z.number() })).optional(),
  expires_at: z.number().nullable().optional(),
  extras_token: z.string().nullable().optional(),
  events: z
    .object({
      gen: z.number().int().nonnegative(),
      last: z.string().refine(isEventId),
      size: z.number().int().nonnegative(),
      count: z.number().int().nonnegative(),
    })
    .nullable()
    .optional(),
});

/** Parses `pet.json` of pet `petId`; anything else is a CorruptStateError naming the pet. */
function parsePetFile(petId: string, raw: string): PetFile {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw corrupt(petId, `${PET_FILE} of pet ${petId} is not JSON`, null, error);
  }
  const checked = PET_FILE_SCHEMA.safeParse(value);
  if (!checked.success) {
    // The claim_hash may still be readable (a reset checks the secret before overwriting).
    const meta = typeof value === 'object' && value !== null && 'meta' in value ? value.meta : null;
    throw corrupt(petId, `${PET_FILE} of pet ${petId} is not a pet file (${firstIssue(checked.error)})`, JSON.stringify(meta ?? null));
  }
  return value as PetFile;
}

/** The id at the start of a log line (`{"id":"<ms>-<seq>",…`), or null. */
function lineId(line: string): string | null {
  const match = /^\{"id":"(\d{1,16}-\d{1,16})"/.exec(line);
  return match === null ? null : (match[1] as string);
}

/** The event log state of a pet.json that may be corrupt, when it still has a valid one. */
function lenientEvents(raw: string | null): EventLogState | null {
  try {
    const value = JSON.parse(raw ?? 'null') as { events?: unknown } | null;
    const checked = PET_FILE_SCHEMA.shape.events.safeParse(value?.events);
    return checked.success ? (checked.data ?? null) : null;
  } catch {
    return null;
  }
}

/** The extras_token of a pet.json that may be corrupt, when it still has a string one. */
function lenientToken(raw: string | null): string | null {
  try {
    const value = JSON.parse(raw ?? 'null') as { extras_token?: unknown } | null;
    return typeof value?.extras_token === 'string' ? value.extras_token : null;
  } catch {
    return null;
  }
}
