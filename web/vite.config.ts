/**
 * Builds the pet page (web/) into <repo>/dist/web; the app serves dist/web/index.html at `/`,
 * dist/web/assets/* at `/assets/*`, and the PWA files (sw.js, manifest.webmanifest, icons/*) at
 * the root. `vite --config web/vite.config.ts` is a dev server that proxies /api to a running
 * pet-life server (PET_LIFE_URL, default http://127.0.0.1:8000).
 */
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [
    preact(),
    // The installable page (docs/web.md): the manifest, and a service worker of our own
    // (web/src/sw.ts) that shows pushes. No precache: the page is live data.
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      // main.tsx registers it, only where push is used (the Notifications card).
      injectRegister: false,
      // An empty injection point skips workbox's precache manifest (see above).
      injectManifest: { injectionPoint: '', rollupFormat: 'iife' },
      includeManifestIcons: false,
      manifest: {
        name: 'pet-life',
        short_name: 'pet-life',
        description: 'Your virtual pet, alive while you are away',
        lang: 'zh-CN',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#fdf6ec',
        theme_color: '#fdf6ec',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
    }),
  ],
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
