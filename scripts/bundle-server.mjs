/**
 * `npm run build` (last step): bundles the Vercel entry (src/server.ts) with rolldown into
 * dist/vercel/server.js, which api/index.js re-exports. A cold function then reads and compiles a
 * few files instead of resolving and loading hundreds of modules (docs/benchmarks.md
 * "Cold start"). The storage drivers stay behind their dynamic imports (src/storage/choose.ts), so
 * each is a chunk of its own, loaded only when STORAGE picks it: a memory or Upstash function
 * never reads @redis/client. Minified (less to parse), with a source map beside it
 * (NODE_OPTIONS=--enable-source-maps gives readable stacks). Node built-ins stay imports.
 */
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = `${root}dist/vercel`;

await rm(outDir, { recursive: true, force: true });
const started = performance.now();
const warnings = [];
await build({
  cwd: root,
  input: `${root}src/server.ts`,
  platform: 'node',
  tsconfig: `${root}tsconfig.json`,
  onLog: (level, log) => {
    if (level === 'warn') warnings.push(log.message);
  },
  output: {
    dir: outDir,
    format: 'esm',
    entryFileNames: 'server.js',
    chunkFileNames: '[name]-[hash].js',
    minify: true,
    sourcemap: true,
  },
});
for (const warning of warnings) console.warn(`bundle-server: ${warning}`);
console.log(`bundle-server: dist/vercel/server.js in ${Math.round(performance.now() - started)} ms`);
