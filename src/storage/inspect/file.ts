/**
 * The file driver's inspector (`pet-life pets`, `inspect`): the pets under the data folder, and
 * every file of one pet with its size and, for pet.json and the extras, its time to live.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { EXTRAS_DIR } from '../file-extras.js';
import { errorCode, readOptional, unavailableOnIoError } from '../file-io.js';
import { PET_FILE } from '../file-pet-json.js';
import { PET_ID_PATTERN } from '../keys.js';
import type { StorageInspector, StoredKey } from '../types.js';

export interface FileInspectorContext {
  /** The data folder, resolved. */
  root: string;
  /** The folder of a pet (its id validated). */
  petDir(petId: string): string;
  now(): number;
  /** Counts one round trip of the driver. */
  trip(): void;
}

export function createFileInspector({ root, petDir, now, trip }: FileInspectorContext): StorageInspector {
  return {
    async listPets(listOptions = {}): Promise<string[]> {
      trip();
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
      trip();
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
  };
}
