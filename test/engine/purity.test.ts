/**
 * The engine is pure (docs/design.md §1): it imports nothing outside src/engine and no node:
 * module, and never reads a clock, the environment or Math.random. Checked on the source text
 * of every engine file, so a new file is covered without touching this test.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tsFilesBelow } from '../helpers/source-files.js';
import { at } from '../helpers/must.js';

const ENGINE = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/engine');

const engineFiles = (): string[] => tsFilesBelow(ENGINE);

/** Source without comments and string contents other than import specifiers. */
function code(path: string): string {
  return readFileSync(path, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\bfrom\s+['"]([^'"]+)['"]/g, /\bimport\s+['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]/g];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(at(match, 1));
  return found;
}

describe('engine purity', () => {
  const files = engineFiles();

  it('has the engine files to check', () => {
    const names = files.map((f) => relative(ENGINE, f));
    for (const name of ['advance.ts', 'rhythm.ts', 'sleep.ts', 'needs.ts', 'time.ts', 'index.ts']) {
      expect(names).toContain(name);
    }
    // The scanner sees real imports (a broken pattern would pass every file vacuously).
    expect(specifiers(code(join(ENGINE, 'index.ts'))).length).toBeGreaterThan(5);
    expect(specifiers("import { x } from 'node:fs';\nimport type { Y } from '../errors.js';")).toEqual(['node:fs', '../errors.js']);
  });

  it.each(engineFiles().map((f) => [relative(ENGINE, f), f]))('%s imports only engine files, with .js extensions', (_, path) => {
    for (const specifier of specifiers(code(path))) {
      expect(specifier.startsWith('./') || specifier.startsWith('../'), specifier).toBe(true);
      const target = resolve(dirname(path), specifier);
      expect(relative(ENGINE, target).startsWith('..'), `${specifier} leaves src/engine`).toBe(false);
      expect(specifier.endsWith('.js'), specifier).toBe(true);
    }
  });

  it.each(engineFiles().map((f) => [relative(ENGINE, f), f]))('%s reads no clock, environment or global randomness', (_, path) => {
    const source = code(path);
    for (const forbidden of [
      /\bDate\.now\b/,
      /\bnew Date\(\s*\)/,
      /\bMath\.random\b/,
      /\bperformance\.now\b/,
      /\bprocess\./,
      /\brequire\(/,
      /['"]node:/,
    ]) {
      expect(forbidden.test(source), `${forbidden}`).toBe(false);
    }
  });
});
