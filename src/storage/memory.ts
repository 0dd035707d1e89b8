/**
 * In-memory driver for tests: the same keys, values, compare-and-set and TTL semantics as the
 * Redis drivers, held in a Map of key → compact JSON string. Every operation yields to the event
 * loop first, so concurrent callers interleave between load and save as they would over a network.
 */
import { createMemoryDueSet } from './due-set/memory.js';
import type { DueSet } from './due-set/types.js';
import { SYSTEM_NAMES } from '../engine/types.js';
import { casArguments, hitKeys, loadCountedArguments } from './cas-script.js';
import {
  assertDistinctPets,
  assertReplaced,
  assertTtlOption,
  assertWindow,
  loadResult,
  saveResult,
  saveTtl,
  type WriteRequest,
  weightOf,
} from './requests.js';
import { KEY_PREFIX, MAX_EXTRAS_PER_PET, PET_ID_PATTERN, corrupt, decodeLoad, globalKey, loadKeyList, petKeys } from './keys.js';
import { EVENT_LOG_MAX, assertEventLogMax, compareEventIds, decodeEvent, encodeEvent, nextEventId, readEventsOptions } from './events.js';
import { createLocalWatchers, type EventsListener } from './local-watchers.js';
import { assertRecordSave, decodeRecord, encodeRecord, recordKey } from './records.js';
import type {
  HitRequest,
  HitResult,
  LoadManyItem,
  LoadManyResult,
  LoadOptions,
  PetEvent,
  PetRecord,
  ReadEventsOptions,
  RecordRef,
  RecordSaveRequest,
  RecordSaveResult,
  ReplaceRequest,
  SaveManyItem,
  SaveManyResult,
  SaveRequest,
  SaveResult,
  StorageDriver,
  StoredKey,
} from './types.js';

export interface MemoryStorageOptions {
  /** Time to live of a pet's keys in ms, refreshed on every save (a save's own ttlMs wins). @default undefined (no TTL) */
  ttlMs?: number;
  /** Clock for expiry (tests pass a fake one). @default Date.now */
  now?: () => number;
  /** The key space; drivers given the same one share their data, like clients of one Redis. @default a new one */
  store?: MemoryStore;
  /** Events kept per pet (exactly). @default EVENT_LOG_MAX (1000) */
  eventLogMax?: number;
}

/** A pet's event log as the memory driver keeps it under `life_<id>:events`: the last id given, and [id, event JSON] entries. */
export interface MemoryEventLog {
  last: string | null;
  entries: [string, string][];
}

/**
 * A memory driver's key space: key → compact JSON value and expiry (Unix ms, null for none);
 * the event log key holds its log in `log` (its value is '').
 */
export type MemoryStore = Map<string, { value: string; expiresAt: number | null; log?: MemoryEventLog }>;

/** The watchers of each key space: drivers sharing a store hear each other's saves, as on one Redis. */
const watchers = new WeakMap<MemoryStore, Set<EventsListener>>();
/** The due set of each key space (drivers sharing a store share their schedule, as on one Redis). */
const dueSets = new WeakMap<MemoryStore, DueSet>();
const dueSetOf = (store: MemoryStore): DueSet => {
  const known = dueSets.get(store) ?? createMemoryDueSet();
  dueSets.set(store, known);
  return known;
};

/** A memory driver with a way to look inside (tests). */
export interface MemoryStorage extends StorageDriver {
  /** Every live key, sorted. */
  keys(): string[];
  /** The raw value of a live key, or null. */
  rawGet(key: string): string | null;
  /** Remaining time to live in ms: -1 without one, -2 when the key is absent (as Redis PTTL). */
  pttl(key: string): number;
  /** Writes a raw value (e.g. state as the Python server left it). */
  rawSet(key: string, value: string, ttlMs?: number): void;
}

export function createMemoryStorage(options: MemoryStorageOptions = {}): MemoryStorage {
  const { ttlMs, now = Date.now, store: data = new Map(), eventLogMax = EVENT_LOG_MAX } = options;
  assertTtlOption(ttlMs);
  assertEventLogMax(eventLogMax);
  let trips = 0;

  type Entry = MemoryStore extends Map<string, infer V> ? V : never;
  const live = (key: string): Entry | undefined => {
    const entry = data.get(key);
    if (entry && entry.expiresAt !== null && entry.expiresAt <= now()) {
      data.delete(key);
      return undefined;
    }
    return entry;
  };
  const set = (key: string, value: string, px?: number): void => {
    data.set(key, { value, expiresAt: px === undefined ? null : now() + px });
  };
  /** HIT_SCRIPT's step: counts a hit on `key` (validated) in a window of `windowMs`. */
  const count = (key: string, windowMs: number, weight = 1): HitResult => {
    const entry = live(key);
    const hits = entry ? Number(entry.value) + weight : weight;
    const expiresAt = entry?.expiresAt ?? now() + windowMs;
    data.set(key, { value: String(hits), expiresAt });
    return { count: hits, resetInMs: Math.max(0, expiresAt - now()) };
  };
  /** One simulated round trip: count it and yield, so callers interleave. */
  const trip = async (): Promise<void> => {
    trips += 1;
    await new Promise<void>((resolve) => setImmediate(resolve));
  };

  /** A save or a replace, mirroring CAS_SCRIPT step by step; nothing awaits in between, so it is atomic here. */
  const write = async (petId: string, request: WriteRequest): Promise<SaveResult> => {
    const { keys, args } = casArguments(petId, request, ttlMs, now());
    await trip();
    return writeNow(petId, request, keys, args);
  };

  /** The body of a save or replace after its round trip: synchronous, so atomic here. */
  const writeNow = (petId: string, request: WriteRequest, keys: readonly string[], args: readonly string[]): SaveResult => {
    const replace = request.expectedVersion === 'any';
    const pttl = saveTtl(request, ttlMs);
    const metaKey = keys[0] as string;
    const rawMeta = live(metaKey)?.value;
    if (!replace) {
      const current = rawMeta === undefined ? 0 : storedVersion(petId, rawMeta);
      if (current !== request.expectedVersion) return { ok: false, version: current };
    }
    const persist = pttl === undefined && (rawMeta === undefined || live(metaKey)?.expiresAt !== null);
    let written = 1;
    SYSTEM_NAMES.forEach((_, index) => {
      const key = keys[index + 1] as string;
      const value = args[index + 4] as string;
      if (value !== '') {
        set(key, value, pttl);
        written += 1;
      } else if (replace) {
        data.delete(key);
      } else {
        const entry = live(key);
        if (entry && pttl !== undefined) entry.expiresAt = now() + pttl;
        else if (entry && persist) entry.expiresAt = null;
      }
    });
    set(metaKey, args[2] as string, pttl);
    // The event log, as XADD in CAS_SCRIPT: ids from the clock, strictly increasing; trimmed exactly.
    const logKey = keys[2 + SYSTEM_NAMES.length] as string;
    const events = request.events ?? [];
    const eventIds: string[] = [];
    let logEntry = live(logKey);
    if (events.length > 0) {
      let log = logEntry?.log;
      if (logEntry === undefined || log === undefined) {
        log = { last: null, entries: [] };
        logEntry = { value: '', expiresAt: null, log };
        data.set(logKey, logEntry);
      }
      for (const event of events) {
        const id = nextEventId(log.last, now());
        log.last = id;
        log.entries.push([id, encodeEvent(event)]);
        eventIds.push(id);
      }
      if (log.entries.length > eventLogMax) log.entries.splice(0, log.entries.length - eventLogMax);
    }
    if (logEntry && pttl !== undefined) logEntry.expiresAt = now() + pttl;
    else if (logEntry && persist) logEntry.expiresAt = null;
    const extras = request.extras ?? [];
    if (extras.length > 0) {
      // The index as CAS_SCRIPT keeps it (a sorted set there): extra key → expiry, Unix ms.
      const indexKey = keys[1 + SYSTEM_NAMES.length] as string;
      const t = now();
      const index = new Map<string, number>(Object.entries(JSON.parse(live(indexKey)?.value ?? '{}') as Record<string, number>));
      extras.forEach((extra, position) => {
        const key = keys[3 + SYSTEM_NAMES.length + position] as string;
        set(key, extra.value, extra.ttlMs);
        index.set(key, t + extra.ttlMs);
        written += 1;
      });
      const byExpiry = [...index].filter(([, expiresAt]) => expiresAt > t).sort((a, b) => a[1] - b[1]);
      for (const [key] of byExpiry.splice(0, Math.max(0, byExpiry.length - MAX_EXTRAS_PER_PET))) data.delete(key);
      const last = byExpiry.at(-1)?.[1] ?? t + 1;
      set(indexKey, JSON.stringify(Object.fromEntries(byExpiry)), Math.max(1, last - t));
    }
    if (eventIds.length > 0) announce(petId);
    return { ok: true, version: request.meta.version, keys: written, eventIds };
  };

  const localWatchers = createLocalWatchers(watchers, data);
  /** Tells the store's watchers (after this save has returned). */
  const announce = (petId: string): void => localWatchers.announce(petId);

  return {
    name: 'MemoryStorage',
    target: 'memory',

    async load(petId: string, loadOptions: LoadOptions = {}): Promise<PetRecord | null> {
      const extras = loadOptions.extras ?? [];
      const keys = loadKeyList(petId, extras);
      await trip();
      return decodeLoad(
        petId,
        keys.map((key) => live(key)?.value ?? null),
        extras,
      );
    },

    async loadCounted(
      petId: string,
      loadOptions: LoadOptions & { hits: readonly HitRequest[] },
    ): Promise<{ record: PetRecord | null; hits: HitResult[] }> {
      const call = loadCountedArguments(petId, loadOptions);
      await trip();
      // Mirrors LOAD_COUNTED_SCRIPT: every hit in order, then every pet key (atomic: no await).
      const hits = loadOptions.hits.map((request, index) => count(call.keys[index] as string, request.windowMs, weightOf(request)));
      const values = call.keys.slice(call.hits).map((key) => live(key)?.value ?? null);
      return { record: decodeLoad(petId, values, call.extras), hits };
    },

    async loadMany(
      items: readonly LoadManyItem[],
      manyOptions: { hits?: readonly HitRequest[] } = {},
    ): Promise<{ records: LoadManyResult[]; hits: HitResult[] }> {
      const hitRequests = manyOptions.hits ?? [];
      const counters = hitKeys(hitRequests);
      const keyLists = items.map((item) => loadKeyList(item.petId, item.extras ?? []));
      await trip();
      // One simulated round trip: the hits in order, then every pet (atomic here: no await).
      const hits = hitRequests.map((request, index) => count(counters[index] as string, request.windowMs, weightOf(request)));
      const records = items.map((item, index) =>
        loadResult(() =>
          decodeLoad(
            item.petId,
            (keyLists[index] as string[]).map((key) => live(key)?.value ?? null),
            item.extras ?? [],
          ),
        ),
      );
      return { records, hits };
    },

    save: (petId: string, request: SaveRequest): Promise<SaveResult> => write(petId, request),

    async saveMany(items: readonly SaveManyItem[]): Promise<SaveManyResult[]> {
      assertDistinctPets(items);
      const calls = items.map((item) => casArguments(item.petId, item.request, ttlMs, now()));
      await trip();
      return items.map((item, index) => {
        const call = calls[index] as { keys: string[]; args: string[] };
        return saveResult(() => writeNow(item.petId, item.request, call.keys, call.args));
      });
    },

    async replace(petId: string, request: ReplaceRequest): Promise<SaveResult & { ok: true }> {
      return assertReplaced(await write(petId, { ...request, expectedVersion: 'any' }));
    },

    async remove(petId: string): Promise<void> {
      const prefix = petKeys(petId).pattern.slice(0, -1);
      await trip();
      for (const key of [...data.keys()]) if (key.startsWith(prefix)) data.delete(key);
    },

    async readEvents(petId: string, readOptions?: ReadEventsOptions): Promise<PetEvent[]> {
      const key = petKeys(petId).events;
      const { after, limit } = readEventsOptions(readOptions);
      await trip();
      const entries = live(key)?.log?.entries ?? [];
      const events: PetEvent[] = [];
      for (const [id, raw] of entries) {
        if (events.length >= limit) break;
        if (after !== null && compareEventIds(id, after) <= 0) continue;
        const event = decodeEvent(id, petId, raw);
        if (event !== null) events.push(event);
      }
      return events;
    },

    watch: (onEvents: (petId: string) => void): Promise<() => Promise<void>> => localWatchers.watch(onEvents),

    async loadRecords(refs: readonly RecordRef[]) {
      const keys = refs.map((ref) => recordKey(ref));
      await trip();
      return keys.map((key) => decodeRecord(key, live(key)?.value));
    },

    async saveRecord(ref: RecordRef, request: RecordSaveRequest): Promise<RecordSaveResult> {
      const key = recordKey(ref);
      assertRecordSave(request);
      await trip();
      // As RECORD_SAVE_SCRIPT: nothing awaits between the read and the write.
      const current = decodeRecord(key, live(key)?.value)?.version ?? 0;
      if (current !== request.expectedVersion) return { ok: false, version: current };
      set(key, encodeRecord(current + 1, request.value), request.ttlMs ?? undefined);
      return { ok: true, version: current + 1 };
    },

    async takeRecord(ref: RecordRef) {
      const key = recordKey(ref);
      await trip();
      const raw = live(key)?.value;
      data.delete(key);
      return decodeRecord(key, raw);
    },

    async hit(purpose: string, subject: string, windowMs: number): Promise<HitResult> {
      const key = globalKey(purpose, subject);
      assertWindow(windowMs);
      await trip();
      return count(key, windowMs);
    },

    async ping(): Promise<void> {
      await trip();
    },

    dueSet: dueSetOf(data),

    inspector: {
      async listPets(listOptions = {}): Promise<string[]> {
        await trip();
        const ids = [...data.keys()]
          .filter((key) => key.startsWith(KEY_PREFIX) && key.endsWith(':meta') && live(key))
          .map((key) => key.slice(KEY_PREFIX.length, -':meta'.length))
          .filter((id) => PET_ID_PATTERN.test(id))
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
    },

    roundTrips: () => trips,

    async close(): Promise<void> {
      localWatchers.close();
    },

    keys: () => [...data.keys()].filter((key) => key.startsWith(KEY_PREFIX) && live(key)).sort(),
    rawGet: (key) => live(key)?.value ?? null,
    pttl(key) {
      const entry = live(key);
      if (!entry) return -2;
      return entry.expiresAt === null ? -1 : entry.expiresAt - now();
    },
    rawSet: (key, value, px) => set(key, value, px),
  };
}

/** CAS_SCRIPT's reading of a stored meta: its numeric version, else CORRUPT (as a CorruptStateError). */
function storedVersion(petId: string, rawMeta: string): number {
  let meta: unknown;
  try {
    meta = JSON.parse(rawMeta);
  } catch {
    meta = null;
  }
  if (typeof meta === 'object' && meta !== null && 'version' in meta && typeof meta.version === 'number') return meta.version;
  throw corrupt(petId, `${KEY_PREFIX}${petId}:meta has no numeric version`, rawMeta);
}
