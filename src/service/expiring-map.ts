// A bounded map whose entries expire: per-client and per-pet memory between requests.
/**
 * A map whose entries expire at a given instant and whose size is bounded: what the service
 * remembers per client or per pet between requests (docs/design.md §14) must not grow with the number of
 * strangers. When full, expired entries go first, then the oldest inserted.
 */
export interface ExpiringMap<V> {
  /** The live value under `key` at `nowMs`, or undefined. */
  get(key: string, nowMs: number): V | undefined;
  set(key: string, value: V, untilMs: number, nowMs: number): void;
  delete(key: string): void;
  size(): number;
}

export function createExpiringMap<V>(maxEntries: number): ExpiringMap<V> {
  const entries = new Map<string, { value: V; untilMs: number }>();
  return {
    get(key, nowMs) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (entry.untilMs <= nowMs) {
        entries.delete(key);
        return undefined;
      }
      return entry.value;
    },
    set(key, value, untilMs, nowMs) {
      entries.delete(key);
      if (entries.size >= maxEntries) {
        for (const [old, entry] of entries) if (entry.untilMs <= nowMs) entries.delete(old);
        while (entries.size >= maxEntries) {
          const oldest = entries.keys().next();
          if (oldest.done) break;
          entries.delete(oldest.value);
        }
      }
      entries.set(key, { value, untilMs });
    },
    delete(key) {
      entries.delete(key);
    },
    size: () => entries.size,
  };
}
