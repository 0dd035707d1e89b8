/**
 * The app Vercel serves: api/index.js re-exports this default export (bundled by `npm run build`
 * into dist/vercel/server.js, scripts/bundle-server.mjs), and vercel.json rewrites
 * every path that is not a static file (the web page and its assets, built into public/) to that
 * function. It builds the same app as src/main.ts; nothing listens here. Each request saves its
 * pet before it answers, so nothing is lost when the function freezes after the response. With no
 * durable storage configured on Vercel, loadConfig throws a ConfigError saying what to set, and
 * the function fails to start.
 */
import type { Hono } from 'hono';
import { loadConfig } from './config.js';
import { createApp, type AppEnv } from './http/index.js';
import { createLogger } from './log.js';
import { createConfiguredStorage } from './configured-storage.js';
import { systemClock } from './service/index.js';

const config = loadConfig(process.env);
const log = createLogger({ level: config.logLevel });
const app: Hono<AppEnv> = createApp({ config, storage: await createConfiguredStorage(config, log), clock: systemClock, log });

export default app;
