/**
 * Durable writes for the file driver: a file replaced atomically (temp file, fsync, rename, fsync
 * of the folder), a new file made durable in place, and the removal of what crashed writers left
 * behind (temp files and locks moved aside, named `<file>.<pid>.<hex>…`).
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, lstat, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { isAlive } from './file-lock.js';
import { ignoreMissing } from './file-io.js';

/** Temp files older than this are debris, whoever wrote them. */
const STALE_TEMP_MS = 60_000;

/** Writes `content` to `file` atomically: temp file in the same folder, fsync, rename, fsync folder. */
export async function writeAtomic(file: string, content: string): Promise<void> {
  const folder = path.dirname(file);
  await mkdir(folder, { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeDurable(temp, content);
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(ignoreMissing);
    throw error;
  }
  await syncFolder(folder);
}

/** Writes a new file in place and fsyncs it (for files nobody reads until a later step makes them count). */
export async function writeDurable(file: string, content: string): Promise<void> {
  const handle = await open(file, 'wx', 0o644);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes a rename durable; some platforms cannot fsync a folder, which only costs durability. */
export async function syncFolder(folder: string): Promise<void> {
  let handle: FileHandle | undefined;
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

/**
 * Removes what crashed writers left in `folder` next to `dataFile` and `lockFile`: temp files
 * (`<dataFile>.<pid>.<hex>.tmp`, `<lockFile>.<pid>.<hex>.tmp`) and locks moved aside
 * (`<lockFile>.stale.<pid>.<hex>`), when their pid is gone from this host or they are older than
 * a minute. Call it holding the lock: a data temp file is only ever written under it, so one
 * seen then is an interrupted write's, whoever wrote it. `others` are the folder's other known
 * entries (a pet's `extras`): a folder holding nothing else is not looked through.
 */
export async function removeStaleTemps(folder: string, dataFile: string, lockFile: string, others: readonly string[] = []): Promise<void> {
  const entries = await readdir(folder).catch(() => [] as string[]);
  const known = (entry: string): boolean => entry === dataFile || entry === lockFile || others.includes(entry);
  if (entries.length <= 2 + others.length && entries.every(known)) return;
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
