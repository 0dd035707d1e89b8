/**
 * Builds the pet page (web/) into <repo>/dist/web; the app serves dist/web/index.html at `/`
 * and dist/web/assets/* at `/assets/*`. `vite --config web/vite.config.ts` is a dev server that
 * proxies /api to a running pet-life server (PET_LIFE_URL, default http://127.0.0.1:8000).
 */
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [preact()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // Evergreen browsers only; keeps the bundle free of down-level helpers.
    target: 'es2022',
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': process.env['PET_LIFE_URL'] ?? 'http://127.0.0.1:8000' },
  },
});
