/**
 * Finds the project root (the folder with package.json) from this module's location, so that
 * built assets resolve the same from src/ under tsx and from dist/src/ after `npm run build`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest folder at or above `from` holding a package.json; `from`'s folder if none. */
export function findProjectRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return dirname(from);
    dir = parent;
  }
}
