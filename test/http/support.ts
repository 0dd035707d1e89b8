/**
 * An app over memory storage and a manual clock, as Hono tests itself: no port, no sleeps.
 * Log lines are collected so tests can read the per-request line.
 */
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { createApp, type App } from '../../src/http/index.js';
import { createLogger, type Logger } from '../../src/log.js';
import { createManualClock, type ManualClock } from '../../src/service/index.js';
import { createMemoryStorage, type MemoryStorage, type MemoryStore, type StorageDriver } from '../../src/storage/index.js';

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

/**
 * Rate limits are off in test apps unless a test sets RATE_LIMIT_* itself (test/http/rate-limits.test.ts):
 * the other tests count round trips and keys of pets, and a counter is a key and part of a round trip.
 */
export const NO_LIMITS_ENV: Readonly<Record<string, string>> = Object.freeze({ RATE_LIMIT_PER_PET: '0', RATE_LIMIT_PER_CLIENT: '0' });

export interface TestAppOptions<S extends StorageDriver> {
  /** On top of STORAGE=memory and NO_LIMITS_ENV. */
  env?: Record<string, string>;
  storage?: S;
  startMs?: number;
  /** The app's clock (default: a new manual clock at startMs), e.g. one a memory storage also reads. */
  clock?: ManualClock;
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
  const clock = options.clock ?? createManualClock(options.startMs ?? T0);
  const config = loadConfig({ STORAGE: 'memory', ...NO_LIMITS_ENV, ...options.env });
  const app = createApp({ config, storage, clock, log, ...(options.webRoot ? { webRoot: options.webRoot } : {}) });
  return { app, storage, clock, log, logs };
}

/** A manual clock and a memory storage that expires keys and counter windows by it. */
export function clockedStorage(startMs = T0, store?: MemoryStore): { clock: ManualClock; storage: MemoryStorage } {
  const clock = createManualClock(startMs);
  return { clock, storage: createMemoryStorage({ now: () => clock.nowMs(), ...(store ? { store } : {}) }) };
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

/** Reads an SSE body until `done(text)` holds or the deadline passes, then cancels it. */
export async function readUntil(response: Response, done: (text: string) => boolean, timeoutMs = 3000): Promise<string> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (!done(text) && Date.now() < deadline) {
      const chunk = await Promise.race([
        reader.read(),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), Math.max(1, deadline - Date.now()))),
      ]);
      if (chunk === null || chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return text;
}
