/**
 * Imports point one way (docs/design.md §1): cli, http → service → engine, storage; storage may use
 * engine types only; nothing below http imports http or cli; rules.ts (the input rules) may be
 * imported by every layer but the engine, and imports only the engine's constant lists. Checked on every source file's
 * import lines, so a new file is covered without touching this test. Also: no module but the lazy
 * document builder (http/openapi.ts) loads @hono/zod-openapi (docs/deploy.md, "Cold start").
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tsFilesBelow } from './helpers/source-files.js';
import { at } from './helpers/must.js';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

const sourceFiles = (): string[] => tsFilesBelow(SRC);

/** The layer of a file: its folder under src/, or the file name for top-level files. */
function layerOf(path: string): string {
  const rel = relative(SRC, path);
  return rel.includes(sep) ? at(rel.split(sep), 0) : rel.replace(/\.ts$/, '');
}

function imports(path: string): Array<{ specifier: string; typeOnly: boolean }> {
  const source = readFileSync(path, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const found: Array<{ specifier: string; typeOnly: boolean }> = [];
  for (const match of source.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
    found.push({ specifier: at(match, 3), typeOnly: Boolean(match[2]) });
  }
  for (const match of source.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]/g)) found.push({ specifier: at(match, 1), typeOnly: false });
  return found;
}

/** Which layers each layer may import (values; `import type` of engine is always fine). */
const ALLOWED: Record<string, readonly string[]> = {
  engine: ['engine'],
  // The input rules sit just above the engine (its constant lists) and below everything else.
  rules: ['rules', 'engine'],
  errors: ['errors'],
  storage: ['storage', 'errors', 'engine', 'rules'],
  service: ['service', 'storage', 'engine', 'errors', 'log', 'rules'],
  http: ['http', 'service', 'storage', 'engine', 'errors', 'config', 'log', 'rules'],
  cli: ['cli', 'service', 'storage', 'engine', 'errors', 'config', 'log', 'http', 'main', 'configured-storage', 'rules'],
  config: ['config', 'config-schema', 'errors', 'storage', 'engine', 'log', 'rules'],
  // The environment's schema, read by config.ts alone.
  'config-schema': ['config-schema', 'storage', 'engine', 'log', 'rules'],
  log: ['log', 'errors'],
  // The configured backend, loaded when chosen (docs/deploy.md, "Cold start": only the driver in use is loaded).
  'configured-storage': ['configured-storage', 'config', 'log', 'storage', 'errors'],
  main: ['main', 'configured-storage', 'config', 'log', 'http', 'service', 'storage', 'errors', 'engine', 'rules'],
  // pet-life/client (docs/api.md): shipped to apps and the page, so it stands alone; nothing else imports it.
  client: ['client'],
  server: ['server', 'configured-storage', 'main', 'config', 'log', 'http', 'service', 'storage', 'errors', 'engine', 'rules'],
};

describe('architecture', () => {
  const files = sourceFiles();

  it('finds the layers', () => {
    const layers = new Set(files.map(layerOf));
    for (const layer of ['engine', 'rules', 'storage', 'service', 'http', 'cli', 'config', 'main', 'client'])
      expect(layers).toContain(layer);
    expect(imports(join(SRC, 'main.ts')).length).toBeGreaterThan(2);
  });

  it.each(files.map((file) => [relative(SRC, file), file]))('%s imports only the layers below it', (_, file) => {
    const from = layerOf(file);
    const allowed = ALLOWED[from];
    expect(allowed, `no rule for layer ${from}`).toBeDefined();
    for (const { specifier, typeOnly } of imports(file)) {
      if (!specifier.startsWith('.')) continue; // packages and node: modules
      const target = layerOf(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      if (typeOnly && target === 'engine') continue;
      expect(allowed, `${relative(SRC, file)} imports ${specifier} (${target})`).toContain(target);
    }
  });

  // Issue #16 (cold start): serving requests needs plain zod; only the lazy document builder loads
  // the OpenAPI generator, on the first GET /openapi.json (src/http/openapi.ts).
  it.each(files.map((file) => [relative(SRC, file), file]))('%s loads no OpenAPI generator on the request path', (_, file) => {
    const lazyBuilder = relative(SRC, file) === join('http', 'openapi.ts');
    for (const { specifier, typeOnly } of imports(file)) {
      if (!specifier.startsWith('@hono/zod-openapi') && !specifier.startsWith('@asteasolutions/zod-to-openapi')) continue;
      if (typeOnly) continue;
      expect(lazyBuilder, `${relative(SRC, file)} imports ${specifier}`).toBe(true);
    }
    if (!lazyBuilder)
      expect(readFileSync(file, 'utf8'), `${relative(SRC, file)} calls .openapi(…) on a schema`).not.toMatch(/\.openapi\(\s*['"{]/);
  });
});

// pet-life/client runs in browsers and in apps that do not carry the server: it imports only itself
// and its two packages (no node: modules, no server dependency).
describe('pet-life/client', () => {
  const clientFiles = sourceFiles().filter((file) => layerOf(file) === 'client');
  it.each(clientFiles.map((file) => [relative(SRC, file), file]))('%s imports only its own files and its packages', (_, file) => {
    for (const { specifier } of imports(file)) {
      if (specifier.startsWith('.')) continue;
      expect(['openapi-fetch', 'eventsource-parser'], `${relative(SRC, file)} imports ${specifier}`).toContain(specifier);
    }
  });
});

// Files of one concept (docs/architecture.md): no hand-written source file over 400 lines. The
// client's types are generated from the OpenAPI document (npm run gen:client) and exempt.
describe('file size', () => {
  const GENERATED = new Set([join('client', 'schema.ts')]);
  const handWritten = sourceFiles().filter((file) => !GENERATED.has(relative(SRC, file)));
  it.each(handWritten.map((file) => [relative(SRC, file), file]))('%s has at most 400 lines', (_, file) => {
    expect(readFileSync(file, 'utf8').split('\n').length).toBeLessThanOrEqual(401);
  });
});
