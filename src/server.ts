/**
 * Vercel entry (zero-config Hono): Vercel picks the first of app|index|server.{ts,js,…} or the
 * same under src/ that imports `hono`, and serves its default export. It builds the same app as
 * src/main.ts; nothing listens here. Each request saves its pet before it answers, so nothing is
 * lost when the function freezes after the response. With no durable storage configured on
 * Vercel, loadConfig throws a ConfigError saying what to set, and the function fails to start.
 */
import type { Hono } from 'hono';
import { loadConfig } from './config.js';
import { createApp, type AppEnv } from './http/index.js';
import { createLogger } from './log.js';
import { createConfiguredStorage } from './main.js';
import { systemClock } from './service/index.js';

const config = loadConfig(process.env);
const log = createLogger({ level: config.logLevel });
const app: Hono<AppEnv> = createApp({ config, storage: createConfiguredStorage(config, log), clock: systemClock, log });

export default app;
