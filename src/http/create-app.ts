/**
 * createApp(deps) → the Hono app: middleware (the request frame: request id, security headers,
 * CORS and the log line; the body limit), the routes, and the two exits: notFound (404, or 405
 * with Allow when the path exists for other methods) and onError. The pet
 * service it builds carries the access guards (docs/reliability.md: admin token, READS_REQUIRE_AUTH, rate
 * limits); the routes hand it each request's Bearer secret, address and Idempotency-Key. No env reads and no listen() here:
 * src/main.ts serves it on Node, src/server.ts hands it to Vercel, tests call app.request().
 */
import { LIMIT_DEFAULTS } from '../rules.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { Config } from '../config.js';
import { MethodNotAllowedError, NotFoundError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  createAccessPolicy,
  createEventHub,
  createOwners,
  createPetService,
  createSocial,
  createStreamGate,
  createStreamSlots,
  type Clock,
  type EventHub,
  type Owners,
  type PetService,
  type StreamGate,
  type StreamSlots,
} from '../service/index.js';
import { measureStorage, type StorageDriver } from '../storage/index.js';
import { allowedMethodsOf } from './allowed-methods.js';
import type { AppEnv } from './env.js';
import { answerError, errorResponse, toWireError } from './errors.js';
import { createAppMetrics, type AppMetrics } from './metrics.js';
import { DocumentedHono } from './openapi.js';
import { findProjectRoot } from './project-root.js';
import { frameHeaders, requestFrame, type FrameOptions } from './request-frame.js';
import { BATCH_BODY_FACTOR, BATCH_PATH, registerBatchRoutes } from './routes/batch.js';
import { markCompatRoutes, registerCompatRoutes } from './routes/compat.js';
import { registerEventRoutes } from './routes/events.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { createCronAuth } from '../service/notify/cron-auth.js';
import type { Scheduler } from '../service/notify/scheduler.js';
import { createNotifyFor } from './notify-setup.js';
import { enrollNewlyOwnedPets, registerNotifyRoutes } from './routes/notify.js';
import { registerOwnerRoutes } from './routes/owners.js';
import { registerPetRoutes } from './routes/pet.js';
import { registerSocialRoutes } from './routes/social.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerWebRoutes } from './routes/web.js';
import { createWarmState, type WarmState } from './warm-state.js';

export type AppConfig = Pick<
  Config,
  | 'timeScale'
  | 'petName'
  | 'petTimezone'
  | 'corsOrigins'
  | 'bodyLimitBytes'
  | 'adminToken'
  | 'readsRequireAuth'
  | 'rateLimits'
  | 'trustProxy'
  | 'readCacheSize'
  | 'petQueueDepth'
  | 'newbornTtlDays'
  | 'petTtlDays'
> &
  Partial<Pick<Config, 'maxPetsPerOwner' | 'maxOwnersPerPet' | 'faultPauseAfterFirstWriteMs'>> &
  Partial<Pick<Config, 'events' | 'onVercel' | 'metricsToken' | 'notify' | 'timeScale'>>;

export interface AppDeps {
  config: AppConfig;
  storage: StorageDriver;
  clock: Clock;
  log: Logger;
  /** Folder of the built web page. @default <project root>/dist/web */
  webRoot?: string;
  /** The service to serve; built from config and storage when absent. */
  service?: PetService;
}

export type App = DocumentedHono<AppEnv>;

/** What the Node server's WebSocket route (websocket.ts) shares with the app it serves. */
export interface Realtime {
  /** The schedule's worker to start with the server (SCHEDULER); null: off. */
  scheduler: Scheduler | null;
  service: PetService;
  /** Finds the owner an owner secret proves (docs/design.md §8). */
  owners: Pick<Owners, 'resolve'>;
  hub: EventHub;
  /** Counts opening a stream and each socket message in the rate limits (docs/design.md §14). */
  gate: StreamGate;
  /** Streams per client address (docs/design.md §9). */
  slots: StreamSlots;
  trustProxy: boolean;
  countsClients: boolean;
  heartbeatMs: number;
}

const realtimes = new WeakMap<App, Realtime>();
const appMetrics = new WeakMap<App, AppMetrics>();
const warmStates = new WeakMap<App, WarmState>();

/**
 * The app's shortest path for the Node server (warm-state.ts): tried before the app for each
 * request; it answers a warm GET state itself or resolves false.
 */
export function warmStateOf(app: App): WarmState {
  const warm = warmStates.get(app);
  if (warm === undefined) throw new Error('not an app made by createApp');
  return warm;
}

/** The app's metrics (its own Prometheus registry, served at /metrics). */
export function metricsOf(app: App): AppMetrics {
  const metrics = appMetrics.get(app);
  if (metrics === undefined) throw new Error('not an app made by createApp');
  return metrics;
}

/** The app's service and event hub (one per app, so one per process). */
export function realtimeOf(app: App): Realtime {
  const realtime = realtimes.get(app);
  if (realtime === undefined) throw new Error('not an app made by createApp');
  return realtime;
}

function packageVersion(root: string): string {
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    if (parsed && typeof parsed === 'object' && 'version' in parsed && typeof parsed.version === 'string') return parsed.version;
  } catch {
    // fall through: the version is only shown in /openapi.json
  }
  return '0.0.0';
}

/** Builds the HTTP app over a storage driver. */
export function createApp(deps: AppDeps): App {
  const { config, clock, log } = deps;
  const metrics = createAppMetrics();
  // Every round trip of this app (service, event hub, readiness) is measured, once.
  const storage = measureStorage(deps.storage, metrics.storageObserver(deps.storage.name));
  // Hoisted so that the stream gate checks access as the service does (docs/design.md §9).
  const accessPolicy = createAccessPolicy({ adminToken: config.adminToken, readsRequireAuth: config.readsRequireAuth });
  const rateLimitPolicy = {
    perPet: config.rateLimits.perPet,
    perClient: config.rateLimits.perClient,
    windowMs: config.rateLimits.windowSeconds * 1000,
  };
  const owners = createOwners({ storage, clock, maxPetsPerOwner: config.maxPetsPerOwner ?? LIMIT_DEFAULTS.maxPetsPerOwner });
  const service =
    deps.service ??
    createPetService({
      storage,
      clock,
      timeScale: config.timeScale,
      defaultPetName: config.petName,
      defaultTimezone: config.petTimezone,
      access: accessPolicy,
      rateLimits: rateLimitPolicy,
      readCacheSize: config.readCacheSize,
      queueDepth: config.petQueueDepth,
      // Never longer than PET_TTL_DAYS, which bounds every pet.
      newbornTtlMs: Math.min(config.newbornTtlDays, config.petTtlDays ?? Number.POSITIVE_INFINITY) * 86_400_000,
      observer: metrics.service,
      owners,
      ...faultPoint(config.faultPauseAfterFirstWriteMs ?? 0, log),
    });
  const root = findProjectRoot();

  const app = new DocumentedHono<AppEnv>();

  const frameOptions: FrameOptions = {
    clock,
    log,
    backend: storage.name,
    cors: {
      origins: config.corsOrigins,
      allowMethods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'Authorization', 'Idempotency-Key', 'Accept-Language', 'If-None-Match'],
      exposeHeaders: ['X-Request-Id', 'Idempotent-Replayed', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'WWW-Authenticate', 'ETag'],
      maxAgeS: 600,
    },
    metrics,
  };
  app.use('*', requestFrame(frameOptions));
  warmStates.set(app, createWarmState({ service, frame: frameHeaders(frameOptions) }));
  markCompatRoutes(app);
  // A batch carries up to 100 operations: it may be BATCH_BODY_FACTOR times the limit of one request.
  const limitOf = (path: string) => (path === BATCH_PATH ? config.bodyLimitBytes * BATCH_BODY_FACTOR : config.bodyLimitBytes);
  const tooLarge = (limit: number) => new HTTPException(413, { message: `the request body must be at most ${limit} bytes` });
  const streamedBodyLimit = (limit: number) =>
    bodyLimit({
      maxSize: limit,
      onError: () => {
        throw tooLarge(limit);
      },
    });
  const limitStreamedBody = streamedBodyLimit(config.bodyLimitBytes);
  const limitStreamedBatch = streamedBodyLimit(limitOf(BATCH_PATH));
  // A declared Content-Length is enforced by Node's parser, so checking the header is enough and
  // leaves the body to @hono/node-server's direct read. Only a chunked body goes through
  // hono/body-limit, which counts while reading but makes the adapter build a full Request
  // (a visible share of a POST's CPU in the benchmark). GET and HEAD carry no body.
  app.use('/api/*', (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const limit = limitOf(c.req.path);
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(declared) > limit) throw tooLarge(limit);
      return next();
    }
    return (c.req.path === BATCH_PATH ? limitStreamedBatch : limitStreamedBody)(c, next);
  });

  registerSystemRoutes(app, { storage, clock, log, version: packageVersion(root) });
  registerMetricsRoute(app, { metrics, token: config.metricsToken ?? null });
  const social = createSocial({
    service,
    owners,
    storage,
    clock,
    access: accessPolicy,
    maxOwnersPerPet: config.maxOwnersPerPet ?? LIMIT_DEFAULTS.maxOwnersPerPet,
  });
  const petCall = { service, trustProxy: config.trustProxy, countsClients: config.rateLimits.perClient > 0, metrics, owners };
  const notify = createNotifyFor(config, { storage, service, owners, clock, log });
  enrollNewlyOwnedPets(app, notify);
  registerPetRoutes(app, { ...petCall, social });
  registerBatchRoutes(app, { ...petCall, log });
  registerCompatRoutes(app, petCall);
  const gate = createStreamGate({ service, storage, access: accessPolicy, rateLimits: rateLimitPolicy });
  registerOwnerRoutes(app, { ...petCall, social, gate });
  registerSocialRoutes(app, { ...petCall, social, gate });
  registerNotifyRoutes(app, {
    owners,
    notify,
    cronAuth: createCronAuth({ cronSecret: config.notify?.cronSecret ?? null, qstash: config.notify?.qstash ?? null }),
    cronBudgetMs: Math.max(5, (config.events?.vercelMaxDurationS ?? 60) - 10) * 1000,
  });
  const events = config.events ?? LIMIT_DEFAULTS.events;
  const hub = createEventHub({
    storage,
    service,
    clock,
    log,
    limits: { maxSubscribers: events.maxSubscribers, maxPerPet: events.maxPerPet },
    onDelivered: metrics.delivered,
  });
  metrics.watchSubscribers(hub.stats);
  appMetrics.set(app, metrics);
  const slots = createStreamSlots();
  // What the event routes and the WebSocket (through `realtimes`) both need.
  const streams = {
    service,
    owners,
    hub,
    gate,
    slots,
    trustProxy: config.trustProxy,
    countsClients: petCall.countsClients,
    heartbeatMs: events.heartbeatMs,
  };
  registerEventRoutes(app, {
    ...streams,
    maxStreamMs: config.onVercel ? Math.max(1, events.vercelMaxDurationS - 5) * 1000 : null,
  });
  realtimes.set(app, { ...streams, scheduler: config.notify?.scheduler === true ? notify.scheduler : null });
  registerWebRoutes(app, deps.webRoot ?? join(root, 'dist', 'web'));

  const allowedMethods = allowedMethodsOf(app);
  app.notFound((c) => {
    const methods = allowedMethods(c.req.path);
    if (methods.length > 0 && !methods.includes(c.req.method)) {
      const message = `${c.req.method} is not allowed here; use ${methods.join(', ')}`;
      return answerError(c, new MethodNotAllowedError(message, methods));
    }
    return answerError(c, new NotFoundError(`no route for ${c.req.method} ${c.req.path}`));
  });

  app.onError((error, c) => {
    const wire = toWireError(error);
    if (wire.status >= 500) {
      // The stack stays here; the client gets the code and a safe message.
      log.error(
        { err: error, code: wire.code, path: c.req.path, device: c.get('device') ?? null, request_id: c.get('requestId') ?? null },
        'request failed',
      );
    }
    return errorResponse(c, wire);
  });

  return app;
}

/**
 * FAULT_PAUSE_AFTER_FIRST_WRITE_MS (tests only, off by default): after the first of the two
 * writes of a change between two pets, log and pause, so that a test can kill the process there.
 */
function faultPoint(pauseMs: number, log: Logger): { afterFirstWrite?: (petId: string) => Promise<void> } {
  if (pauseMs <= 0) return {};
  return {
    afterFirstWrite: async (petId) => {
      log.warn({ device: petId, pause_ms: pauseMs }, 'fault: paused after first write');
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    },
  };
}
