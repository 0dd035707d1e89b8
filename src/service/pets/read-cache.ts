// Request path: answers of reads kept per pet until the pet changes or a tick passes.
/**
 * Answers of reads, kept per pet for the next read that finds the pet exactly as stored last time
 * and crosses no tick — a widget polling every few seconds sees the same minute many times. The
 * key is the stored bytes themselves (PetRecord.raw), not the version: a pet removed and created
 * again, or rewritten by the Python server (which keeps no version), cannot be mistaken for the
 * one cached. Bounded: the least recently used pet goes first. Values are deep-frozen, so that a
 * shared answer cannot be changed by one of its readers (and the HTTP layer may keep its JSON).
 */

export interface ReadCache {
  /** The value cached for `petId` under `key` when `raw` is what it was cached with. */
  get(petId: string, key: string, raw: readonly (string | null)[]): unknown;
  /** Caches `value` (deep-frozen here) and returns it. */
  set<T>(petId: string, key: string, raw: readonly (string | null)[], value: T): T;
  /** Entries held. */
  readonly size: number;
}

interface Entry {
  raw: readonly (string | null)[];
  value: unknown;
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
      entries.delete(id);
      entries.set(id, entry);
      return entry.value;
    },
    set(petId, key, raw, value) {
      if (maxEntries === 0) return value;
      const id = `${key} ${petId}`;
      entries.delete(id);
      entries.set(id, { raw, value: deepFreeze(value) });
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done !== true) entries.delete(oldest.value);
      }
      return value;
    },
    get size() {
      return entries.size;
    },
  };
}
