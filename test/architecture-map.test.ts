/**
 * The folder map in docs/architecture.md is generated from the code (scripts/gen-architecture.ts),
 * so it cannot drift: the committed map must be exactly what the generator makes of the tree as it
 * is, every src/ file must have a header comment to make it from, and the header reader must take
 * the first sentence the way a reader would.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  BEGIN_MARKER,
  END_MARKER,
  filesWithoutHeader,
  folderMap,
  headerSentence,
  MAP_FILE,
  withFolderMap,
} from '../scripts/gen-architecture.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe('the folder map (docs/architecture.md)', () => {
  it('is what `npm run gen:architecture` makes of the tree as it is', () => {
    const committed = readFileSync(join(ROOT, MAP_FILE), 'utf8');
    const generated = withFolderMap(committed, folderMap(ROOT));
    if (committed !== generated) {
      throw new Error(
        `${MAP_FILE} is out of date with src/ (a file added, moved or removed, or a header changed): run \`npm run gen:architecture\` and commit the result`,
      );
    }
  });

  it('names every src/ file once, with its header', () => {
    const map = folderMap(ROOT);
    const fileLines = map.split('\n').filter((line) => line.startsWith('- [`') && line.includes('](../src/'));
    const targets = fileLines.map((line) => /\]\(\.\.\/(src\/[^)]+)\)/.exec(line)?.[1]);
    expect(new Set(targets).size).toBe(targets.length);
    expect(targets).toContain('src/config.ts');
    expect(targets).toContain('src/engine/advance.ts');
    expect(filesWithoutHeader(ROOT), 'src/ files without a /** … */ header comment saying what they hold').toEqual([]);
  });

  it('maps any tree: new folders, folders holding only folders, data files, files without a header', () => {
    const root = mkdtempSync(join(tmpdir(), 'gen-architecture-'));
    try {
      const write = (path: string, text: string) => {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      };
      write('src/main.ts', '#!/usr/bin/env node\n/** Node entry. Starts the server. */\n');
      write('src/zone/inner/run.ts', '/**\n * Runs things (docs/design.md §4). More.\n */\nexport {};\n');
      write('src/zone/inner/data.json', '{}\n');
      write('src/zone/inner/bare.ts', 'export const x = 1;\n');
      write('test/unit/a.test.ts', '');
      const map = folderMap(root);
      expect(map).toContain('- [`main.ts`](../src/main.ts) — Node entry.');
      expect(map.indexOf('### [`src/zone/`](../src/zone)')).toBeLessThan(map.indexOf('### [`src/zone/inner/`](../src/zone/inner)'));
      expect(map).toContain('- [`run.ts`](../src/zone/inner/run.ts) — Runs things (docs/design.md §4).');
      expect(map).toContain('- [`data.json`](../src/zone/inner/data.json)\n');
      expect(map).toContain('- [`bare.ts`](../src/zone/inner/bare.ts) — **no header comment**');
      expect(map).toContain('- [`test/`](../test) — mirrors src/');
      expect(map).toContain('  - [`test/unit/`](../test/unit)');
      expect(filesWithoutHeader(root)).toEqual(['src/zone/inner/bare.ts']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('keeps the hand-written text around the markers', () => {
    const document = `# Title\n\nintro\n\n${BEGIN_MARKER}\n\nold map\n${END_MARKER}\n\n## After\n`;
    const replaced = withFolderMap(document, 'new map\n');
    expect(replaced).toBe(`# Title\n\nintro\n\n${BEGIN_MARKER}\n\nnew map\n\n${END_MARKER}\n\n## After\n`);
    expect(withFolderMap(replaced, 'new map\n')).toBe(replaced);
    expect(() => withFolderMap('# no markers\n', 'map')).toThrow(/markers/);
  });
});

describe('headerSentence', () => {
  it('takes the first sentence of the leading doc comment, on one line', () => {
    expect(headerSentence("/**\n * The tick grid and the pet's external day. 1 tick = 1 minute.\n */\nexport {};")).toBe(
      "The tick grid and the pet's external day.",
    );
    expect(headerSentence('/** One line. */\nexport {};')).toBe('One line.');
    expect(headerSentence('#!/usr/bin/env node\n/**\n * `pet-life` — the command line. More.\n */')).toBe('`pet-life` — the command line.');
  });

  it('does not end a sentence inside parentheses, code, an abbreviation or a number', () => {
    expect(headerSentence('/**\n * Keys (e.g. `life_a.b`) and records (see §4. Storage) in 0.5 s. Next.\n */')).toBe(
      'Keys (e.g. `life_a.b`) and records (see §4. Storage) in 0.5 s.',
    );
    expect(headerSentence('/**\n * Two writes, in order:\n *\n *   1. the first;\n *   2. the second.\n */')).toBe('Two writes, in order.');
  });

  it('drops ticket references: the map names design sections', () => {
    expect(headerSentence('/** Owners (issue #13): records. */')).toBe('Owners: records.');
    expect(headerSentence('/** Visits (issue #13; docs/design.md §8). */')).toBe('Visits (docs/design.md §8).');
    expect(headerSentence('/** Snapshots (docs/design.md §11, issue #16). */')).toBe('Snapshots (docs/design.md §11).');
  });

  it('reads line comments (Lua, shell) and answers null without a header', () => {
    expect(headerSentence('-- The compare-and-set save. KEYS[1] is the meta.\nlocal x = 1')).toBe('The compare-and-set save.');
    expect(headerSentence('import { x } from "y";\n/** Not leading. */')).toBeNull();
    expect(headerSentence('/**\n */\nexport {};')).toBeNull();
  });
});
