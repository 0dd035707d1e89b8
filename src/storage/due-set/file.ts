/**
 * The file driver's due set: the process keeps the index in memory and writes it whole to
 * `<data folder>/~due/index.json` (atomically) after each change, so a restart finds its schedule.
 * One process per folder (docs/storage.md), so nobody else writes it.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeAtomic } from '../atomic-write.js';
import { readOptional, unavailableOnIoError } from '../file-io.js';
import { createMemoryDueSet } from './memory.js';
import type { DueSet } from './types.js';

/** One index per folder in this process: every driver on the folder shares it. */
const byRoot = new Map<string, DueSet>();

export function createFileDueSet(root: string): DueSet {
  const known = byRoot.get(root);
  if (known !== undefined) return known;
  const folder = path.join(root, '~due');
  const file = path.join(folder, 'index.json');
  const created = createMemoryDueSet({
    load: () => unavailableOnIoError(() => readOptional(file)),
    save: (text) =>
      unavailableOnIoError(async () => {
        await mkdir(folder, { recursive: true });
        await writeAtomic(file, text);
      }),
  });
  byRoot.set(root, created);
  return created;
}
