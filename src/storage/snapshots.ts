/**
 * Snapshots (docs/design.md §11): the pets a long-running process serves, held in
 * memory exactly as stored (PetRecord with its raw values and version), kept fresh by Redis
 * itself. The Redis TCP driver turns CLIENT TRACKING on (RESP3, NOLOOP) on the one connection
 * every command goes through: Redis remembers which keys this connection read and pushes an
 * invalidation on that same connection when anyone else changes one (or it expires), and
 * `invalidateKey` drops the pet. Bounded: least recently used pets go first once the estimated
 * bytes exceed the budget (SNAPSHOT_CACHE_BYTES).
 *
 * The race between a read's reply and an invalidation: node-redis handles a push as soon as it is
 * parsed, before the continuation of a reply parsed just ahead of it runs. So every command whose
 * reply may fill a snapshot takes a ticket first (`begin`, synchronously before it is sent), and
 * the fill is dropped when any invalidation of that pet (or a forget-everything) came in between:
 * a reply is only installed when nothing could have changed the pet since the command was sent.
 * Dropping is always safe (the next read goes to Redis). Our own writes send us no invalidation
 * (NOLOOP), so a save's ticket (`wrote`) voids every other ticket of the pet still in flight, and
 * installs what the save wrote only when the whole pet is known. Pure: no I/O, no timers.
 */
import { cloneJson, petIdOfKey } from './keys.js';
import type { JsonObject, PetRecord } from './types.js';

/** SNAPSHOT_CACHE_BYTES' default: 32 MiB. */
export const DEFAULT_SNAPSHOT_BYTES = 32 * 1024 * 1024;

/**
 * Estimated bytes one held pet costs: the raw strings (UTF-16, 2 bytes a character) and the parsed
 * objects (about as much again), plus a fixed overhead for the entry, its maps and arrays.
 */
export function snapshotBytesOf(record: PetRecord | null): number {
  let chars = 0;
  for (const value of record?.raw ?? []) chars += value?.length ?? 0;
  return ENTRY_OVERHEAD_BYTES + 4 * chars;
}
const ENTRY_OVERHEAD_BYTES = 256;

/** One command whose reply may fill (or, for our own write, replaces) a pet's snapshot. */
export interface SnapshotTicket {
  /**
   * The reply read the pet as `record` (null: nothing stored): held unless invalidated meanwhile,
   * until `heldUntilMs` at most (the pet's expiry: Redis announces one only once it notices it).
   */
  read(record: PetRecord | null, heldUntilMs?: number): void;
  /**
   * Our own write reached Redis (or may have): every other ticket of the pet is void and its
   * snapshot dropped; `record` (what the pet now is, when fully known) is held unless invalidated meanwhile.
   */
  wrote(record?: PetRecord | null, heldUntilMs?: number): void;
  /** The command failed without writing: nothing is held. */
  abandon(): void;
}

export interface SnapshotStats {
  hits: number;
  misses: number;
  /** Replies held. */
  fills: number;
  /** Replies not held because an invalidation came while they were in flight. */
  raced: number;
  invalidations: number;
  evictions: number;
}

export interface SnapshotStore {
  /**
   * A copy of the pet as stored (null: known to be absent); undefined when none is held (or it is
   * held past its expiry at `nowMs`, Unix ms). Counts a hit or a miss.
   */
  get(petId: string, nowMs: number): PetRecord | null | undefined;
  /** The held record itself (no copy, no LRU touch, not counted): the base of a partial save. */
  peek(petId: string): PetRecord | null | undefined;
  /**
   * The held pet's stored values themselves (frozen; the same array for as long as the same
   * record is held), undefined when none is held, it is known absent, or it is past its expiry
   * at `nowMs`. No copy, not counted: the warm read's freshness check (docs/design.md §15).
   */
  heldValues(petId: string, nowMs: number): readonly (string | null)[] | undefined;
  /** Takes a ticket; call synchronously right before sending the command. */
  begin(petId: string): SnapshotTicket;
  /** Redis says `key` changed (null: forget everything, e.g. a FLUSHDB, a lost connection). */
  invalidateKey(key: string | null): void;
  clear(): void;
  /** Estimated bytes held. */
  readonly bytes: number;
  /** Pets held. */
  readonly size: number;
  stats(): SnapshotStats;
}

interface Entry {
  record: PetRecord | null;
  bytes: number;
  /** Unix ms from which it is no longer used (the pet's expiry); Infinity without one. */
  heldUntilMs: number;
}

/** Tickets in flight for one pet; `generation` moves on every invalidation of the pet. */
interface Flight {
  generation: number;
  open: number;
}

/** A store holding at most `maxBytes` (estimated, snapshotBytesOf) of pets. */
export function createSnapshotStore(maxBytes: number = DEFAULT_SNAPSHOT_BYTES): SnapshotStore {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new RangeError('maxBytes must be a positive integer');
  // A Map iterates in insertion order: re-inserting on a hit keeps the least recently used first.
  const entries = new Map<string, Entry>();
  const flights = new Map<string, Flight>();
  /** Moves on every forget-everything, so that no ticket taken before it fills anything. */
  let epoch = 0;
  let bytes = 0;
  const stats: SnapshotStats = { hits: 0, misses: 0, fills: 0, raced: 0, invalidations: 0, evictions: 0 };

  const drop = (petId: string): void => {
    const entry = entries.get(petId);
    if (entry === undefined) return;
    entries.delete(petId);
    bytes -= entry.bytes;
  };

  const invalidatePet = (petId: string): void => {
    const flight = flights.get(petId);
    if (flight !== undefined) flight.generation += 1;
    drop(petId);
  };

  const hold = (petId: string, record: PetRecord | null, heldUntilMs: number): void => {
    drop(petId);
    const held = record === null ? null : freezeRecord(record);
    const size = snapshotBytesOf(held);
    if (size > maxBytes) return;
    entries.set(petId, { record: held, bytes: size, heldUntilMs });
    bytes += size;
    stats.fills += 1;
    for (const [oldest, entry] of entries) {
      if (bytes <= maxBytes) break;
      entries.delete(oldest);
      bytes -= entry.bytes;
      stats.evictions += 1;
    }
  };

  return {
    get(petId, nowMs) {
      const entry = entries.get(petId);
      if (entry !== undefined && nowMs >= entry.heldUntilMs) drop(petId);
      if (entry === undefined || nowMs >= entry.heldUntilMs) {
        stats.misses += 1;
        return undefined;
      }
      stats.hits += 1;
      entries.delete(petId);
      entries.set(petId, entry);
      return entry.record === null ? null : copyRecord(entry.record);
    },

    peek: (petId) => entries.get(petId)?.record,

    heldValues(petId, nowMs) {
      const entry = entries.get(petId);
      if (entry === undefined || entry.record === null || nowMs >= entry.heldUntilMs) return undefined;
      return entry.record.raw;
    },

    begin(petId) {
      let flight = flights.get(petId);
      if (flight === undefined) {
        flight = { generation: 0, open: 0 };
        flights.set(petId, flight);
      }
      flight.open += 1;
      const taken = { generation: flight.generation, epoch };
      let settled = false;
      /** Closes the ticket; true when nothing invalidated the pet since it was taken. */
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        const current = flights.get(petId);
        const fresh = current !== undefined && current.generation === taken.generation && epoch === taken.epoch;
        if (current !== undefined) {
          current.open -= 1;
          if (current.open === 0) flights.delete(petId);
        }
        return fresh;
      };
      return {
        read(record, heldUntilMs = Number.POSITIVE_INFINITY) {
          if (settle()) hold(petId, withoutExtras(record), heldUntilMs);
          else stats.raced += 1;
        },
        wrote(record, heldUntilMs = Number.POSITIVE_INFINITY) {
          const fresh = settle();
          invalidatePet(petId);
          if (fresh && record !== undefined) hold(petId, withoutExtras(record), heldUntilMs);
        },
        abandon() {
          settle();
        },
      };
    },

    invalidateKey(key) {
      stats.invalidations += 1;
      if (key === null) {
        epoch += 1;
        for (const flight of flights.values()) flight.generation += 1;
        entries.clear();
        bytes = 0;
        return;
      }
      const petId = petIdOfKey(key);
      if (petId !== null) invalidatePet(petId);
    },

    clear() {
      epoch += 1;
      for (const flight of flights.values()) flight.generation += 1;
      entries.clear();
      bytes = 0;
    },

    get bytes() {
      return bytes;
    },
    get size() {
      return entries.size;
    },
    stats: () => ({ ...stats }),
  };
}

/** The pet without the extra records a load may have read alongside (those are never held). */
function withoutExtras(record: PetRecord | null): PetRecord | null {
  if (record === null || Object.keys(record.extras).length === 0) return record;
  return { ...record, extras: {} };
}

/**
 * Held records are copies (the caller keeps the one it was given, free to change it), frozen: a
 * bug that changes one throws instead of changing what later reads see.
 */
function freezeRecord(record: PetRecord): PetRecord {
  return deepFreeze({ ...copyRecord(record), raw: [...record.raw] });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/** A copy the caller may change (the service hydrates and edits what it loads). */
function copyRecord(record: PetRecord): PetRecord {
  const systems: PetRecord['systems'] = {};
  for (const [name, state] of Object.entries(record.systems) as [keyof PetRecord['systems'], JsonObject][]) {
    systems[name] = cloneJson(state);
  }
  return { version: record.version, meta: record.meta === null ? null : cloneJson(record.meta), systems, extras: {}, raw: record.raw };
}
