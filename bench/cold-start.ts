/**
 * Cold start of the Vercel function (docs/deploy.md, "Cold start"): in a fresh `node` process each time, import
 * a built entry and send one request through its fetch handler: GET /api/pet/{id}/state of a new
 * pet with STORAGE=memory. Two entries, sampled alternately so that other load on the machine
 * lands on both: the bundle api/index.js re-exports (dist/vercel/server.js, what Vercel runs) and
 * the same code as tsc emits it (dist/src/server.js, one file per module: what bundling saves).
 * The median of N processes each; the figures before the work are those measured on the same
 * machine before it, and COLD_START_BEFORE=<another built checkout> samples that one in the same
 * rounds (a before/after under the same load).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureServerBuilt, PROJECT_ROOT } from '../test/helpers/server-process.js';

const RUNS = 11;
const TARGET_MS = 120;
/** Measured with this benchmark on earlier commits, 2 cores: medians (ab7af08: of 5; 16dd217: of 7). */
const BEFORE = [
  { label: 'before (ab7af08), tsc output', importMs: 318, firstMs: 14 },
  { label: 'before (16dd217), tsc output', importMs: 218, firstMs: 29 },
] as const;

/** COLD_START_BEFORE=<folder of another built checkout>: its dist/src/server.js is sampled in the same rounds. */
const beforeCheckout = process.env['COLD_START_BEFORE'];
const ENTRIES: readonly { label: string; file: string }[] = [
  ...(beforeCheckout === undefined
    ? []
    : [{ label: `same run: ${beforeCheckout}, tsc output`, file: path.join(beforeCheckout, 'dist', 'src', 'server.js') }]),
  { label: 'now, tsc output (dist/src/server.js)', file: path.join(PROJECT_ROOT, 'dist', 'src', 'server.js') },
  { label: 'now, bundled (dist/vercel/server.js: the Vercel entry)', file: path.join(PROJECT_ROOT, 'dist', 'vercel', 'server.js') },
];

/** Runs in the child: import, then one request, printed as one JSON line. */
const PROBE = `
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const { default: app } = await import(process.env.COLD_START_ENTRY);
const t1 = performance.now();
const res = await app.fetch(new Request('http://localhost/api/pet/cold-start/state'));
await res.text();
const t2 = performance.now();
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
process.stdout.write('\\n' + JSON.stringify({ importMs: t1 - t0, firstMs: t2 - t1, cpuMs, status: res.status }) + '\\n');
`;

interface Sample {
  importMs: number;
  firstMs: number;
  /** CPU time (user + system, all threads) over the import and the first request. */
  cpuMs: number;
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
  execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'bundle-server.mjs')], { cwd: PROJECT_ROOT, stdio: 'pipe' });
  for (const entry of ENTRIES) sampleOnce(entry.file); // warms the disk cache, not the process
  const samples: Sample[][] = ENTRIES.map(() => []);
  for (let run = 0; run < RUNS; run++) {
    for (const [index, entry] of ENTRIES.entries()) samples[index]?.push(sampleOnce(entry.file));
  }
  const f = (ms: number) => ms.toFixed(0);
  const rows = ENTRIES.map((entry, index) => {
    const own = samples[index] ?? [];
    const totals = own.map((s) => s.importMs + s.firstMs);
    const range = `${f(Math.min(...totals))}–${f(Math.max(...totals))}`;
    return {
      label: entry.label,
      importMs: median(own.map((s) => s.importMs)),
      firstMs: median(own.map((s) => s.firstMs)),
      totalMs: median(totals),
      range,
      cpuMs: median(own.map((s) => s.cpuMs)),
    };
  });
  const bundled = rows.at(-1);
  const verdict = bundled === undefined ? '' : bundled.totalMs <= TARGET_MS ? 'met' : 'missed';
  const markdown = [
    `A built entry imported in a fresh \`node\` process, then one GET /api/pet/{id}/state of a new pet through its`,
    `fetch handler, STORAGE=memory; median of ${RUNS} processes per entry, the two entries sampled alternately.`,
    `Target: import + first request ≤ ${TARGET_MS} ms for the Vercel entry — ${verdict} (${bundled === undefined ? '' : f(bundled.totalMs)} ms).`,
    '',
    '| entry | import ms | first request ms | total ms | total, min–max | CPU ms (user + system) |',
    '|---|---:|---:|---:|---:|---:|',
    ...BEFORE.map((row) => `| ${row.label} | ${f(row.importMs)} | ${f(row.firstMs)} | ${f(row.importMs + row.firstMs)} | | |`),
    ...rows.map((row) => `| ${row.label} | ${f(row.importMs)} | ${f(row.firstMs)} | ${f(row.totalMs)} | ${row.range} | ${f(row.cpuMs)} |`),
    '',
    'CPU time counts every thread of the process (compilation and GC run beside the main thread), so it can exceed',
    'the wall time; it is the steadier figure when other processes load the machine.',
    'The first request includes what Node loads on first use of `Request`/`Response` (undici, ≈ 15 ms here), which a',
    'Vercel function pays too. The Vercel entry is the bundle (scripts/bundle-server.mjs); the memory driver is in it,',
    'the file, Redis and Upstash drivers are chunks of their own, loaded only when chosen.',
    '',
  ].join('\n');
  return { title: 'Cold start (Vercel entry)', markdown };
}
