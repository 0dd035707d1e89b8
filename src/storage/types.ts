/**
 * The storage contract every driver (memory, file, Redis, Upstash REST) fulfils. A pet is read
 * in one round trip and saved in one compare-and-set on its version. Keys: see keys.ts.
 */
import type { SystemName } from '../engine/types.js';
import type { CorruptStateError } from '../errors.js';
import type { DueSet } from './due-set/types.js';

/** A JSON object as stored for one system. */
export type JsonObject = { [key: string]: unknown };

/** `life_<petId>:meta`: everything about a pet that is not the simulation itself. */
export interface PetMeta {
  /** Incremented by every successful save; the compare-and-set token. */
  version: number;
  pet_name: string;
  /** IANA timezone of the pet's external day. */
  timezone: string;
  /** ISO 8601 creation time (wall clock). */
  created_at: string;
  /** The pet's world clock at the last advance, Unix ms (ahead of the wall clock after catch-up). */
  world_ms: number;
  /** The wall clock at the last advance, Unix ms; never moves back. */
  wall_ms: number;
  /** Hash of the claim secret, when the pet has been claimed (docs/reliability.md). */
  claim_hash?: string;
  /**
   * Created by a read and never changed since (docs/design.md §14): saved with the newborn TTL
   * (NEWBORN_TTL_DAYS); the first change removes it and the pet is kept.
   */
  newborn?: boolean;
  /** Owner ids that hold the pet (docs/design.md §8): each owner's secret opens it, as the claim's does. */
  owners?: string[];
  /** The pet's friends (docs/design.md §8), by pet id. */
  friends?: Record<string, FriendLink>;
  /** The last sequence number given to an entry of `outbox` (never reused, even after a reset). */
  outbox_seq?: number;
  /**
   * Changes this pet owes other pets (its half of a visit is saved; the friend's half waits here),
   * in seq order, until the other pet has them (docs/design.md §8: two per-pet writes).
   */
  outbox?: OutboxEntry[];
  /** Per sender pet id: the highest outbox seq of that pet applied here (each entry applies once). */
  inbox?: Record<string, number>;
}

/** One friendship as a pet keeps it; both pets of a pair hold one. */
export interface FriendLink {
  /** ISO 8601 wall clock when they became friends. */
  since: string;
  /** The pair's familiarity after their last visit, [0, 1] (it fades from there: engine visit.ts). */
  familiarity: number;
  /** Wall clock of their last visit, Unix ms; null before the first. */
  visited_ms: number | null;
}

/** A change owed to pet `to`, applied there exactly once (its `seq` against the receiver's inbox). */
export interface OutboxEntry {
  seq: number;
  to: string;
  kind: 'visit' | 'befriend' | 'unfriend';
  /** ISO 8601 wall clock of the change. */
  at: string;
  /** visit: the visit's id, the mood points the friend gets, the pair's familiarity after, the outcome. */
  visit?: { id: string; mood: number; familiarity: number; visited_ms: number; outcome: string };
}

/** What `load` returns for a pet. */
export interface PetRecord {
  /** Version from meta; 0 when the pet has systems but no meta (written by the Python server). */
  version: number;
  meta: PetMeta | null;
  /** Parsed JSON of every system key present. */
  systems: Partial<Record<SystemName, JsonObject>>;
  /** Raw values of the requested extra keys (null when absent or expired). */
  extras: Record<string, string | null>;
  /**
   * The stored values of meta and of every system, in SYSTEM_NAMES order, as read (null = absent).
   * Equal arrays mean the stored pet is unchanged byte for byte — whoever wrote it, version or not
   * (the service's read cache keys on it).
   */
  raw: readonly (string | null)[];
}

/** An extra per-pet record written atomically with a save (`life_<petId>:<name>`). */
export interface ExtraRecord {
  /** Name under the pet, e.g. `idem:<hash>`; see keys.ts for the allowed shape. */
  name: string;
  value: string;
  /** Time to live in ms; always set for extras. */
  ttlMs: number;
}

/** What a change appends to the pet's event log (docs/design.md §9); the storage assigns `id`. */
export interface PetEventDraft {
  /**
   * 'interacted' | 'fell_asleep' | 'woke_up' | 'got_hungry' | 'reset' | 'updated' | 'claimed' | 'created', and (docs/design.md
   * §8) 'visited' | 'befriended' | 'unfriended' | 'owner_added' | 'owner_left' | 'owner_removed' (a lowercase word).
   */
  type: string;
  /** ISO 8601 in the pet's zone: the pet's world clock when it happened. */
  pet_time: string;
  /** ISO 8601 UTC wall clock when it was recorded. */
  at: string;
  /** e.g. { action: 'feed' } for interacted; {} when there is nothing to say. */
  data: JsonObject;
}

/** An event as read back from the log. */
export interface PetEvent extends PetEventDraft {
  /** `<ms>-<seq>`, a Redis stream id: strictly increasing per pet (compareEventIds in events.ts). */
  id: string;
  /** The pet's id (pets are keyed by device id). */
  device_id: string;
}

/** readEvents' options. */
export interface ReadEventsOptions {
  /** Only events with an id strictly greater than this; null/absent: every retained event. */
  after?: string | null;
  /** At most this many (the oldest first). @default EVENT_LOG_MAX (1000) */
  limit?: number;
}

export interface SaveRequest {
  /** The version the caller loaded (0 for a pet not stored yet or without meta). */
  expectedVersion: number;
  /**
   * New meta; its `version` must be expectedVersion + 1. For `replace`, any positive version:
   * pick one above the stored one (CorruptStateError.storedVersion + 1, else 1), so that a save
   * prepared against the old pet cannot match the new one.
   */
  meta: PetMeta;
  /** Systems to write (only the dirty ones; every one the pet keeps, for a replace). */
  systems: Partial<Record<SystemName, JsonObject>>;
  /** Extra records written in the same atomic step (at most MAX_EXTRAS_PER_PET kept per pet). */
  extras?: readonly ExtraRecord[];
  /**
   * Time to live of the pet for this save, ms, instead of the driver's configured one; `null`:
   * none (every key of the pet is made permanent, the unchanged ones included). Absent: the
   * driver's `ttlMs`. Each save sets the TTL anew, so a later save without one persists a pet
   * that had one (e.g. a newborn that is changed for the first time).
   */
  ttlMs?: number | null;
  /**
   * Events appended to the pet's log, in order, in the same atomic step (nothing is appended when
   * the save conflicts). At most MAX_EVENTS_PER_SAVE (events.ts).
   */
  events?: readonly PetEventDraft[];
}

/** What `replace` writes: a save without a version to compare. */
export type ReplaceRequest = Omit<SaveRequest, 'expectedVersion'>;

export type SaveResult =
  /** Saved; `version` is meta.version; `keys` is how many keys were written (systems + meta + extras). */
  | { ok: true; version: number; keys: number; eventIds: string[] }
  /**
   * Someone else saved first; `version` is the version now stored (0 if none). `record`: the pet
   * as stored now (null: nothing stored), when the driver could answer it in the same step (the
   * Redis drivers' CAS_SCRIPT does), so that a retry needs no read; absent otherwise.
   */
  | { ok: false; version: number; record?: PetRecord | null };

export interface LoadOptions {
  /** Extra record names to read in the same round trip (e.g. an idempotency key). */
  extras?: readonly string[];
}

/** One fixed-window hit on a record tied to no single pet: `life_~<purpose>:<subject>`. */
export interface HitRequest {
  /** e.g. `ratelimit`; see PURPOSE_PATTERN in keys.ts. */
  purpose: string;
  /** e.g. a client address (an IPv6 one has `:`); see SUBJECT_PATTERN in keys.ts. */
  subject: string;
  /** Length of the window in ms, a positive integer. */
  windowMs: number;
  /** Units this hit counts for, a positive integer (a costly request counts more). @default 1 */
  weight?: number;
}

/** A counter after a hit: the count including this hit, and the ms left in its window. */
export interface HitResult {
  count: number;
  resetInMs: number;
}

/** One stored key (or file) of a pet, as an operator sees it (`pet-life inspect`). */
export interface StoredKey {
  /** The Redis key (`life_<id>:meta`…) or the file's path relative to the data folder. */
  key: string;
  /** Redis TYPE (string, stream, zset) or `file`. */
  type: string;
  /** Bytes of the value (Redis: STRLEN for strings, MEMORY USAGE otherwise; files: their size). */
  bytes: number;
  /** Time to live left in ms; null without one. */
  ttlMs: number | null;
  /** Entries: stream length (XLEN), sorted-set size (ZCARD); absent for a string or a file. */
  entries?: number;
}

/** A Lua script the driver runs by sha, and whether the server has it cached (SCRIPT EXISTS). */
export interface ScriptStatus {
  name: string;
  sha1: string;
  loaded: boolean;
}

/**
 * What an operator can ask a driver beyond the contract (the `pet-life` CLI: pets, inspect,
 * doctor). Read-only; not used by the service.
 */
export interface StorageInspector {
  /** Ids of stored pets (Redis: SCAN `life_*:meta`; files: the data folder), sorted, at most `limit`. */
  listPets(options?: { limit?: number }): Promise<string[]>;
  /** Every key (file) of the pet with its size and TTL; [] when nothing is stored. */
  describePet(petId: string): Promise<StoredKey[]>;
  /** The storage's own clock, Unix ms (Redis TIME); absent where there is none (memory, files). */
  serverTimeMs?(): Promise<number>;
  /** The Lua scripts and whether they are loaded (Redis SCRIPT EXISTS); absent without scripts. */
  scripts?(): Promise<ScriptStatus[]>;
}

/** One pet of a `loadMany` (docs/design.md §11): its id and the extra records to read with it. */
export interface LoadManyItem {
  petId: string;
  extras?: readonly string[];
}

/** What `loadMany` answers for one pet: load()'s record, or the pet's own CorruptStateError. */
export type LoadManyResult = { ok: true; record: PetRecord | null } | { ok: false; error: CorruptStateError };

/** What `saveMany` answers for one pet: save()'s result, or a refusal carrying the pet's CorruptStateError. */
export type SaveManyResult = SaveResult | { ok: false; version: number; error: CorruptStateError };

/** One pet of a `saveMany`: a compare-and-set as `save` does it. */
export interface SaveManyItem {
  petId: string;
  request: SaveRequest;
}

/**
 * One command of a RedisCommands pipeline (docs/design.md §11): its full arguments, and the keys it touches
 * (a cluster transport routes it by them; every key of one pet, or one global key).
 */
export interface PipelinedCommand {
  args: readonly string[];
  keys: readonly string[];
}

/** A record tied to no pet (docs/design.md §8): `life_~<purpose>:<subject>` (globalKey). */
export interface RecordRef {
  /** e.g. `owner`, `invite`; see PURPOSE_PATTERN in keys.ts. */
  purpose: string;
  subject: string;
}

/** A record as stored: its value and its compare-and-set version (1 after the first save). */
export interface StoredRecord {
  version: number;
  value: string;
}

/** What saveRecord writes. */
export interface RecordSaveRequest {
  /** The version loaded; 0 = create only if absent. */
  expectedVersion: number;
  value: string;
  /** Time to live in ms; null or absent: none (a save without one makes the record permanent). */
  ttlMs?: number | null;
}

export type RecordSaveResult = { ok: true; version: number } | { ok: false; version: number };

export type DriverName = 'MemoryStorage' | 'FileStorage' | 'RedisStorage' | 'UpstashRestStorage' | 'RedisClusterStorage';

export interface StorageDriver {
  readonly name: DriverName;
  /** Where the data lives, secrets redacted (e.g. `redis://127.0.0.1:6379`, `./data`). */
  readonly target: string;
  /**
   * Reads every key of the pet at once; null when nothing at all is stored for it. A driver with
   * snapshots (Redis TCP) answers a pet it holds from memory, as stored, in 0 round trips.
   */
  load(petId: string, options?: LoadOptions): Promise<PetRecord | null>;
  /**
   * Only drivers with snapshots (Redis TCP, docs/design.md §11): the stored values (PetRecord.raw)
   * of a pet held in memory, once every invalidation already received is applied — the very array
   * a load of the held pet returns, the same one for as long as nothing changed the pet; undefined
   * when the pet is not held. No round trip, no copy (the warm read, docs/design.md §15).
   */
  heldValues?(petId: string): Promise<readonly (string | null)[] | undefined>;
  /**
   * Only drivers that offer saveCounted (Redis TCP and Upstash with snapshots, not the cluster):
   * the pet as load() would return it when a snapshot holds it (no round trip), undefined when not.
   */
  loadHeld?(petId: string): Promise<PetRecord | null | undefined>;
  /**
   * save() with the request's rate-limit counters counted in the same round trip, before the
   * compare-and-set (docs/design.md §15): `hits[i]` answers `counters.hits[i]` as loadCounted's
   * would; when a count is over its `counters.limits[i]` (0 = not enforced) nothing is written and
   * `result` is null. A change of a held pet then costs this call and the snapshot barrier.
   */
  saveCounted?(
    petId: string,
    request: SaveRequest,
    counters: { hits: readonly HitRequest[]; limits: readonly number[] },
  ): Promise<{ result: SaveResult | null; hits: HitResult[] }>;
  /**
   * load() plus fixed-window hits on global counters, in the same single round trip. `record` is
   * exactly what load() returns; `hits[i]` answers `options.hits[i]` (as `hit` would, in order).
   * The hits count even when the pet is missing (record null) or its stored state is corrupt.
   */
  loadCounted(
    petId: string,
    options: LoadOptions & { hits: readonly HitRequest[] },
  ): Promise<{ record: PetRecord | null; hits: HitResult[] }>;
  /**
   * load() of several pets plus fixed-window hits, in ONE round trip (Redis/Upstash: one pipeline
   * of an MGET per pet and a HIT_SCRIPT per hit; memory/files: a plain loop). `records[i]` answers
   * `items[i]`; a corrupt pet is its own `{ ok: false }` and never fails the others; `hits[i]`
   * answers `options.hits[i]` (weights as in loadCounted). Invalid ids or names throw before any I/O.
   */
  loadMany(
    items: readonly LoadManyItem[],
    options?: { hits?: readonly HitRequest[] },
  ): Promise<{ records: LoadManyResult[]; hits: HitResult[] }>;
  /**
   * save() of several pets in ONE round trip (one pipeline of compare-and-sets); each pet at most
   * once per call (TypeError otherwise). `results[i]` answers `items[i]`; each pet is atomic, the
   * call is not: a pet whose stored meta is corrupt answers a conflict carrying its
   * CorruptStateError (where save would throw it) and the others are saved.
   */
  saveMany(items: readonly SaveManyItem[]): Promise<SaveManyResult[]>;
  /** Compare-and-set on the pet's version, writing systems, meta and extras together. */
  save(petId: string, request: SaveRequest): Promise<SaveResult>;
  /**
   * Overwrites whatever is stored for the pet, corrupt or not (resetting a corrupt pet), in the
   * same single atomic step as a save (Redis: CAS_SCRIPT in replace mode; files: under the pet's
   * lock): it never reads the stored meta and never conflicts. The pet becomes exactly `meta`
   * and `systems` (systems left out are deleted); its extras stay; TTL as for a save. A save
   * prepared against the old pet then conflicts, as long as meta.version differs from its.
   */
  replace(petId: string, request: ReplaceRequest): Promise<SaveResult & { ok: true }>;
  /** Deletes every key of the pet, its event log included. */
  remove(petId: string): Promise<void>;
  /**
   * Counts a hit in a fixed window for a record tied to no single pet
   * (`life_~<purpose>:<subject>`); returns the count including this hit and the ms left.
   */
  hit(purpose: string, subject: string, windowMs: number): Promise<HitResult>;
  /**
   * Records tied to no pet (owners, invite codes), in order, null where absent or expired; one
   * round trip (each read touches one key). CorruptStateError for a value that is not a record.
   */
  loadRecords(refs: readonly RecordRef[]): Promise<(StoredRecord | null)[]>;
  /** Compare-and-set of one record on its version (0: only if absent); one round trip. */
  saveRecord(ref: RecordRef, request: RecordSaveRequest): Promise<RecordSaveResult>;
  /** Reads and deletes one record atomically (one-use codes): only one caller ever gets it. */
  takeRecord(ref: RecordRef): Promise<StoredRecord | null>;
  /**
   * The pet's retained events (the newest EVENT_LOG_MAX), ascending, with ids strictly greater
   * than `after`, at most `limit`; [] for a pet without a log. One round trip (Redis: XRANGE).
   * RangeError for an `after` that is not an event id (isEventId) or a bad limit.
   */
  readEvents(petId: string, options?: ReadEventsOptions): Promise<PetEvent[]>;
  /**
   * Calls `onEvents(petId)` after any save that appended events to a pet (from any instance on
   * the same Redis; for memory and files, from drivers of this process on the same store or
   * folder). Resolves once listening; the function it returns stops this listener. Redis TCP:
   * one subscriber connection per driver (SUBSCRIBE life_~events), opened by the first watch and
   * closed by close(). Absent on Upstash REST (poll readEvents instead).
   */
  watch?(onEvents: (petId: string) => void): Promise<() => Promise<void>>;
  /** Operator tools (listing pets, key sizes and TTLs, clock, scripts); every driver here has it. */
  readonly inspector?: StorageInspector;
  /** The durable schedule of life events (docs/design.md §13; due-set/types.ts); every driver here has it. */
  readonly dueSet?: DueSet;
  /** Throws StorageUnavailableError when the backend cannot be reached. */
  ping(): Promise<void>;
  /** Round trips made so far (for logs, tests and benchmarks). */
  roundTrips(): number;
  close(): Promise<void>;
}
