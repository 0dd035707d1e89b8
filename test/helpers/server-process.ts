/**
 * The built server (`node dist/src/main.js`) as a child process on 127.0.0.1: started on a free
 * port (PORT=0; the bound URL is read from its "listening" log line), ready once /health answers,
 * stopped by its pid. Its JSON log lines are collected for assertions.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVER_ENTRY = path.join(PROJECT_ROOT, 'dist', 'src', 'main.js');
export const CLI_ENTRY = path.join(PROJECT_ROOT, 'dist', 'src', 'cli', 'main.js');

export interface ServerProcess {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Parsed JSON log lines from stdout so far. */
  readonly logs: Array<Record<string, unknown>>;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Sends `signal` (default SIGTERM) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartServerOptions {
  /** Environment on top of a minimal one (PATH, HOME); PORT=0 and HOST=127.0.0.1 unless given. */
  env?: Record<string, string>;
  /** @default 15000 */
  startTimeoutMs?: number;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * Makes sure dist/src is at least as new as src (npm test builds first; this covers running an
 * e2e file alone). Test files run in parallel, so the compile happens under a lock directory.
 */
export function ensureServerBuilt(): void {
  const fresh = () => existsSync(SERVER_ENTRY) && statSync(SERVER_ENTRY).mtimeMs >= newestMtime(path.join(PROJECT_ROOT, 'src'));
  if (fresh()) return;
  const lock = path.join(PROJECT_ROOT, '.tmp', 'server-build.lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200); // a synchronous 200 ms pause
      if (fresh()) return;
    }
  }
  try {
    if (fresh()) return;
    try {
      execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
        cwd: PROJECT_ROOT,
        stdio: 'pipe',
      });
    } catch (error) {
      // Type errors elsewhere in the tree still emit JavaScript; only a missing entry is fatal.
      if (!existsSync(SERVER_ENTRY)) throw error;
    }
  } finally {
    rmdirSync(lock);
  }
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SystemRoot']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Starts the built server and waits until /health answers 200. */
export async function startServerProcess(options: StartServerOptions = {}): Promise<ServerProcess> {
  ensureServerBuilt();
  const env = { ...baseEnv(), PORT: '0', HOST: '127.0.0.1', ...options.env };
  const child = spawn(process.execPath, [SERVER_ENTRY], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  let pending = '';
  let resolveUrl: (url: string) => void = () => {};
  const urlPromise = new Promise<string>((resolve) => {
    resolveUrl = resolve;
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
      if (!line) continue;
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        logs.push(parsed);
        if (typeof parsed['url'] === 'string' && String(parsed['msg']).includes('listening')) resolveUrl(parsed['url']);
      } catch {
        logs.push({ raw: line });
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  process.once('exit', () => child.kill('SIGKILL'));

  const timeoutMs = options.startTimeoutMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  let url: string;
  try {
    url = await Promise.race([
      urlPromise,
      exited.then(({ code }) => {
        throw new Error(`server exited with ${code} before listening: ${stderr}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`server did not listen within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
      }),
    ]);
    for (let attempt = 0; ; attempt += 1) {
      try {
        const response = await fetch(`${url}/health`);
        if (response.ok) break;
      } catch (error) {
        if (attempt > 50) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    // A server that never became ready must not outlive the test.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }

  const pid = child.pid ?? -1;
  return {
    url,
    pid,
    child,
    logs,
    stderr: () => stderr,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * For a test file: a `start(env)` that starts the built server with `baseEnv` under `env`, and
 * an afterEach that kills (SIGKILL) every server the test started, so none outlives its test.
 */
export function startServersPerTest(baseEnv: Record<string, string> = {}): (env?: Record<string, string>) => Promise<ServerProcess> {
  const running: ServerProcess[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((server) => server.stop('SIGKILL')));
  });
  return async (env = {}) => {
    const server = await startServerProcess({ env: { ...baseEnv, ...env } });
    running.push(server);
    return server;
  };
}

/**
 * Waits until a log line matches (the server buffers its log and flushes it at least every
 * second); resolves with the matching lines.
 */
export async function waitForLogs(
  server: ServerProcess,
  match: (line: Record<string, unknown>) => boolean,
  minCount = 1,
  timeoutMs = 5000,
): Promise<Array<Record<string, unknown>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = server.logs.filter(match);
    if (lines.length >= minCount || Date.now() > deadline) return lines;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Runs the built CLI once; resolves with its exit code and output. */
export async function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  ensureServerBuilt();
  const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  return { code, stdout, stderr };
}
