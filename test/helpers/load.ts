/**
 * Small, bounded load tools for the reliability tests (docs/reliability.md): a pool that runs N tasks with
 * at most C in flight, a fetch that never throws (a network failure or timeout is status 0), a
 * load loop that runs until stopped, a raw node:http request for inputs fetch would normalise
 * (`..`, `%2e%2e`, odd methods, bodies on GET) and latency figures. Connections are kept alive:
 * global fetch (undici) pools them per origin, and raw requests share one keep-alive agent.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

/** One answered (or failed) request. */
export interface HttpResult {
  /** HTTP status; 0 when no answer came (refused, reset, timed out). */
  status: number;
  /** The parsed JSON body, or undefined when the body was not JSON. */
  json: unknown;
  /** The raw body text. */
  text: string;
  /** Content-Type of the answer ('' when none). */
  contentType: string;
  /** Wall time from sending to the end of the body, ms. */
  latencyMs: number;
  /** Why no answer came (status 0). */
  error?: string;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  /** A JSON value (sent as application/json) or a raw string body (headers as given). */
  json?: unknown;
  body?: string;
  /** Give up (status 0) after this long. @default 10000 */
  timeoutMs?: number;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A fetch that never throws: every outcome is an HttpResult. */
export async function send(url: string, options: SendOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] ??= 'application/json';
  }
  const started = performance.now();
  try {
    const response = await fetch(url, {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const text = await response.text();
    return {
      status: response.status,
      json: parseJson(text),
      text,
      contentType: response.headers.get('content-type') ?? '',
      latencyMs: performance.now() - started,
    };
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return {
      status: 0,
      json: undefined,
      text: '',
      contentType: '',
      latencyMs: performance.now() - started,
      error: `${error instanceof Error ? error.message : String(error)}${cause}`,
    };
  }
}

/** Runs `task(0 … count-1)` with at most `concurrency` in flight; results in index order. */
export async function runPool<T>(count: number, concurrency: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next;
      next += 1;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/** A load that runs `task` on `concurrency` workers until stop() (each worker pausing `pauseMs` between calls). */
export interface LoadLoop<T> {
  /** Every result so far, with the wall time (performance.now()) it was sent at. */
  readonly results: Array<{ sentAt: number; result: T }>;
  /** Stops starting new calls and waits for those in flight. */
  stop(): Promise<void>;
}

export function startLoadLoop<T>(concurrency: number, pauseMs: number, task: (worker: number) => Promise<T>): LoadLoop<T> {
  const results: Array<{ sentAt: number; result: T }> = [];
  let running = true;
  const worker = async (index: number): Promise<void> => {
    while (running) {
      const sentAt = performance.now();
      const result = await task(index);
      results.push({ sentAt, result });
      if (pauseMs > 0 && running) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };
  const done = Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
  return {
    results,
    async stop(): Promise<void> {
      running = false;
      await done;
    },
  };
}

/** Latency figures of a set of samples, ms. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarizeLatency(samplesMs: readonly number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const round = (ms: number): number => Math.round(ms * 10) / 10;
  return { count: sorted.length, p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? 0) };
}

/** Counts of each status, e.g. { '200': 1990, '503': 10 }. */
export function countStatuses(results: readonly Pick<HttpResult, 'status'>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { status } of results) counts[String(status)] = (counts[String(status)] ?? 0) + 1;
  return counts;
}

/** A request exactly as written: path, method, headers and body are not normalised or checked. */
export interface RawRequest {
  method: string;
  /** Request target as sent (e.g. `/api/pet/../state`); must be free of spaces and characters above U+00FF. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body with Transfer-Encoding: chunked instead of Content-Length. @default false */
  chunked?: boolean;
}

const rawAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * Sends a raw request to `origin` (http://127.0.0.1:port) over a keep-alive agent; never throws.
 * An answer that arrives before the server stops reading a large body still counts.
 */
export function sendRaw(origin: string, request: RawRequest, timeoutMs = 10_000): Promise<HttpResult> {
  const { hostname, port } = new URL(origin);
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<HttpResult, 'latencyMs'>): void => {
      if (settled) return;
      settled = true;
      resolve({ ...result, latencyMs: performance.now() - started });
    };
    const fail = (error: unknown): void =>
      finish({ status: 0, json: undefined, text: '', contentType: '', error: error instanceof Error ? error.message : String(error) });
    const headers: Record<string, string | number> = { ...request.headers };
    if (request.body !== undefined && !request.chunked) headers['content-length'] = Buffer.byteLength(request.body);
    let req: http.ClientRequest;
    try {
      req = http.request({ host: hostname, port, method: request.method, path: request.path, headers, agent: rawAgent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          finish({ status: res.statusCode ?? 0, json: parseJson(text), text, contentType: String(res.headers['content-type'] ?? '') });
        });
      });
    } catch (error) {
      fail(error); // e.g. ERR_UNESCAPED_CHARACTERS: the request never left
      return;
    }
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    // The server may answer (413) and close before the whole body is written: EPIPE/ECONNRESET
    // then follow the answer, which has already been kept.
    req.on('error', fail);
    if (request.body !== undefined) req.write(request.body);
    req.end();
  });
}

/** Closes the keep-alive sockets of sendRaw (call in afterAll). */
export function closeRawAgent(): void {
  rawAgent.destroy();
}

/**
 * Environment for servers under load tests: rate limiting off (both limits 0, src/config.ts), so
 * that thousands of requests from one address to one pet are not refused. Load helpers fail on
 * a 429 with a message pointing here.
 */
export const LOAD_TEST_ENV: Readonly<Record<string, string>> = Object.freeze({ RATE_LIMIT_PER_PET: '0', RATE_LIMIT_PER_CLIENT: '0' });

/** Throws when a load result was refused by a rate limiter (see LOAD_TEST_ENV). */
export function assertNotRateLimited(result: Pick<HttpResult, 'status' | 'text'>): void {
  if (result.status === 429) {
    throw new Error(
      `rate limited (429) under a load test: turn the limiter off in LOAD_TEST_ENV (test/helpers/load.ts): ${result.text.slice(0, 200)}`,
    );
  }
}

/** Prints figures of a run and, when TEST_ARTIFACTS_DIR is set, writes them to reliability-<name>.json there. */
export function reportFigures(name: string, figures: Record<string, unknown>): void {
  console.info(`[reliability] ${name}: ${JSON.stringify(figures)}`);
  const dir = process.env['TEST_ARTIFACTS_DIR'];
  if (dir === undefined || dir === '') return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, `reliability-${name}.json`),
    `${JSON.stringify({ name, at: new Date().toISOString(), ...figures }, null, 2)}\n`,
  );
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
