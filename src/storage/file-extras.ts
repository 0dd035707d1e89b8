/**
 * The extras folder of a pet (`<dir>/<petId>/extras/`) and its save token: one file per extra,
 * named `<name>.<expiresAtMs>.json` when final or `<name>.<expiresAtMs>.<token>.pending` while it
 * waits for the pet.json of its save, which names the token (see saveLocked in file.ts). Listed,
 * read, written pending, promoted and pruned here.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { syncFolder, writeAtomic, writeDurable } from './atomic-write.js';
import { encodeSubject, errorCode, ignoreMissing, readOptional } from './file-io.js';
import { MAX_EXTRAS_PER_PET } from './keys.js';
import type { ExtraRecord } from './types.js';

/** The extras folder's name inside a pet's folder. */
export const EXTRAS_DIR = 'extras';

/** One file under `extras/`, parsed from its name. */
export interface ExtraFile {
  entry: string;
  name: string;
  expiresAt: number;
  /** The save token of a pending extra; null for a final one. */
  token: string | null;
}

/** The extras in `extrasDir` (none when it does not exist), parsed from their names; other entries are skipped. */
export async function listExtras(extrasDir: string): Promise<ExtraFile[]> {
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
export async function promote(extrasDir: string, extra: ExtraFile): Promise<ExtraFile> {
  const entry = `${extra.name}.${extra.expiresAt}.json`;
  await rename(path.join(extrasDir, extra.entry), path.join(extrasDir, entry));
  return { ...extra, entry, token: null };
}

/**
 * Deletes, among the final extras `finals`, the expired ones, those superseded by a newer file
 * of the same name, and, beyond MAX_EXTRAS_PER_PET, those that expire first.
 */
export async function pruneExtras(extrasDir: string, finals: readonly ExtraFile[], t: number): Promise<void> {
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

/**
 * Reads the extras `names` (lock-free, like pet.json): for each, the live final file, or a
 * pending one of the save whose pet.json holds `token`, the one that expires last. A file renamed
 * or deleted by a save between listing and reading is looked for again (a pending extra is
 * promoted by a rename, so it is always in one place or the other).
 */
export async function readExtras(
  extrasDir: string,
  token: string | null,
  names: readonly string[],
  now: () => number,
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (names.length === 0) return found;
  const wanted = new Set(names.map(encodeSubject));
  for (let attempt = 1; ; attempt += 1) {
    const t = now();
    const best = new Map<string, ExtraFile>();
    for (const extra of await listExtras(extrasDir)) {
      if (!wanted.has(extra.name) || extra.expiresAt <= t) continue;
      if (extra.token !== null && extra.token !== token) continue;
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
}

/**
 * Step 1 of a save (under the pet's lock): the pending extras of the previous save (`oldToken`,
 * from the old pet.json) are promoted, other pending ones (of a save that crashed before its
 * pet.json) deleted; extras an older pet.json kept inside (`legacy`) move to files of their own
 * (they are committed already). Returns the final extras.
 */
export async function settleExtras(
  extrasDir: string,
  oldToken: string | null,
  legacy: Readonly<Record<string, { value: string; expires_at: number }>>,
  t: number,
): Promise<ExtraFile[]> {
  const finals: ExtraFile[] = [];
  for (const extra of await listExtras(extrasDir)) {
    if (extra.token === null) finals.push(extra);
    else if (extra.token === oldToken) finals.push(await promote(extrasDir, extra));
    else await unlink(path.join(extrasDir, extra.entry)).catch(ignoreMissing);
  }
  for (const [name, old] of Object.entries(legacy)) {
    const expiresAt = Math.floor(old.expires_at); // file names hold whole ms
    if (expiresAt <= t) continue;
    const entry = `${encodeSubject(name)}.${expiresAt}.json`;
    await writeAtomic(path.join(extrasDir, entry), old.value);
    finals.push({ entry, name: encodeSubject(name), expiresAt, token: null });
  }
  return finals;
}

/**
 * Step 2 of a save: its extras written as pending files named with a new random token, fsynced.
 * The pet.json written next names the token (null: no extras); from then on they count.
 */
export async function writePendingExtras(
  extrasDir: string,
  extras: readonly ExtraRecord[],
  t: number,
): Promise<{ token: string | null; pending: ExtraFile[] }> {
  const token = extras.length === 0 ? null : randomBytes(8).toString('hex');
  const pending: ExtraFile[] = [];
  if (token === null) return { token, pending };
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
  return { token, pending };
}
