/**
 * Reads a file under a fixed folder for a URL path, refusing anything that could leave it
 * (`..`, backslashes, NUL, absolute paths). Small files only: the web page and the Swagger UI.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
import { getMimeType } from 'hono/utils/mime';

export interface StaticFile {
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
}

/** Returns the file at `relativePath` under `root`, or null when absent or unsafe. */
export async function readStaticFile(root: string, relativePath: string): Promise<StaticFile | null> {
  if (relativePath === '' || relativePath.includes('\0') || relativePath.includes('\\')) return null;
  const segments = relativePath.split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) return null;
  const path = normalize(join(root, ...segments));
  if (!path.startsWith(normalize(root) + sep)) return null;
  try {
    const info = await stat(path);
    if (!info.isFile()) return null;
    const body = await readFile(path);
    return { body: new Uint8Array(body), contentType: getMimeType(path) ?? 'application/octet-stream' };
  } catch {
    return null;
  }
}
