/**
 * The bundled Vercel entry (scripts/bundle-server.mjs → dist/vercel/server.js, what api/index.js
 * re-exports; docs/deploy.md, "Cold start"): built afresh, imported in a fresh `node` process, it answers like the
 * app — a pet's state, the OpenAPI document with every route, /metrics with the process metrics —
 * and what a cold function loads before its first answer holds neither the OpenAPI generator, nor
 * prom-client, nor a storage driver other than memory: those are chunks loaded when needed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/server-process.js';

const OUT = path.join(PROJECT_ROOT, 'dist', 'vercel');
const ENTRY = path.join(OUT, 'server.js');

/** The entry and every chunk it imports statically (what `import` of the entry loads). */
function staticClosure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const code = readFileSync(file, 'utf8');
  for (const match of code.matchAll(/(?:from|import)\s*["'](\.\/[^"']+)["']/g)) {
    staticClosure(path.join(path.dirname(file), match[1] as string), seen);
  }
  return seen;
}

/** Runs `script` as an ES module in a fresh node with the bundle's URL in ENTRY; returns its stdout. */
function runFresh(script: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: process.env['PATH'] ?? '', STORAGE: 'memory', LOG_LEVEL: 'silent', ENTRY: pathToFileURL(ENTRY).href },
  });
}

beforeAll(() => {
  execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'bundle-server.mjs')], { cwd: PROJECT_ROOT, stdio: 'pipe' });
}, 120_000);

describe('the bundled Vercel entry (dist/vercel/server.js)', () => {
  it('is what api/index.js re-exports', () => {
    expect(readFileSync(path.join(PROJECT_ROOT, 'api', 'index.js'), 'utf8')).toMatch(
      /export \{ default \} from '\.\.\/dist\/vercel\/server\.js';/,
    );
    expect(existsSync(ENTRY)).toBe(true);
  });

  it('loads at import only what a memory-backed first request needs', () => {
    const loaded = [...staticClosure(ENTRY)].map((file) => readFileSync(file, 'utf8')).join('\n');
    expect(loaded).toContain('MemoryStorage');
    // The OpenAPI generator (zod-to-openapi), prom-client's default metrics, @redis/client and Upstash are chunks of their own.
    for (const marker of ['OpenApiGeneratorV3', 'eventloop_lag', 'RESP_TYPES', 'UpstashError']) {
      expect(loaded.includes(marker), marker).toBe(false);
    }
  });

  it('answers a pet state, the OpenAPI document with every route, and /metrics, in a fresh process', () => {
    const out = runFresh(`
      const { default: app } = await import(process.env.ENTRY);
      const ask = async (path) => { const r = await app.fetch(new Request('http://localhost' + path)); return { status: r.status, body: await r.text() }; };
      const state = await ask('/api/pet/bundle_test/state');
      const doc = await ask('/openapi.json');
      const metrics = await ask('/metrics');
      process.stdout.write(JSON.stringify({ state, doc, metrics }));
    `);
    const { state, doc, metrics } = JSON.parse(out) as Record<'state' | 'doc' | 'metrics', { status: number; body: string }>;
    expect(state.status).toBe(200);
    expect(JSON.parse(state.body)).toMatchObject({ device_id: 'bundle_test' });
    expect(doc.status).toBe(200);
    const paths = Object.keys((JSON.parse(doc.body) as { paths: Record<string, unknown> }).paths);
    for (const route of [
      '/api/pet/{device_id}/state',
      '/api/pet/{device_id}/interact',
      '/api/pet/status',
      '/api/batch',
      '/api/pets',
      '/api/owners',
      '/api/pet/{device_id}/friends',
      '/api/pet/{device_id}/visit',
      '/health',
      '/metrics',
    ]) {
      expect(paths).toContain(route);
    }
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(
      /^http_request_duration_seconds_count\{route="\/api\/pet\/:device_id\/state",method="GET",status="200"\} 1$/m,
    );
    expect(metrics.body).toMatch(/^process_cpu_user_seconds_total \d/m);
  });
});
