/**
 * The app's Prometheus metrics (docs/operations.md, "Metrics"), on a registry of its own,
 * so that two apps in one process, and the tests, do not share counters. The hooks it hands out
 * are plain callbacks: the storage decorator's observer (storage/measured.ts), the service's
 * observer (service/observer.ts), the event hub's delivery callback, and what the request frame
 * and the pet calls count. The app's own metrics are plain numbers (prometheus-text.ts: a request
 * adds to them without hashing labels or allocating). Process default metrics (CPU,
 * memory, event-loop lag, GC) describe the process, not an app: prom-client collects them once per
 * process, on a registry of their own appended to every app's exposition (one event-loop monitor
 * and one GC observer however many apps are built). prom-client is loaded, and those monitors
 * started, by the first scrape: a process nobody scrapes (a cold serverless function) never loads
 * it or pays for them; GC and event-loop figures cover the time since that first scrape.
 */
import type { Registry } from 'prom-client';
import type { ServiceObserver } from '../service/index.js';
import type { StorageObserver } from '../storage/index.js';
import { TextCounter, TextGauge, TextHistogram, TextRegistry, type HistogramChild } from './prometheus-text.js';

/** Methods that get their own label value; anything else is `OTHER` (a client picks the method). */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Route label of a request that matched no route (404, 405). */
export const UNMATCHED_ROUTE = 'unmatched';

export interface AppMetrics {
  /** One answered request: its route pattern (or UNMATCHED_ROUTE), method, status and duration. */
  request(route: string, method: string, status: number, seconds: number): void;
  /** An answer was the stored first answer to an Idempotency-Key. */
  replayed(): void;
  /** For measureStorage (one backend per app). */
  storageObserver(backend: string): StorageObserver;
  /** For createPetService. */
  readonly service: ServiceObserver;
  /** For createEventHub: one event handed to one subscriber. */
  delivered(): void;
  /** Where the event subscribers stand, read at each scrape. */
  watchSubscribers(stats: () => { subscribers: number; pets: number }): void;
  /** The Prometheus text exposition (the first call loads prom-client for the process metrics). */
  text(): Promise<string>;
  readonly contentType: string;
}

/** Latency buckets, seconds: from a memory read (tens of µs) to a slow remote call. */
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STORAGE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** What prom-client's registries answer as their content type (text format 0.0.4). */
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

let processRegistry: Promise<Registry> | null = null;

/** The process's default metrics, started by the first scrape of any app. */
function processMetrics(): Promise<Registry> {
  if (processRegistry !== null) return processRegistry;
  processRegistry = import('prom-client').then(async ({ Counter, Registry, collectDefaultMetrics }) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    // prom-client counts CPU from when its counters were made; started late, they are given what
    // the process spent before, so that they stay totals since the process started. Reading one
    // brings all three up to now (they are collected together); the rest is added.
    const counted = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values[0]?.value ?? 0;
    const user = await counted('process_cpu_user_seconds_total'); // collects all three
    const now = process.cpuUsage();
    const system = await counted('process_cpu_system_seconds_total');
    for (const [name, value] of [
      ['process_cpu_user_seconds_total', now.user / 1e6 - user],
      ['process_cpu_system_seconds_total', now.system / 1e6 - system],
      ['process_cpu_seconds_total', (now.user + now.system) / 1e6 - user - system],
    ] as const) {
      const counter = registry.getSingleMetric(name);
      if (counter instanceof Counter && value > 0) counter.inc(value);
    }
    return registry;
  });
  // A failed load (the chunk did not load) is tried again by the next scrape.
  processRegistry.catch(() => {
    processRegistry = null;
  });
  return processRegistry;
}

export function createAppMetrics(): AppMetrics {
  const registry = new TextRegistry();
  const httpDuration = new TextHistogram(
    registry,
    'http_request_duration_seconds',
    'Duration of HTTP requests, by matched route pattern (unmatched: no route), method and status',
    ['route', 'method', 'status'],
    HTTP_BUCKETS,
  );
  const storageDuration = new TextHistogram(
    registry,
    'pet_life_storage_duration_seconds',
    'Latency of storage round trips, by backend and operation',
    ['backend', 'operation'],
    STORAGE_BUCKETS,
  );
  const storageRoundTrips = new TextCounter(
    registry,
    'pet_life_storage_round_trips_total',
    'Storage round trips, by backend and operation (failed ones included)',
    ['backend', 'operation'],
  );
  const storageErrors = new TextCounter(
    registry,
    'pet_life_storage_errors_total',
    'Storage round trips that failed (threw), by backend and operation',
    ['backend', 'operation'],
  );
  const conflicts = new TextCounter(
    registry,
    'pet_life_cas_conflicts_total',
    'Compare-and-set saves that found the pet changed by someone else',
  );
  const retries = new TextCounter(
    registry,
    'pet_life_cas_retries_total',
    'Compare-and-set conflicts followed by another attempt (the others ran out of attempts)',
  );
  const eventsWritten = new TextCounter(registry, 'pet_life_events_written_total', 'Events appended to pet event logs by saves');
  const eventsDelivered = new TextCounter(
    registry,
    'pet_life_events_delivered_total',
    'Events handed to SSE and WebSocket subscribers (one per event per subscriber)',
  );
  let subscriberStats: (() => { subscribers: number; pets: number }) | null = null;
  new TextGauge(
    registry,
    'pet_life_event_subscribers',
    'Open SSE streams and WebSockets subscribed to pet events in this process',
    () => subscriberStats?.().subscribers ?? 0,
  );
  new TextGauge(
    registry,
    'pet_life_event_subscribed_pets',
    'Pets with at least one event subscriber in this process',
    () => subscriberStats?.().pets ?? 0,
  );
  const rateLimited = new TextCounter(registry, 'pet_life_rate_limited_total', 'Requests answered 429 (rate limited)');
  const replays = new TextCounter(
    registry,
    'pet_life_idempotent_replays_total',
    'Requests answered with the stored first answer to their Idempotency-Key',
  );
  const readCache = new TextCounter(
    registry,
    'pet_life_read_cache_total',
    'Read-cache lookups of reads that could be answered from it, by result (hit, miss)',
    ['result'],
  );
  const cacheHit = readCache.labels('hit');
  const cacheMiss = readCache.labels('miss');
  // Children by route, method and status, so that a request observes without building a label
  // object or a key (routes are patterns and methods a fixed set: the map stays small).
  const byRoute = new Map<string, Map<string, Map<number, HistogramChild>>>();
  const requestSeries = (route: string, method: string, status: number): HistogramChild => {
    let byMethod = byRoute.get(route);
    if (byMethod === undefined) {
      byMethod = new Map();
      byRoute.set(route, byMethod);
    }
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) {
      byStatus = new Map();
      byMethod.set(method, byStatus);
    }
    let child = byStatus.get(status);
    if (child === undefined) {
      child = httpDuration.labels(route, method, String(status));
      byStatus.set(status, child);
    }
    return child;
  };

  return {
    contentType: CONTENT_TYPE,
    request(route, method, status, seconds) {
      httpDuration.observe(requestSeries(route, KNOWN_METHODS.has(method) ? method : 'OTHER', status), seconds);
      if (status === 429) rateLimited.inc();
    },
    replayed: () => replays.inc(),
    storageObserver(backend) {
      return {
        operation(operation) {
          const duration = storageDuration.labels(backend, operation);
          const trips = storageRoundTrips.labels(backend, operation);
          const errors = storageErrors.labels(backend, operation);
          return (seconds, failed) => {
            storageDuration.observe(duration, seconds);
            storageRoundTrips.add(trips);
            if (failed) storageErrors.add(errors);
          };
        },
        eventsWritten: (count) => eventsWritten.inc(count),
      };
    },
    service: {
      conflict(retrying) {
        conflicts.inc();
        if (retrying) retries.inc();
      },
      readCache: (hit) => readCache.add(hit ? cacheHit : cacheMiss),
    },
    delivered: () => eventsDelivered.inc(),
    watchSubscribers(stats) {
      subscriberStats = stats;
    },
    async text() {
      const processText = await (await processMetrics()).metrics();
      return registry.text() + processText;
    },
  };
}
