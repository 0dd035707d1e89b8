/**
 * The storage contract every driver (memory, file, Redis, Upstash REST) fulfils. A pet is read
 * in one round trip and saved in one compare-and-set on its version. Keys: see keys.ts.
 */
import type { SystemName } from '../engine/types.js';

/** A JSON object as stored for one system. */
export type JsonObject = { [key: string]: unknown };

/** What a change appends to the pet's event log; the storage assigns `id` (issue #12). */
export interface PetEventDraft {
  /** 'interacted' | 'fell_asleep' | 'woke_up' | 'got_hungry' | 'reset' | 'updated' | 'claimed' | 'created' */
  type: string;
  /** ISO 8601 in the pet's zone: the pet's world clock when it happened. */
  pet_time: string;
  /** ISO 8601 UTC wall clock when it was recorded. */
  at: string;
  /** e.g. { action: 'feed' } for interacted; {} when nothing to say. */
  data: JsonObject;
}

/** An event as stored and delivered. */
export interface PetEvent extends PetEventDraft {
  /** `<ms>-<seq>`, as a Redis stream id: strictly increasing per pet. */
  id: string;
  device_id: string;
}

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
  /** Hash of the claim secret, when the pet has been claimed (issue #5). */
  claim_hash?: string;
  /**
   * Created by a read and never changed since (issue #10): saved with the newborn TTL
   * (NEWBORN_TTL_DAYS); the first change removes it and the pet is kept.
   */
  newborn?: boolean;
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
  /** Events appended to the pet's log in order, atomically with the save (issue #12). */
  events?: readonly PetEventDraft[];
}

/** What `replace` writes: a save without a version to compare. */
export type ReplaceRequest = Omit<SaveRequest, 'expectedVersion'>;

export type SaveResult =
  /** Saved; `version` is meta.version; `keys` is how many keys were written (systems + meta + extras). */
  | { ok: true; version: number; keys: number; eventIds: string[] }
  /** Someone else saved first; `version` is the version now stored (0 if none). */
  | { ok: false; version: number };

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

export type DriverName = 'MemoryStorage' | 'FileStorage' | 'RedisStorage' | 'UpstashRestStorage';

export interface StorageDriver {
  readonly name: DriverName;
  /** Where the data lives, secrets redacted (e.g. `redis://127.0.0.1:6379`, `./data`). */
  readonly target: string;
  /** Reads every key of the pet at once; null when nothing at all is stored for it. */
  load(petId: string, options?: LoadOptions): Promise<PetRecord | null>;
  /**
   * load() plus fixed-window hits on global counters, in the same single round trip. `record` is
   * exactly what load() returns; `hits[i]` answers `options.hits[i]` (as `hit` would, in order).
   * The hits count even when the pet is missing (record null) or its stored state is corrupt.
   */
  loadCounted(
    petId: string,
    options: LoadOptions & { hits: readonly HitRequest[] },
  ): Promise<{ record: PetRecord | null; hits: HitResult[] }>;
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
  /**
   * The pet's events with ids strictly greater than `after` (all retained when null/absent),
   * ascending, at most `limit` (default 1000), in one round trip (issue #12).
   */
  readEvents(petId: string, options?: { after?: string | null; limit?: number }): Promise<PetEvent[]>;
  /** Deletes every key of the pet. */
  remove(petId: string): Promise<void>;
  /**
   * Counts a hit in a fixed window for a record tied to no single pet
   * (`life_~<purpose>:<subject>`); returns the count including this hit and the ms left.
   */
  hit(purpose: string, subject: string, windowMs: number): Promise<HitResult>;
  /** Throws StorageUnavailableError when the backend cannot be reached. */
  ping(): Promise<void>;
  /** Round trips made so far (for logs, tests and benchmarks). */
  roundTrips(): number;
  close(): Promise<void>;
}
