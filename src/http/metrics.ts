/**
 * The app's Prometheus metrics (issue #15, docs/operations.md "Metrics"), on a registry of its own
 * (never prom-client's global one), so that two apps in one process, and the tests, do not share
 * counters. The hooks it hands out are plain callbacks: the storage decorator's observer
 * (storage/measured.ts), the service's observer (service/observer.ts), the event hub's delivery
 * callback, and what the request frame and the pet calls count. Process default metrics (CPU,
 * memory, event-loop lag, GC) describe the process, not an app: they are collected once per process,
 * from the first app built, on a registry of their own, and appended to every app's exposition
 * (one event-loop monitor and one GC observer however many apps are built).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ServiceObserver } from '../service/index.js';
import type { StorageObserver } from '../storage/index.js';

/** Methods that get their own label value; anything else is `OTHER` (a client picks the method). */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Route label of a request that matched no route (404, 405). */
export const UNMATCHED_ROUTE = 'unmatched';

export interface AppMetrics {
  readonly registry: Registry;
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
  /** The Prometheus text exposition. */
  text(): Promise<string>;
  readonly contentType: string;
}

/** Latency buckets, seconds: from a memory read (tens of µs) to a slow remote call. */
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STORAGE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

let processRegistry: Registry | null = null;

/** The process's default metrics, started by the first app. */
function processMetrics(): Registry {
  if (processRegistry === null) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export function createAppMetrics(): AppMetrics {
  const registry = new Registry();
  const shared = processMetrics();
  const registers = [registry];
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests, by matched route pattern (unmatched: no route), method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers,
  });
  const storageDuration = new Histogram({
    name: 'pet_life_storage_duration_seconds',
    help: 'Latency of storage round trips, by backend and operation',
    labelNames: ['backend', 'operation'] as const,
    buckets: STORAGE_BUCKETS,
    registers,
  });
  const storageRoundTrips = new Counter({
    name: 'pet_life_storage_round_trips_total',
    help: 'Storage round trips, by backend and operation (failed ones included)',
    labelNames: ['backend', 'operation'] as const,
    registers,
  });
  const storageErrors = new Counter({
    name: 'pet_life_storage_errors_total',
    help: 'Storage round trips that failed (threw), by backend and operation',
    labelNames: ['backend', 'operation'] as const,
    registers,
  });
  const conflicts = new Counter({
    name: 'pet_life_cas_conflicts_total',
    help: 'Compare-and-set saves that found the pet changed by someone else',
    registers,
  });
  const retries = new Counter({
    name: 'pet_life_cas_retries_total',
    help: 'Compare-and-set conflicts followed by another attempt (the others ran out of attempts)',
    registers,
  });
  const eventsWritten = new Counter({
    name: 'pet_life_events_written_total',
    help: 'Events appended to pet event logs by saves',
    registers,
  });
  const eventsDelivered = new Counter({
    name: 'pet_life_events_delivered_total',
    help: 'Events handed to SSE and WebSocket subscribers (one per event per subscriber)',
    registers,
  });
  let subscriberStats: (() => { subscribers: number; pets: number }) | null = null;
  new Gauge({
    name: 'pet_life_event_subscribers',
    help: 'Open SSE streams and WebSockets subscribed to pet events in this process',
    registers,
    collect() {
      this.set(subscriberStats?.().subscribers ?? 0);
    },
  });
  new Gauge({
    name: 'pet_life_event_subscribed_pets',
    help: 'Pets with at least one event subscriber in this process',
    registers,
    collect() {
      this.set(subscriberStats?.().pets ?? 0);
    },
  });
  const rateLimited = new Counter({ name: 'pet_life_rate_limited_total', help: 'Requests answered 429 (rate limited)', registers });
  const replays = new Counter({
    name: 'pet_life_idempotent_replays_total',
    help: 'Requests answered with the stored first answer to their Idempotency-Key',
    registers,
  });
  const readCache = new Counter({
    name: 'pet_life_read_cache_total',
    help: 'Read-cache lookups of reads that could be answered from it, by result (hit, miss)',
    labelNames: ['result'] as const,
    registers,
  });
  const cacheHit = readCache.labels('hit');
  const cacheMiss = readCache.labels('miss');
  // Children by route, method and status, so that a request observes without building a label
  // object or a key (routes are patterns and methods a fixed set: the map stays small).
  type Observer = { observe(seconds: number): void };
  const byRoute = new Map<string, Map<string, Map<number, Observer>>>();
  const requestObserver = (route: string, method: string, status: number): Observer => {
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
    registry,
    contentType: registry.contentType,
    request(route, method, status, seconds) {
      requestObserver(route, KNOWN_METHODS.has(method) ? method : 'OTHER', status).observe(seconds);
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
            duration.observe(seconds);
            trips.inc();
            if (failed) errors.inc();
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
      readCache: (hit) => (hit ? cacheHit : cacheMiss).inc(),
    },
    delivered: () => eventsDelivered.inc(),
    watchSubscribers(stats) {
      subscriberStats = stats;
    },
    async text() {
      const [own, processText] = await Promise.all([registry.metrics(), shared.metrics()]);
      return own.endsWith('\n') || own === '' ? own + processText : `${own}\n${processText}`;
    },
  };
}
