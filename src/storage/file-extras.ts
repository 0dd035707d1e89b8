/**
 * The extras folder of a pet (`<dir>/<petId>/extras/`): one file per extra, named
 * `<name>.<expiresAtMs>.json` when final or `<name>.<expiresAtMs>.<token>.pending` while it waits
 * for the pet.json of its save (see saveLocked in file.ts), listed, promoted and pruned here.
 */
import { readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { errorCode, ignoreMissing } from './file-io.js';
import { MAX_EXTRAS_PER_PET } from './keys.js';

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
