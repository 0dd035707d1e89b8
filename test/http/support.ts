/**
 * An app over memory storage and a manual clock, as Hono tests itself: no port, no sleeps.
 * Log lines are collected so tests can read the per-request line.
 */
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { createApp, type App } from '../../src/http/index.js';
import { createLogger, type Logger } from '../../src/log.js';
import { createManualClock, type ManualClock } from '../../src/service/index.js';
import { createMemoryStorage, type MemoryStorage, type StorageDriver } from '../../src/storage/index.js';

/** 2026-03-01 08:00 UTC: a fixed, readable start for every test. */
export const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
export const MINUTE = 60_000;
export const HOUR = 3_600_000;

export interface TestApp<S extends StorageDriver = MemoryStorage> {
  app: App;
  storage: S;
  clock: ManualClock;
  log: Logger;
  /** Parsed log lines written so far. */
  logs: Array<Record<string, unknown>>;
}

export interface TestAppOptions<S extends StorageDriver> {
  env?: Record<string, string>;
  storage?: S;
  startMs?: number;
  webRoot?: string;
}

export function createTestApp<S extends StorageDriver = MemoryStorage>(options: TestAppOptions<S> = {}): TestApp<S> {
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const log = createLogger({ level: 'info', destination: sink });
  const storage = (options.storage ?? createMemoryStorage()) as S;
  const clock = createManualClock(options.startMs ?? T0);
  const config = loadConfig({ STORAGE: 'memory', ...options.env });
  const app = createApp({ config, storage, clock, log, ...(options.webRoot ? { webRoot: options.webRoot } : {}) });
  return { app, storage, clock, log, logs };
}

/** A JSON request. */
export function jsonRequest(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** The response body as JSON, typed by the caller (the schema is what the test checks). */
export async function readJson<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

export interface ErrorJson {
  error: { code: string; message: string };
}

export interface CompatJson<T> {
  success: boolean;
  data: T;
  timestamp: string;
  action?: string;
  hours?: number;
  message?: string;
  error?: { code: string; message: string };
}
