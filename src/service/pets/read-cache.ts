// Request path: answers of reads kept per pet until the pet changes or a tick passes.
/**
 * Answers of reads, kept per pet for the next read that finds the pet exactly as stored last time
 * and crosses no tick — a widget polling every few seconds sees the same minute many times. The
 * key is the stored bytes themselves (PetRecord.raw), not the version: a pet removed and created
 * again, or rewritten by the Python server (which keeps no version), cannot be mistaken for the
 * one cached. Bounded: the least recently used pet goes first. Values are deep-frozen, so that a
 * shared answer cannot be changed by one of its readers (and the HTTP layer may keep its JSON).
 */

/**
 * What makes a cached answer servable without loading the pet (the warm read, docs/design.md
 * §15), derived from the stored values it was cached with (so the same for equal values).
 */
export interface WarmFacts {
  /** Wall ms (the service clock) from which a read would cross a tick: the answer is not the same past it. */
  untilMs: number;
  /** The pet is claimed or owned: whether a read is allowed depends on the request. */
  guarded: boolean;
}

/** What `warm` answers. */
export interface WarmEntry {
  value: unknown;
  guarded: boolean;
}

export interface ReadCache {
  /** The value cached for `petId` under `key` when `raw` is what it was cached with. */
  get(petId: string, key: string, raw: readonly (string | null)[]): unknown;
  /** Caches `value` (deep-frozen here) and returns it; with `warm`, `warm()` may serve it. */
  set<T>(petId: string, key: string, raw: readonly (string | null)[], value: T, warm?: WarmFacts): T;
  /**
   * The entry for `petId` under `key` when it was cached (or last found by `get`) with this very
   * array of stored values (identity: a snapshot's frozen values, storage heldValues) and
   * `nowMs` is before its `untilMs`; undefined otherwise (the normal path then runs).
   */
  warm(petId: string, key: string, raw: readonly (string | null)[], nowMs: number): WarmEntry | undefined;
  /** Entries held. */
  readonly size: number;
}

interface Entry {
  raw: readonly (string | null)[];
  value: unknown;
  /** -Infinity: never served by `warm`. */
  untilMs: number;
  guarded: boolean;
}

function sameValues(a: readonly (string | null)[], b: readonly (string | null)[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/** A cache of at most `maxEntries` answers (0: caches nothing). */
export function createReadCache(maxEntries: number): ReadCache {
  if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new RangeError('maxEntries must be an integer ≥ 0');
  // A Map iterates in insertion order: re-inserting on a hit keeps the least recently used first.
  const entries = new Map<string, Entry>();
  return {
    get(petId, key, raw) {
      const id = `${key} ${petId}`;
      const entry = entries.get(id);
      if (entry === undefined) return undefined;
      if (!sameValues(entry.raw, raw)) {
        entries.delete(id);
        return undefined;
      }
      // Equal values: the newest array is the one a held snapshot answers (warm compares identity).
      entry.raw = raw;
      entries.delete(id);
      entries.set(id, entry);
      return entry.value;
    },
    set(petId, key, raw, value, warm) {
      if (maxEntries === 0) return value;
      const id = `${key} ${petId}`;
      entries.delete(id);
      entries.set(id, {
        raw,
        value: deepFreeze(value),
        untilMs: warm?.untilMs ?? Number.NEGATIVE_INFINITY,
        guarded: warm?.guarded ?? true,
      });
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done !== true) entries.delete(oldest.value);
      }
      return value;
    },
    warm(petId, key, raw, nowMs) {
      const id = `${key} ${petId}`;
      const entry = entries.get(id);
      if (entry === undefined || entry.raw !== raw || nowMs >= entry.untilMs) return undefined;
      entries.delete(id);
      entries.set(id, entry);
      return entry;
    },
    get size() {
      return entries.size;
    },
  };
}
