/**
 * A cross-process lock on one file (withFileLock): the file driver holds a pet's `.lock` while it
 * saves or removes the pet, and a counter's `<name>.lock` while it counts a hit. Mutual exclusion
 * comes from link() failing with EEXIST; a lock whose holder died, or that is too old, is taken
 * over. Messages name what is locked, never a path (they can reach clients in 503 bodies).
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, link, mkdir, open, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { StorageUnavailableError } from '../errors.js';
import { errorCode, ignoreMissing, readOptional } from './file-io.js';

export interface LockOptions {
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
export async function withFileLock<T>(lockPath: string, options: LockOptions, fn: (lock: HeldLock) => Promise<T>): Promise<T> {
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
  let handle: FileHandle | undefined;
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
  let handle: FileHandle | undefined;
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
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) !== 'ESRCH';
  }
}
