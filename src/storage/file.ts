/**
 * File driver (the local default): one folder per pet under `dir`, holding one file `pet.json`
 * with the pet's meta, systems and extras together. A save is atomic and consistent: the new
 * file is written to a temp file, fsynced and renamed over the old one, so a crash leaves either
 * the old pet or the new one, never a partial or mixed pet. Compare-and-set runs under a
 * cross-process lock file (see file-lock below) plus an in-process queue per pet. Paths are built
 * only from validated ids and are checked to stay inside `dir`.
 *
 * Layout:  <dir>/<petId>/pet.json      {"meta":…,"systems":{…},"extras":{…},"expires_at":…}
 *          <dir>/<petId>/.lock         while a save or remove runs
 *          <dir>/~<purpose>/<subject>.json  `hit` counters; the subject %-encoded (IPv6 has ':')
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { SYSTEM_NAMES } from '../engine/types.js';
import { CorruptStateError, InvalidInputError, PetLifeError, StorageUnavailableError } from '../errors.js';
import { assertSaveRequest, assertTtlOption, assertWindow } from './cas-script.js';
import { assertExtraName, assertPetId, decodeLoad, encodeValue, globalKey } from './keys.js';
import type { JsonObject, LoadOptions, PetMeta, PetRecord, SaveRequest, SaveResult, StorageDriver } from './types.js';

export interface FileStorageOptions {
  /** Folder holding one sub-folder per pet (DATA_DIR). */
  dir: string;
  /** Time to live of a pet in ms, refreshed on every save. @default undefined (no TTL) */
  ttlMs?: number;
  /** A lock older than this is taken over (its holder is presumed dead). @default 10000 */
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
  extras: Record<string, { value: string; expires_at: number }>;
  /** Unix ms after which the pet counts as gone, or null. */
  expires_at: number | null;
}

const PET_FILE = 'pet.json';
const LOCK_FILE = '.lock';

export function createFileStorage(options: FileStorageOptions): StorageDriver {
  const { dir, ttlMs, staleLockMs = 10_000, lockTimeoutMs = 5_000, now = Date.now } = options;
  if (typeof dir !== 'string' || dir === '') throw new TypeError('dir must be a non-empty path');
  assertTtlOption(ttlMs);
  const root = path.resolve(dir);
  const queue = createKeyedQueue();
  const lockOptions = { staleLockMs, lockTimeoutMs };
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

  const readPet = async (folder: string): Promise<PetFile | null> => {
    const raw = await readOptional(path.join(folder, PET_FILE));
    if (raw === null) return null;
    let file: PetFile;
    try {
      file = JSON.parse(raw) as PetFile;
    } catch (error) {
      throw new CorruptStateError(`${path.join(folder, PET_FILE)} is not JSON`, { cause: error });
    }
    if (typeof file !== 'object' || file === null || typeof file.systems !== 'object' || typeof file.extras !== 'object') {
      throw new CorruptStateError(`${path.join(folder, PET_FILE)} is not a pet file`);
    }
    if (file.expires_at !== null && file.expires_at !== undefined && file.expires_at <= now()) return null;
    return file;
  };

  return {
    name: 'FileStorage',
    target: dir,

    async load(petId: string, loadOptions: LoadOptions = {}): Promise<PetRecord | null> {
      const folder = petDir(petId);
      const extras = loadOptions.extras ?? [];
      extras.forEach(assertExtraName);
      trips += 1;
      const file = await unavailableOnIoError(() => readPet(folder));
      if (file === null) return null;
      // Re-encode and decode through the same checks as the Redis drivers.
      const t = now();
      const values = [
        file.meta === null ? null : encodeValue(file.meta),
        ...SYSTEM_NAMES.map((name) => {
          const state = file.systems[name];
          return state === undefined ? null : encodeValue(state);
        }),
        ...extras.map((name) => {
          const extra = file.extras[name];
          return extra !== undefined && extra.expires_at > t ? extra.value : null;
        }),
      ];
      return decodeLoad(petId, values, extras);
    },

    async save(petId: string, request: SaveRequest): Promise<SaveResult> {
      const folder = petDir(petId);
      assertSaveRequest(request);
      (request.extras ?? []).forEach((extra) => assertExtraName(extra.name));
      trips += 1;
      return queue.run(folder, () =>
        unavailableOnIoError(() =>
          withFileLock(path.join(folder, LOCK_FILE), lockOptions, async () => {
            const old = await readPet(folder);
            const current = old?.meta?.version ?? 0;
            if (current !== request.expectedVersion) return { ok: false, version: current };
            const t = now();
            const extras: PetFile['extras'] = {};
            for (const [name, extra] of Object.entries(old?.extras ?? {})) {
              if (extra.expires_at > t) extras[name] = extra;
            }
            for (const extra of request.extras ?? []) {
              extras[extra.name] = { value: extra.value, expires_at: t + extra.ttlMs };
            }
            const next: PetFile = {
              meta: request.meta,
              systems: { ...(old?.systems ?? {}), ...request.systems },
              extras,
              expires_at: ttlMs === undefined ? null : t + ttlMs,
            };
            await writeAtomic(path.join(folder, PET_FILE), encodeValue(next));
            const keys = 1 + Object.keys(request.systems).length + (request.extras ?? []).length;
            return { ok: true, version: current + 1, keys };
          }),
        ),
      );
    },

    async remove(petId: string): Promise<void> {
      const folder = petDir(petId);
      trips += 1;
      await queue.run(folder, () =>
        unavailableOnIoError(async () => {
          await withFileLock(path.join(folder, LOCK_FILE), lockOptions, async () => {
            for (const entry of await readdir(folder).catch(() => [] as string[])) {
              if (entry !== LOCK_FILE) await unlink(path.join(folder, entry)).catch(ignoreMissing);
            }
          });
          // Another process may have started a save meanwhile: then the folder stays.
          await rmdir(folder).catch(() => undefined);
        }),
      );
    },

    async hit(purpose: string, subject: string, windowMs: number): Promise<{ count: number; resetInMs: number }> {
      globalKey(purpose, subject); // validates both
      assertWindow(windowMs);
      const folder = inside(`~${purpose}`);
      const base = inside(`~${purpose}`, encodeSubject(subject));
      trips += 1;
      return queue.run(base, () =>
        unavailableOnIoError(() =>
          withFileLock(`${base}.lock`, lockOptions, async () => {
            await mkdir(folder, { recursive: true });
            const raw = await readOptional(`${base}.json`);
            const t = now();
            let counter: { count: number; expires_at: number } | null = null;
            try {
              counter = raw === null ? null : (JSON.parse(raw) as { count: number; expires_at: number });
            } catch {
              counter = null; // a corrupt counter restarts its window
            }
            const next =
              counter !== null && counter.expires_at > t
                ? { count: counter.count + 1, expires_at: counter.expires_at }
                : { count: 1, expires_at: t + windowMs };
            await writeAtomic(`${base}.json`, encodeValue(next));
            return { count: next.count, resetInMs: Math.max(0, next.expires_at - t) };
          }),
        ),
      );
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
      await queue.idle();
    },
  };
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

/** Makes a rename durable; some platforms cannot fsync a folder, which only costs durability. */
async function syncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // EISDIR/EPERM/EINVAL on platforms without folder fsync.
  } finally {
    await handle?.close();
  }
}

interface LockOptions {
  staleLockMs: number;
  lockTimeoutMs: number;
}

interface LockInfo {
  pid: number;
  host: string;
  token: string;
  at: number;
}

const HOST = hostname();

/**
 * Runs `fn` holding the lock file `lockPath` (cross-process mutual exclusion).
 * Acquire: `open(lockPath, 'wx')` (fails when it exists) and write {pid, host, token, at}. When
 * busy, wait a small jittered time and retry until lockTimeoutMs. A lock whose holder is dead
 * (same host, pid gone) or that is older than staleLockMs is moved aside with one rename (only
 * one contender wins it) and, if the moved file is not the one judged stale (same inode), put
 * back. Release: unlink, only if the lock still carries our token.
 */
export async function withFileLock<T>(lockPath: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  const token = randomBytes(8).toString('hex');
  const deadline = Date.now() + options.lockTimeoutMs;
  for (let attempt = 0; ; attempt += 1) {
    try {
      const handle = await open(lockPath, 'wx', 0o644);
      try {
        const info: LockInfo = { pid: process.pid, host: HOST, token, at: Date.now() };
        await handle.writeFile(JSON.stringify(info), 'utf8');
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT') {
        await mkdir(path.dirname(lockPath), { recursive: true });
        continue;
      }
      if (code !== 'EEXIST') throw error;
      if (await takeOverStaleLock(lockPath, options.staleLockMs)) continue;
      if (Date.now() >= deadline) {
        throw new StorageUnavailableError(`lock ${lockPath} is still held after ${options.lockTimeoutMs} ms`);
      }
      // Small jittered waits: 1–4 ms at first, growing to at most ~50 ms.
      const cap = Math.min(50, 4 * 2 ** Math.min(attempt, 4));
      await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * cap));
    }
  }
  try {
    return await fn();
  } finally {
    const info = parseLock(await readOptional(lockPath).catch(() => null));
    if (info?.token === token) await unlink(lockPath).catch(ignoreMissing);
  }
}

async function takeOverStaleLock(lockPath: string, staleLockMs: number): Promise<boolean> {
  let before;
  try {
    before = await stat(lockPath);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return true; // released meanwhile: retry at once
    throw error;
  }
  const info = parseLock(await readOptional(lockPath).catch(() => null));
  const holderDead = info !== null && info.host === HOST && info.pid !== process.pid && !isAlive(info.pid);
  if (!holderDead && Date.now() - before.mtimeMs <= staleLockMs) return false;
  const aside = `${lockPath}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return true; // another contender moved it first
    throw error;
  }
  const moved = await stat(aside).catch(() => null);
  if (moved !== null && moved.ino !== before.ino) {
    // We moved a fresh lock created after our check: give it back unless the slot is taken
    // (link, unlike rename, never replaces an existing file).
    await link(aside, lockPath).catch(() => undefined);
  }
  await unlink(aside).catch(ignoreMissing);
  return true;
}

function parseLock(raw: string | null): LockInfo | null {
  if (raw === null || raw === '') return null;
  try {
    const info = JSON.parse(raw) as LockInfo;
    return typeof info.pid === 'number' && typeof info.token === 'string' ? info : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
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

/** File-system failures (EACCES, ENOSPC, EROFS…) become StorageUnavailableError; ours pass through. */
async function unavailableOnIoError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (!(error instanceof PetLifeError) && error instanceof Error && /^E[A-Z]+$/.test(errorCode(error) ?? '')) {
      throw new StorageUnavailableError(`file storage failed: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
