/** The memory driver's inspector: the pets of its key space, and every live key of one pet with its size and time to live. */
import { PLAIN_LAYOUT, petKeys } from '../keys.js';
import type { MemoryStore } from '../memory.js';
import type { StorageInspector, StoredKey } from '../types.js';

type Entry = MemoryStore extends Map<string, infer V> ? V : never;

export interface MemoryInspectorContext {
  data: MemoryStore;
  /** The entry of a key unless it has expired. */
  live(key: string): Entry | undefined;
  now(): number;
  /** Counts (and, when the driver simulates latency, waits) one round trip. */
  trip(): Promise<void>;
}

export function createMemoryInspector({ data, live, now, trip }: MemoryInspectorContext): StorageInspector {
  return {
    async listPets(listOptions = {}): Promise<string[]> {
      await trip();
      const ids = [...data.keys()]
        .filter((key) => live(key) !== undefined)
        .map((key) => PLAIN_LAYOUT.petIdOfMeta(key))
        .filter((id) => id !== null)
        .sort();
      return ids.slice(0, listOptions.limit ?? 100);
    },
    async describePet(petId: string): Promise<StoredKey[]> {
      const prefix = petKeys(petId).pattern.slice(0, -1);
      await trip();
      return [...data.keys()]
        .filter((key) => key.startsWith(prefix))
        .sort()
        .flatMap((key): StoredKey[] => {
          const entry = live(key);
          if (!entry) return [];
          const ttlMs = entry.expiresAt === null ? null : entry.expiresAt - now();
          if (entry.log) {
            const bytes = entry.log.entries.reduce((sum, [id, json]) => sum + id.length + Buffer.byteLength(json), 0);
            return [{ key, type: 'stream', bytes, ttlMs, entries: entry.log.entries.length }];
          }
          return [{ key, type: 'string', bytes: Buffer.byteLength(entry.value), ttlMs }];
        });
    },
  };
}
