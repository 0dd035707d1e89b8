/**
 * File driver (the local default): one folder per pet under `dir`, holding `pet.json` with the
 * pet's meta and systems, and its extra records (idempotency records) in files of their own
 * under `extras/`, so that they never grow `pet.json` (which every load parses). A save is atomic
 * and consistent: the new `pet.json` is written to a temp file, fsynced and renamed over the old
 * one, so a crash leaves either the old pet or the new one, never a partial or mixed pet; the
 * extras it writes join it through a save token (see saveLocked), so a change and its record
 * exist both or neither. Compare-and-set runs under a cross-process lock file (see withFileLock
 * below) plus an in-process queue per pet. Paths are built only from validated ids and are
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
 * pet's lock is taken. Expired counters are swept a few at a time after hits (sweepCounters).
 * A `pet.json` of an older version, with its extras inside ("extras":{…}), still loads; its
 * next save moves them out.
 */
import { randomBytes } from 'node:crypto';
import type { Dir } from 'node:fs';
import { link, lstat, mkdir, open, opendir, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { SYSTEM_NAMES } from '../engine/types.js';
import { InvalidInputError, PetLifeError, StorageUnavailableError } from '../errors.js';
import {
  assertReplaced,
  assertSaveRequest,
  assertTtlOption,
  assertWindow,
  saveTtl,
  type WriteRequest,
  weightOf,
} from './cas-script.js';
import { z } from 'zod';
import { MAX_EXTRAS_PER_PET, assertExtraName, assertPetId, corrupt, decodeLoad, encodeValue, globalKey } from './keys.js';
import { firstIssue } from './schemas.js';
import type {
  HitRequest,
  HitResult,
  JsonObject,
  LoadOptions,
  PetMeta,
  PetRecord,
  ReplaceRequest,
  SaveRequest,
  SaveResult,
  StorageDriver,
} from './types.js';

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
}

/** What `pet.json` holds. */
interface PetFile {
  meta: PetMeta | null;
  systems: Partial<Record<string, JsonObject>>;
  /** Unix ms after which the pet counts as gone, or null. */
  expires_at: number | null;
  /** The token of the save that wrote this file, when it wrote extras: its pending extras count. */
  extras_token?: string | null;
  /** Extras as older versions kept them, inside pet.json (read; moved out by the next save). */
  extras?: Record<string, { value: string; expires_at: number }>;
}

const PET_FILE = 'pet.json';
const LOCK_FILE = '.lock';
const EXTRAS_DIR = 'extras';
/** Counter files a hit earns the sweep a look at (a hit creates one at most)… */
const SWEEP_PER_HIT = 4;
/** …spent in batches of at least this many… */
const SWEEP_MIN_BATCH = 32;
/** …and at most this many (credit beyond it is dropped: a burst of hits never means a long sweep). */
const SWEEP_MAX_BATCH = 256;

/** One file under `extras/`, parsed from its name. */
interface ExtraFile {
  entry: string;
  name: string;
  expiresAt: number;
  /** The save token of a pending extra; null for a final one. */
  token: string | null;
}

export function createFileStorage(options: FileStorageOptions): StorageDriver {
  const { dir, ttlMs, staleLockMs = 10_000, lockTimeoutMs = 5_000, now = Date.now } = options;
  if (typeof dir !== 'string' || dir === '') throw new TypeError('dir must be a non-empty path');
  assertTtlOption(ttlMs);
  const root = path.resolve(dir);
  const queue = createKeyedQueue();
  /** Lock options; `label` names what is locked in messages that can reach clients (never a path). */
  const lockOptions = (label: string): LockOptions => ({ staleLockMs, lockTimeoutMs, label });
  let trips = 0;

  /** A path inside root; refuses anything that would resolve outside it (defence in depth). */
  const inside = (...segments: string[]): string => {
    const full = path.resolve(root, ...segments);
    if (!full.startsWith(root + path.sep)) {
      throw new InvalidInputError('invalid_device_id', 'device_id must be 1–64 of A–Z a–z 0–9 _ -');
    }
    return full;
  };
  const petDir = (petId: string): string => {
    assertPetId(petId);
    return inside(petId);
  };

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
    await removeStaleTemps(folder, PET_FILE, LOCK_FILE);
    const replace = request.expectedVersion === 'any';
    let old: PetFile | null;
    let oldToken: string | null;
    try {
      old = await readPet(petId, folder);
      oldToken = old?.extras_token ?? null;
    } catch (error) {
      // A replace overwrites a corrupt pet; the extras its last save wrote still count.
      if (!replace || !(error instanceof PetLifeError)) throw error;
      old = null;
      oldToken = lenientToken(await readOptional(path.join(folder, PET_FILE)));
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
    const pttl = saveTtl(request, ttlMs);
    const next: PetFile = {
      meta: request.meta,
      systems: replace ? { ...request.systems } : { ...(old?.systems ?? {}), ...request.systems },
      expires_at: pttl === undefined ? null : t + pttl,
      extras_token: token,
    };
    await writeAtomic(path.join(folder, PET_FILE), encodeValue(next));
    // Committed. What follows only tidies up: a failure must not report the save as failed.
    try {
      for (const extra of pending) finals.push(await promote(extrasDir, extra));
      await pruneExtras(extrasDir, finals, t);
    } catch {
      // The next save under the lock finishes it (pending files with the current token count).
    }
    return { ok: true, version: request.meta.version, keys: 1 + Object.keys(request.systems).length + extras.length };
  };

  /** Where the counter of a hit lives (purpose, subject and window validated as `hit` does). */
  interface Counter {
    purpose: string;
    folder: string;
    /** The %-encoded subject: the counter is `<name>.json`, its lock `<name>.lock`. */
    name: string;
    windowMs: number;
    /** Units this hit adds. */
    weight: number;
  }
  const counterOf = (purpose: string, subject: string, windowMs: number, weight = 1): Counter => {
    globalKey(purpose, subject); // validates both
    assertWindow(windowMs);
    const name = encodeSubject(subject);
    inside(`~${purpose}`, name); // stays inside root
    return { purpose, folder: inside(`~${purpose}`), name, windowMs, weight };
  };

  /** Counts one hit, under the counter's lock (the caller has counted the round trip). */
  const countHit = (counter: Counter): Promise<HitResult> => {
    const base = path.join(counter.folder, counter.name);
    return queue.run(base, () =>
      unavailableOnIoError(() =>
        withFileLock(`${base}.lock`, lockOptions(`the ${counter.purpose} counter`), async (lock) => {
          await mkdir(counter.folder, { recursive: true });
          // A crash may have left temp files of this counter; look only after a takeover (the
          // folder holds one counter per client address, too many to list on every hit).
          if (lock.tookOver) await removeStaleTemps(counter.folder, `${counter.name}.json`, `${counter.name}.lock`);
          const raw = await readOptional(`${base}.json`);
          const t = now();
          let stored: { count: number; expires_at: number } | null = null;
          try {
            stored = raw === null ? null : (JSON.parse(raw) as { count: number; expires_at: number });
          } catch {
            stored = null; // a corrupt counter restarts its window
          }
          const next =
            stored !== null && stored.expires_at > t
              ? { count: stored.count + counter.weight, expires_at: stored.expires_at }
              : { count: counter.weight, expires_at: t + counter.windowMs };
          await writeAtomic(`${base}.json`, encodeValue(next));
          return { count: next.count, resetInMs: Math.max(0, next.expires_at - t) };
        }),
      ),
    ).finally(() => afterHit(counter.folder));
  };

  /**
   * Expired counters are deleted a few at a time, after hits: each hit earns SWEEP_PER_HIT looks
   * at a counter file (at most SWEEP_MAX_BATCH saved up), and once SWEEP_MIN_BATCH are earned a
   * sweep spends them on one counter folder (round robin over the folders, each read on from where
   * the last look stopped). So a hit costs a few small reads at most, and files are looked at
   * faster than hits can create them (one per hit at most). Sweeps run in the background, one at
   * a time; close() waits for the one in flight.
   */
  const counterFolders = new Set<string>();
  const cursors = new Map<string, Dir>();
  let credit = 0;
  let sweepTurn = 0;
  let sweeping: Promise<void> | null = null;
  let closed = false;
  const afterHit = (folder: string): void => {
    counterFolders.add(folder);
    credit = Math.min(SWEEP_MAX_BATCH, credit + SWEEP_PER_HIT);
    if (credit < SWEEP_MIN_BATCH || sweeping !== null || closed) return;
    const budget = credit;
    credit = 0;
    const next = [...counterFolders][sweepTurn++ % counterFolders.size] as string;
    sweeping = sweepCounters(next, budget)
      .catch(async () => {
        // Best effort: start that folder afresh next time.
        await cursors.get(next)?.close().catch(() => undefined);
        cursors.delete(next);
      })
      .finally(() => {
        sweeping = null;
      });
  };

  const sweepCounters = async (folder: string, budget: number): Promise<void> => {
    let cursor = cursors.get(folder);
    if (cursor === undefined) {
      cursor = await opendir(folder);
      cursors.set(folder, cursor);
    }
    for (let looked = 0; looked < budget; looked += 1) {
      const entry = await cursor.read();
      if (entry === null) {
        cursors.delete(folder);
        await cursor.close();
        return;
      }
      if (!entry.isFile() || !entry.name.endsWith('.json')) continue;
      const base = path.join(folder, entry.name.slice(0, -'.json'.length));
      if (!isExpiredCounter(await readOptional(`${base}.json`), now())) continue;
      // Deleted under its lock, and only if still expired: a hit may have restarted it meanwhile.
      await queue.run(base, () =>
        withFileLock(`${base}.lock`, lockOptions('a counter'), async () => {
          if (isExpiredCounter(await readOptional(`${base}.json`), now())) await unlink(`${base}.json`).catch(ignoreMissing);
        }),
      );
    }
  };

  const load = async (petId: string, loadOptions: LoadOptions = {}): Promise<PetRecord | null> => {
    const folder = petDir(petId);
    const extras = loadOptions.extras ?? [];
    extras.forEach(assertExtraName);
    trips += 1;
    const { file, extraValues } = await unavailableOnIoError(() => readWithExtras(petId, folder, extras));
    return toRecord(petId, file, extras, extraValues);
  };

  const write = async (petId: string, request: WriteRequest): Promise<SaveResult> => {
    const folder = petDir(petId);
    assertSaveRequest(request);
    (request.extras ?? []).forEach((extra) => assertExtraName(extra.name));
    trips += 1;
    return queue.run(folder, () =>
      unavailableOnIoError(() =>
        withFileLock(path.join(folder, LOCK_FILE), lockOptions(`pet ${petId}`), () => saveLocked(petId, folder, request)),
      ),
    );
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
      const counters = loadOptions.hits.map((request) => counterOf(request.purpose, request.subject, request.windowMs, weightOf(request)));
      trips += 1;
      // The pet file is read without a lock (as load does) while the hits are counted under
      // their counters' locks, in order; the hits count even when reading the pet fails.
      const [read, hits] = await Promise.all([
        unavailableOnIoError(() => readWithExtras(petId, folder, extras)),
        Promise.all(counters.map(countHit)),
      ]);
      return { record: toRecord(petId, read.file, extras, read.extraValues), hits };
    },

    save: (petId: string, request: SaveRequest): Promise<SaveResult> => write(petId, request),

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

    async hit(purpose: string, subject: string, windowMs: number): Promise<HitResult> {
      const counter = counterOf(purpose, subject, windowMs);
      trips += 1;
      return countHit(counter);
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

    roundTrips: () => trips,

    async close(): Promise<void> {
      closed = true;
      await sweeping;
      await queue.idle();
      for (const cursor of cursors.values()) await cursor.close().catch(() => undefined);
      cursors.clear();
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

/** The extras_token of a pet.json that may be corrupt, when it still has a string one. */
function lenientToken(raw: string | null): string | null {
  try {
    const value = JSON.parse(raw ?? 'null') as { extras_token?: unknown } | null;
    return typeof value?.extras_token === 'string' ? value.extras_token : null;
  } catch {
    return null;
  }
}

/** True when a stored counter's window is over (or it cannot be read: a hit would restart it anyway). */
function isExpiredCounter(raw: string | null, t: number): boolean {
  if (raw === null) return false;
  try {
    const stored = JSON.parse(raw) as { expires_at?: unknown } | null;
    return !(typeof stored?.expires_at === 'number' && stored.expires_at > t);
  } catch {
    return true;
  }
}

/** The extras in `extrasDir` (none when it does not exist), parsed from their names; other entries are skipped. */
async function listExtras(extrasDir: string): Promise<ExtraFile[]> {
  const entries = await readdir(extrasDir).catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT') return [] as string[];
    throw error;
  });
  const extras: ExtraFile[] = [];
  for (const entry of entries) {
    const parts = entry.split('.');
    const [name, expires] = parts;
    if (name === undefined || expires === undefined || !/^\d{1,16}$/.test(expires)) continue;
    if (parts.length === 3 && parts[2] === 'json') {
      extras.push({ entry, name, expiresAt: Number(expires), token: null });
    } else if (parts.length === 4 && parts[3] === 'pending' && /^[0-9a-f]{16}$/.test(parts[2] ?? '')) {
      extras.push({ entry, name, expiresAt: Number(expires), token: parts[2] as string });
    }
  }
  return extras;
}

/** Renames a pending extra to its final name; returns it as final. */
async function promote(extrasDir: string, extra: ExtraFile): Promise<ExtraFile> {
  const entry = `${extra.name}.${extra.expiresAt}.json`;
  await rename(path.join(extrasDir, extra.entry), path.join(extrasDir, entry));
  return { ...extra, entry, token: null };
}

/**
 * Deletes, among the final extras `finals`, the expired ones, those superseded by a newer file
 * of the same name, and, beyond MAX_EXTRAS_PER_PET, those that expire first.
 */
async function pruneExtras(extrasDir: string, finals: readonly ExtraFile[], t: number): Promise<void> {
  const newest = new Map<string, ExtraFile>();
  const doomed: ExtraFile[] = [];
  for (const extra of finals) {
    if (extra.expiresAt <= t) {
      doomed.push(extra);
      continue;
    }
    const seen = newest.get(extra.name);
    if (seen === undefined) newest.set(extra.name, extra);
    else if (extra.expiresAt > seen.expiresAt) {
      doomed.push(seen);
      newest.set(extra.name, extra);
    } else if (extra.entry !== seen.entry) doomed.push(extra);
  }
  const kept = [...newest.values()].sort((a, b) => a.expiresAt - b.expiresAt);
  doomed.push(...kept.slice(0, Math.max(0, kept.length - MAX_EXTRAS_PER_PET)));
  for (const extra of doomed) await unlink(path.join(extrasDir, extra.entry)).catch(ignoreMissing);
}

/** `%XX` for every byte outside A–Z a–z 0–9 _ - (so `..`, `/` and `:` never reach a file name). */
export function encodeSubject(subject: string): string {
  return [...Buffer.from(subject, 'utf8')]
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return /[A-Za-z0-9_-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

async function readOptional(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
}

/** Writes `content` to `file` atomically: temp file in the same folder, fsync, rename, fsync folder. */
async function writeAtomic(file: string, content: string): Promise<void> {
  const folder = path.dirname(file);
  await mkdir(folder, { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(ignoreMissing);
    throw error;
  }
  await syncFolder(folder);
}

/** Writes a new file in place and fsyncs it (for files nobody reads until a later step makes them count). */
async function writeDurable(file: string, content: string): Promise<void> {
  const handle = await open(file, 'wx', 0o644);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes a rename durable; some platforms cannot fsync a folder, which only costs durability. */
async function syncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // EISDIR/EPERM/EINVAL on platforms without folder fsync.
  } finally {
    // After the rename the write is done: a failing close only costs durability, as above.
    await handle?.close().catch(() => undefined);
  }
}

interface LockOptions {
  staleLockMs: number;
  lockTimeoutMs: number;
  /** What the lock guards, for messages that can reach clients (`pet dev-1`): never a path. */
  label: string;
}

/** What the function run under a lock learns about it. */
export interface HeldLock {
  /** The lock was taken over from a dead or stale holder (which may have left temp files). */
  tookOver: boolean;
}

interface LockInfo {
  pid: number;
  host: string;
  token: string;
  at: number;
}

const HOST = hostname();
/** When this process started (Unix ms): a lock with our pid written before then is a predecessor's. */
const PROCESS_START_MS = performance.timeOrigin;
/** An unreadable lock (empty, cut off, not ours) is stale once older than this. */
const GARBLED_LOCK_MS = 1000;
/** Temp files older than this are debris, whoever wrote them. */
const STALE_TEMP_MS = 60_000;
/** Tokens of the locks this process holds or is acquiring. */
const heldTokens = new Set<string>();
/** Set once link() is refused (a file system without hard links): locks are then created in place. */
let linkUnsupported = false;

/**
 * Runs `fn` holding the lock file `lockPath` (cross-process mutual exclusion).
 *
 * Acquire: write {pid, host, token, at} to a temp file of our own next to the lock, `link()` it
 * to `lockPath` (fails with EEXIST while the lock is held) and unlink the temp; the lock thus
 * appears with its owner already in it, so a crash can never leave an empty lock. When busy, wait
 * a small jittered time and retry until lockTimeoutMs, then StorageUnavailableError ("pet <id>
 * is busy", no path). A held lock is stale, and taken over, when
 *   - its holder is on this host and dead (pid gone; or our own pid, written before this process
 *     started: a predecessor's), at once;
 *   - it cannot be read (empty or cut off: left by a crash of an older version or on a file
 *     system without hard links), once older than 1 s;
 *   - it is older than staleLockMs, whoever holds it.
 * Takeover moves the lock aside with one rename (only one contender wins it) and, if the moved
 * file is not the one judged stale (other inode), puts it back (link never replaces a file).
 * Release: unlink, only if the lock still carries our token.
 */
export async function withFileLock<T>(
  lockPath: string,
  options: LockOptions,
  fn: (lock: HeldLock) => Promise<T>,
): Promise<T> {
  const token = randomBytes(8).toString('hex');
  const deadline = Date.now() + options.lockTimeoutMs;
  let tookOver = false;
  heldTokens.add(token);
  try {
    for (let attempt = 0; !(await createLock(lockPath, token)); attempt += 1) {
      const outcome = await takeOverStaleLock(lockPath, options.staleLockMs);
      if (outcome === 'taken') tookOver = true;
      if (outcome !== 'held') continue; // taken over, or released meanwhile: retry at once
      if (Date.now() >= deadline) {
        throw new StorageUnavailableError(
          `${options.label} is busy: another write has held it for over ${options.lockTimeoutMs} ms; try again`,
        );
      }
      // Small jittered waits: 1–4 ms at first, growing to at most ~50 ms.
      const cap = Math.min(50, 4 * 2 ** Math.min(attempt, 4));
      await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * cap));
    }
    try {
      return await fn({ tookOver });
    } finally {
      // Best effort: the work is done (a save is committed), so failing to release must not
      // report it as failed; a lock left behind goes stale and is taken over (staleLockMs).
      try {
        const info = parseLock(await readOptional(lockPath).catch(() => null));
        if (info?.token === token) await unlink(lockPath).catch(ignoreMissing);
      } catch {
        // see above
      }
    }
  } finally {
    heldTokens.delete(token);
  }
}

/** Creates the lock with its owner in it; false when it is held. Creates a missing folder. */
async function createLock(lockPath: string, token: string): Promise<boolean> {
  const info: LockInfo = { pid: process.pid, host: HOST, token, at: Date.now() };
  const content = JSON.stringify(info);
  for (let tries = 1; ; tries += 1) {
    try {
      return linkUnsupported ? await createLockInPlace(lockPath, content) : await createLockByLink(lockPath, token, content);
    } catch (error) {
      // No folder yet (a pet's first save), or a remove emptied it meanwhile: create it, retry.
      if (errorCode(error) !== 'ENOENT' || tries >= 5) throw error;
      await mkdir(path.dirname(lockPath), { recursive: true });
    }
  }
}

async function createLockByLink(lockPath: string, token: string, content: string): Promise<boolean> {
  const temp = `${lockPath}.${process.pid}.${token}.tmp`;
  await writeFile(temp, content, { encoding: 'utf8', mode: 0o644 });
  try {
    await link(temp, lockPath);
    return true;
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EEXIST') return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
      linkUnsupported = true;
      return createLockInPlace(lockPath, content);
    }
    throw error;
  } finally {
    await unlink(temp).catch(ignoreMissing);
  }
}

/** Fallback without hard links: create exclusively, then write (a crash in between leaves an empty lock). */
async function createLockInPlace(lockPath: string, content: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(lockPath, 'wx', 0o644);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(content, 'utf8');
  } finally {
    await handle.close();
  }
  return true;
}

/**
 * Takes the lock over if it is stale: 'taken' when we moved the stale lock away, 'gone' when it
 * vanished meanwhile (or we moved a fresh one by mistake and put it back), 'held' when it stands.
 */
async function takeOverStaleLock(lockPath: string, staleLockMs: number): Promise<'taken' | 'gone' | 'held'> {
  const seen = await inspectLock(lockPath);
  if (seen === null) return 'gone';
  if (!isStale(seen, staleLockMs)) return 'held';
  const aside = `${lockPath}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'gone'; // another contender moved it first
    throw error;
  }
  const moved = await stat(aside).catch(() => null);
  if (moved !== null && moved.ino !== seen.ino) {
    // We moved a fresh lock created after our check: give it back unless the slot is taken
    // (link, unlike rename, never replaces an existing file).
    await link(aside, lockPath).catch(() => undefined);
    await unlink(aside).catch(ignoreMissing);
    return 'gone';
  }
  await unlink(aside).catch(ignoreMissing);
  return 'taken';
}

/** The lock's inode, age and owner, read through one handle (so all three are of one file). */
async function inspectLock(lockPath: string): Promise<{ ino: number; mtimeMs: number; info: LockInfo | null } | null> {
  let handle;
  try {
    handle = await open(lockPath, 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
  try {
    const { ino, mtimeMs } = await handle.stat();
    return { ino, mtimeMs, info: parseLock(await handle.readFile('utf8')) };
  } finally {
    await handle.close();
  }
}

function isStale(lock: { mtimeMs: number; info: LockInfo | null }, staleLockMs: number): boolean {
  const age = Date.now() - lock.mtimeMs;
  const { info } = lock;
  if (info === null) return age > Math.min(GARBLED_LOCK_MS, staleLockMs);
  if (info.host === HOST) {
    if (info.pid !== process.pid && !isAlive(info.pid)) return true;
    // Our pid but not our lock, from before we started: a predecessor's (a restarted container).
    if (info.pid === process.pid && !heldTokens.has(info.token) && info.at < PROCESS_START_MS) return true;
  }
  return age > staleLockMs;
}

function parseLock(raw: string | null): LockInfo | null {
  if (raw === null || raw === '') return null;
  try {
    const info = JSON.parse(raw) as Partial<LockInfo> | null;
    if (typeof info !== 'object' || info === null) return null;
    const { pid, host, token, at } = info;
    if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return null;
    if (typeof host !== 'string' || typeof token !== 'string' || typeof at !== 'number') return null;
    return { pid, host, token, at };
  } catch {
    return null;
  }
}

/** True unless `pid` is known gone on this host (kill(pid, 0) → ESRCH). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) !== 'ESRCH';
  }
}

/**
 * Removes what crashed writers left in `folder` next to `dataFile` and `lockFile`: temp files
 * (`<dataFile>.<pid>.<hex>.tmp`, `<lockFile>.<pid>.<hex>.tmp`) and locks moved aside
 * (`<lockFile>.stale.<pid>.<hex>`), when their pid is gone from this host or they are older than
 * a minute. Call it holding the lock: a data temp file is only ever written under it, so one
 * seen then is an interrupted write's, whoever wrote it.
 */
async function removeStaleTemps(folder: string, dataFile: string, lockFile: string): Promise<void> {
  const entries = await readdir(folder).catch(() => [] as string[]);
  if (entries.length <= 3 && entries.every((entry) => entry === dataFile || entry === lockFile || entry === EXTRAS_DIR)) return;
  const t = Date.now();
  for (const entry of entries) {
    const pid = tempFilePid(entry, dataFile, lockFile);
    if (pid === null) continue;
    const file = path.join(folder, entry);
    const info = await lstat(file).catch(() => null);
    if (info === null || !info.isFile()) continue;
    if ((pid !== process.pid && !isAlive(pid)) || t - info.mtimeMs > STALE_TEMP_MS) {
      await unlink(file).catch(ignoreMissing);
    }
  }
}

/** The pid in the name of a temp file of `dataFile` or `lockFile`, or null for any other entry. */
function tempFilePid(entry: string, dataFile: string, lockFile: string): number | null {
  let rest: string;
  if (entry.startsWith(`${dataFile}.`) && entry.endsWith('.tmp')) rest = entry.slice(dataFile.length + 1, -4);
  else if (entry.startsWith(`${lockFile}.stale.`)) rest = entry.slice(lockFile.length + 7);
  else if (entry.startsWith(`${lockFile}.`) && entry.endsWith('.tmp')) rest = entry.slice(lockFile.length + 1, -4);
  else return null;
  const match = /^(\d{1,10})\.[0-9a-f]{1,64}$/.exec(rest);
  if (match === null) return null;
  const pid = Number(match[1]);
  return pid > 0 ? pid : null;
}

/** Serialises async work per key inside this process (so only one contender per pet hits the lock). */
function createKeyedQueue(): { run<T>(key: string, fn: () => Promise<T>): Promise<T>; idle(): Promise<void> } {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      const result = previous.then(fn, fn);
      const tail = result.catch(() => undefined);
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return result;
    },
    async idle(): Promise<void> {
      await Promise.all([...tails.values()]);
    },
  };
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

function ignoreMissing(error: unknown): void {
  if (errorCode(error) !== 'ENOENT') throw error;
}

/** What a file-system error code means, for messages (which never carry a path). */
const IO_PROBLEMS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  ENOTDIR: 'the data folder is not a folder',
  EISDIR: 'a folder where a file was expected',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  EIO: 'input/output error',
  EBUSY: 'resource busy',
  ENOENT: 'a file or folder vanished',
};

/**
 * File-system failures (EACCES, ENOSPC, EROFS…) become StorageUnavailableError; ours pass
 * through. The message names the problem and the system call but never the path (Node's own
 * messages quote it, and this one can reach a client); the original error is the cause.
 */
async function unavailableOnIoError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const code = errorCode(error) ?? '';
    if (!(error instanceof PetLifeError) && error instanceof Error && /^E[A-Z]+$/.test(code)) {
      const syscall = 'syscall' in error && typeof error.syscall === 'string' ? `, ${error.syscall}` : '';
      throw new StorageUnavailableError(`file storage failed: ${IO_PROBLEMS[code] ?? 'I/O error'} (${code}${syscall})`, {
        cause: error,
      });
    }
    throw error;
  }
}
