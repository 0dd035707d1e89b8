/**
 * Cold start of the Vercel function (issue #16 item 3): in a fresh `node` process each time, import
 * the built entry (dist/src/server.js, what api/index.ts re-exports) and send one request through
 * its fetch handler: GET /api/pet/{id}/state of a new pet with STORAGE=memory. The median of N
 * processes; the figures before the work are those measured on the same machine before it.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureServerBuilt, PROJECT_ROOT } from '../test/helpers/server-process.js';

const RUNS = 7;
const TARGET_MS = 120;
/** Measured with this benchmark on the commit before (ab7af08), 2 cores: median of 5. */
const BEFORE = { importMs: 318, firstMs: 14 };

/** Runs in the child: import, then one request, printed as one JSON line. */
const PROBE = `
const t0 = performance.now();
const { default: app } = await import(process.env.COLD_START_ENTRY);
const t1 = performance.now();
const res = await app.fetch(new Request('http://localhost/api/pet/cold-start/state'));
await res.text();
const t2 = performance.now();
process.stdout.write('\\n' + JSON.stringify({ importMs: t1 - t0, firstMs: t2 - t1, status: res.status }) + '\\n');
`;

interface Sample {
  importMs: number;
  firstMs: number;
  status: number;
}

function sampleOnce(entry: string): Sample {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', PROBE], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', STORAGE: 'memory', LOG_LEVEL: 'silent', COLD_START_ENTRY: pathToFileURL(entry).href },
  });
  const line = out.trim().split('\n').at(-1) ?? '';
  const sample = JSON.parse(line) as Sample;
  if (sample.status !== 200) throw new Error(`cold-start: the first request answered ${sample.status}`);
  return sample;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export default async function bench(): Promise<{ title: string; markdown: string }> {
  ensureServerBuilt();
  const entry = path.join(PROJECT_ROOT, 'dist', 'src', 'server.js');
  sampleOnce(entry); // warms the disk cache, not the process
  const samples = Array.from({ length: RUNS }, () => sampleOnce(entry));
  const importMs = median(samples.map((s) => s.importMs));
  const firstMs = median(samples.map((s) => s.firstMs));
  const totalMs = median(samples.map((s) => s.importMs + s.firstMs));
  const f = (ms: number) => ms.toFixed(0);
  const markdown = [
    `The built Vercel entry (dist/src/server.js) imported in a fresh \`node\` process, then one`,
    `GET /api/pet/{id}/state of a new pet through its fetch handler, STORAGE=memory; median of ${RUNS} processes.`,
    `Target: import + first request ≤ ${TARGET_MS} ms.`,
    '',
    '| | import ms | first request ms | total ms |',
    '|---|---:|---:|---:|',
    `| before (ab7af08) | ${f(BEFORE.importMs)} | ${f(BEFORE.firstMs)} | ${f(BEFORE.importMs + BEFORE.firstMs)} |`,
    `| now | ${f(importMs)} | ${f(firstMs)} | ${f(totalMs)} |`,
    '',
  ].join('\n');
  return { title: 'Cold start (Vercel entry)', markdown };
}
