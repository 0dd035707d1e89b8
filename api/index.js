/**
 * The Vercel function. vercel.json builds the web page into public/ (served by Vercel's CDN as
 * static files) and rewrites every other path here; a rewrite keeps the request's own URL, so the
 * app routes `/docs`, `/openapi.json` and `/api/...` as usual. The app itself is src/server.ts,
 * bundled by `npm run build` (scripts/bundle-server.mjs) into dist/vercel/server.js: a cold
 * function loads a few files rather than ~300 modules (issue #16). Plain JavaScript, because the
 * bundle exists only after the build that Vercel runs before it builds this function.
 */
export { default } from '../dist/vercel/server.js';
