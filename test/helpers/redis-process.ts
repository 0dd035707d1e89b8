/**
 * A throwaway `redis-server` on a free 127.0.0.1 port, without persistence, for benchmarks and
 * fault tests (stop it under load, restart it on the same port). Killed with the test process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface RedisProcess {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Pid of the running server (changes on restart). */
  readonly pid: number;
  /** Stops the server (SIGTERM, SIGKILL after 3 s) and waits for it to exit; restart() may follow. */
  stop(): Promise<void>;
  /** Starts it again on the same port (after stop(), or stops it first). */
  restart(): Promise<void>;
}

export interface StartRedisOptions {
  /** @default process.env.REDIS_SERVER_BIN ?? 'redis-server' */
  binary?: string;
  /** How long to wait for PONG. @default 5000 */
  startTimeoutMs?: number;
}

export async function startRedisServer(options: StartRedisOptions = {}): Promise<RedisProcess> {
  const binary = options.binary ?? process.env['REDIS_SERVER_BIN'] ?? 'redis-server';
  const startTimeoutMs = options.startTimeoutMs ?? 5000;
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'pet-life-redis-'));
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  process.once('exit', () => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const launch = async (): Promise<void> => {
    mkdirSync(dir, { recursive: true });
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    args.push('--dir', dir, '--daemonize', 'no', '--loglevel', 'warning');
    const proc = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const spawnError = new Promise<never>((_, reject) => proc.once('error', reject));
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}: ${stderr}`);
      if (await Promise.race([pingOnce(port), spawnError])) return;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`redis-server did not answer PING on port ${port} within ${startTimeoutMs} ms: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true }); // no persistence: nothing to keep
  };

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid(): number {
      return child?.pid ?? -1;
    },
    stop,
    async restart(): Promise<void> {
      await stop();
      await launch();
    },
  };
}

/** A port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True when a server on `port` answers PING with PONG within 500 ms. */
function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}
