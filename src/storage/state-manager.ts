/**
 * The seed's StateManager: a write-behind cache of one pet's systems in front of a driver.
 * With autoFlush on, every `set` writes through at once (one compare-and-set of that system plus
 * the meta); with it off, changes collect in `dirtyCache` and `flush()` writes every dirty system
 * and the meta in ONE driver save (one round trip), whatever the number of ticks in between.
 * Every save is a compare-and-set on the version loaded; a conflict throws VersionConflictError
 * and keeps the dirty systems, so the caller can reload, re-apply and retry.
 */
import type { SystemName } from '../engine/types.js';
import { VersionConflictError } from '../errors.js';
import { cloneJson } from './keys.js';
import type { ExtraRecord, JsonObject, LoadOptions, PetMeta, PetRecord, StorageDriver } from './types.js';

/** What one flush wrote. */
export interface FlushReport {
  /** The systems written (empty when nothing was dirty). */
  systems: SystemName[];
  /** Keys written: systems + meta + extras (0 when nothing was dirty). */
  keys: number;
  /** Driver round trips the flush took (1, or 0 when nothing was dirty). */
  roundTrips: number;
  /** The pet's version after the flush. */
  version: number;
}

export interface StateManagerOptions {
  driver: StorageDriver;
  petId: string;
  /** Write every `set` through at once (true) or collect changes until `flush()` (false). */
  autoFlush: boolean;
}

export class StateManager {
  readonly driver: StorageDriver;
  readonly petId: string;
  readonly autoFlush: boolean;
  /** Systems changed since the last flush (the seed's `dirty_cache`): name → state. */
  readonly dirtyCache = new Map<SystemName, JsonObject>();
  #clean = new Map<SystemName, JsonObject>();
  #meta: PetMeta | null = null;
  #metaDirty = false;
  #version = 0;
  /** Flushes run one after another, each expecting the version the previous one produced. */
  #flushing: Promise<unknown> = Promise.resolve();

  constructor(options: StateManagerOptions) {
    this.driver = options.driver;
    this.petId = options.petId;
    this.autoFlush = options.autoFlush;
  }

  /** The version the next save expects (0 for a pet not stored yet or without meta). */
  get version(): number {
    return this.#version;
  }

  /** A copy of the pet's meta (null for a new pet or one written by the Python server). */
  get meta(): PetMeta | null {
    return this.#meta === null ? null : { ...this.#meta };
  }

  /** Reads the pet in one round trip, dropping anything dirty. */
  async load(options?: LoadOptions): Promise<PetRecord | null> {
    const record = await this.driver.load(this.petId, options);
    this.dirtyCache.clear();
    this.#clean.clear();
    this.#metaDirty = false;
    this.#meta = record?.meta ?? null;
    this.#version = record?.version ?? 0;
    for (const [name, state] of Object.entries(record?.systems ?? {}) as [SystemName, JsonObject][]) {
      this.#clean.set(name, state);
    }
    return record;
  }

  /** A copy of a system's state (dirty value first), or null when it has none. */
  get(name: SystemName): JsonObject | null {
    const state = this.dirtyCache.get(name) ?? this.#clean.get(name);
    return state === undefined ? null : cloneJson(state);
  }

  /**
   * Sets a system's state. autoFlush on: writes it (and the meta) through now and returns the
   * flush report; off: marks it dirty and returns null.
   */
  async set(name: SystemName, state: JsonObject): Promise<FlushReport | null> {
    this.dirtyCache.set(name, cloneJson(state));
    return this.autoFlush ? this.flush() : null;
  }

  /**
   * Sets several systems at once. autoFlush on: writes them (and the meta) through in ONE save
   * and returns the report; off: marks them dirty and returns null.
   */
  async setAll(states: Partial<Record<SystemName, JsonObject>>): Promise<FlushReport | null> {
    for (const [name, state] of Object.entries(states) as [SystemName, JsonObject][]) {
      this.dirtyCache.set(name, cloneJson(state));
    }
    return this.autoFlush ? this.flush() : null;
  }

  /** Replaces the meta fields (the version is managed here); written with the next flush. */
  setMeta(meta: Omit<PetMeta, 'version'>): void {
    this.#meta = { ...meta, version: this.#version };
    this.#metaDirty = true;
  }

  /**
   * Writes every dirty system and the meta in one driver save (a compare-and-set on the loaded
   * version), plus `extras` in the same atomic step. Writes nothing when nothing is dirty.
   * Throws VersionConflictError when someone else saved first.
   */
  flush(options: { extras?: readonly ExtraRecord[] } = {}): Promise<FlushReport> {
    const run = this.#flushing.then(
      () => this.#flushNow(options.extras ?? []),
      () => this.#flushNow(options.extras ?? []),
    );
    this.#flushing = run.catch(() => undefined);
    return run;
  }

  async #flushNow(extras: readonly ExtraRecord[]): Promise<FlushReport> {
    if (this.dirtyCache.size === 0 && !this.#metaDirty && extras.length === 0) {
      return { systems: [], keys: 0, roundTrips: 0, version: this.#version };
    }
    if (this.#meta === null) throw new TypeError(`pet ${this.petId}: setMeta() before the first flush`);
    const expectedVersion = this.#version;
    const meta: PetMeta = { ...this.#meta, version: expectedVersion + 1 };
    const written = new Map(this.dirtyCache);
    const before = this.driver.roundTrips();
    const result = await this.driver.save(this.petId, {
      expectedVersion,
      meta,
      systems: Object.fromEntries(written),
      ...(extras.length > 0 ? { extras } : {}),
    });
    const roundTrips = this.driver.roundTrips() - before;
    if (!result.ok) throw new VersionConflictError(this.petId, expectedVersion, result.version);
    this.#version = result.version;
    this.#meta = { ...meta, version: result.version };
    this.#metaDirty = false;
    for (const [name, state] of written) {
      this.#clean.set(name, state);
      // A newer value set while the save was in flight stays dirty.
      if (this.dirtyCache.get(name) === state) this.dirtyCache.delete(name);
    }
    return { systems: [...written.keys()], keys: result.keys, roundTrips, version: result.version };
  }
}
