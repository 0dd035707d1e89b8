/** The .ts files below a folder, at any depth: what the architecture and purity tests read. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export function tsFilesBelow(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFilesBelow(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}
