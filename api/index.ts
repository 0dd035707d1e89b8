/**
 * The Vercel function. vercel.json builds the web page into public/ (served by Vercel's CDN as
 * static files) and rewrites every other path here; a rewrite keeps the request's own URL, so the
 * app routes `/docs`, `/openapi.json` and `/api/...` as usual. The app itself is src/server.ts.
 */
export { default } from '../src/server.js';
