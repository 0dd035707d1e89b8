/**
 * Node entry: config → logger → storage → app → serve on HOST:PORT, with graceful shutdown on
 * SIGTERM/SIGINT (stop accepting, let requests in flight finish, flush the log, close storage).
 * Every request has already saved before it answered, so there is no state to flush.
 * `node dist/src/main.js` runs it; `pet-life serve` (src/cli) calls startServer too.
 */
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { loadConfig, type Config } from './config.js';
import { ConfigError } from './errors.js';
import type { Server } from 'node:http';
import { answerClientError, createApp, createServerWithWarmState, realtimeOf, warmStateOf } from './http/index.js';
import { attachEventSockets } from './http/websocket.js';
import { createLogger, type Logger } from './log.js';
import { guardProcess } from './http/process-guard.js';
import { systemClock } from './service/index.js';
import { createConfiguredStorage } from './configured-storage.js';
import type { StorageDriver } from './storage/index.js';

export interface RunningServer {
  /** `http://host:port` actually bound (PORT=0 picks a free port). */
  url: string;
  storage: StorageDriver;
  /** Stops accepting, waits for requests in flight (up to the shutdown timeout), closes storage. */
  close(): Promise<void>;
}

export { createConfiguredStorage } from './configured-storage.js';

/** Starts the HTTP server; resolves once it listens. */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const storage = await createConfiguredStorage(config, log);
  const app = createApp({ config, storage, clock: systemClock, log });
  const server: ServerType = await new Promise((resolve) => {
    const { headersMs, requestMs, keepAliveMs } = config.serverTimeouts;
    const started = serve(
      {
        fetch: app.fetch,
        // A warm GET state is answered before the app (http/warm-state.ts, docs/design.md §15).
        createServer: createServerWithWarmState(warmStateOf(app)),
        port: config.port,
        hostname: config.host,
        serverOptions: {
          headersTimeout: headersMs,
          requestTimeout: requestMs,
          keepAliveTimeout: keepAliveMs,
          // Node checks both timeouts on this beat (30 s by default): a half-sent request would
          // otherwise live up to a whole beat past its limit.
          connectionsCheckingInterval: Math.min(1_000, headersMs),
        },
      },
      () => resolve(started),
    );
  });
  // Requests Node's parser refuses get a JSON error too, instead of a bare 400/431.
  server.on('clientError', answerClientError);
  // docs/design.md §9: /api/pet/{id}/ws on this server (the SSE route works everywhere, Vercel included).
  const realtime = realtimeOf(app);
  const closeSockets = attachEventSockets(server as Server, realtime, log, { faultThrowInListeners: config.faultThrowInListeners });
  // docs/design.md §13: every instance works through the due schedule (SCHEDULER).
  await realtime.scheduler?.start();
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  log.info({ url, time_scale: config.timeScale }, `pet-life listening on ${url}`);
  log.flush(); // the start-up lines go out now, whatever the log buffering

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const started = performance.now();
      // Event streams never finish by themselves: end them (SSE with `event: reconnect`).
      closeSockets();
      await realtime.scheduler?.stop();
      await realtime.hub.close();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          log.warn({ timeout_ms: config.shutdownTimeoutMs }, 'shutdown: closing connections still open');
          if ('closeAllConnections' in server) server.closeAllConnections();
        }, config.shutdownTimeoutMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        // Keep-alive connections with no request in flight would hold close() open.
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      });
      await storage.close();
      log.info({ duration_ms: Math.round(performance.now() - started) }, 'shutdown complete');
      log.flush();
    })();
    return closing;
  };
  return { url, storage, close };
}

/** Runs the server until SIGTERM or SIGINT; a second signal exits at once. */
export async function runMain(env: Record<string, string | undefined> = process.env): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`pet-life: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  // Buffered: one write for many request lines, flushed at least every second, on shutdown,
  // and (by pino, synchronously) at exit.
  const log = createLogger({ level: config.logLevel, sync: false });
  setInterval(() => log.flush(), 1000).unref();
  guardProcess(log);
  const running = await startServer(config, log);

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn({ signal }, 'second signal: exiting now');
      log.flush();
      process.exit(1);
    }
    signalled = true;
    log.info({ signal }, 'shutting down: no new connections, finishing requests in flight');
    log.flush();
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        log.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  await runMain();
}
