// The hooks the service reports measurements through (the HTTP layer's /metrics fills them).
/**
 * What the service reports to whoever measures it (the HTTP layer's /metrics, docs/operations.md "Metrics"), as
 * plain callbacks: the service does not know Prometheus. Every hook is optional to the service
 * (NO_OBSERVER does nothing).
 */

export interface ServiceObserver {
  /** A compare-and-set save found the pet changed by someone else; `retrying`: another attempt follows. */
  conflict(retrying: boolean): void;
  /** A read that could be answered from the read cache was (`hit`) or was not. */
  readCache(hit: boolean): void;
}

/** Observes nothing. */
export const NO_OBSERVER: ServiceObserver = Object.freeze({
  conflict: () => {},
  readCache: () => {},
});

/**
 * Where one request's time went, filled in as it runs (Server-Timing): `storageMs` is added to by
 * every storage round trip the service makes for the request.
 */
export interface RequestTiming {
  /** Milliseconds spent waiting on storage for this request. */
  storageMs: number;
}
