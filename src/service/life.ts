// The seed's Life facade: one pet, a backend and a StateManager, ticked by hand.
/**
 * The seed's `Life` facade (`Life(backend=…, auto_flush=False)`): one pet, a storage backend and
 * a StateManager in front of it. `tick(dt)` advances the engine dt ticks (minutes) and hands every
 * changed system to the state manager: with autoFlush on each one is written through at once (the
 * seed's slow path), with it off they collect in `stateManager.dirtyCache` and `flush()` writes
 * them all in one round trip. The request path of the server uses run-on-pet.ts instead; this is
 * the seed's programming model, used by the benchmark and by scripts.
 */
import {
  createLifeState,
  express,
  fromSystems,
  tick as tickEngine,
  toSystems,
  type AdvanceReport,
  type Expression,
  type Lang,
  type LifeState,
  type SystemName,
  type Systems,
} from '../engine/index.js';
import { StateManager, type FlushReport, type JsonObject, type StorageDriver } from '../storage/index.js';
import { systemClock, type Clock } from './clock.js';

/** The seed's default pet name. */
export const DEFAULT_PET_NAME = '小糖';

export interface LifeOpenOptions {
  storage: StorageDriver;
  petId: string;
  /** Write every change through at once (true) or collect until flush() (false). @default false */
  autoFlush?: boolean;
  /** Timezone of a new pet (an existing pet keeps its own). @default 'UTC' */
  timezone?: string;
  /** Tick (minutes since the Unix epoch) a new pet is born at. @default the clock's current minute */
  tickAt?: number;
  /** Name of a new pet. @default 小糖 */
  petName?: string;
  /** Wall clock, for `created_at` and the meta's `wall_ms`. @default systemClock */
  clock?: Clock;
}

export class Life {
  readonly petId: string;
  readonly stateManager: StateManager;
  readonly #clock: Clock;
  #state: LifeState;
  /** Each system as last handed to the state manager, to find what a tick changed. */
  #written: Map<SystemName, unknown>;

  private constructor(stateManager: StateManager, state: LifeState, clock: Clock, written: Map<SystemName, unknown>) {
    this.petId = stateManager.petId;
    this.stateManager = stateManager;
    this.#state = state;
    this.#clock = clock;
    this.#written = written;
  }

  /**
   * Loads the pet (one round trip) or creates it. A new pet is stored at once with autoFlush
   * (one save of every system), else at the first flush.
   */
  static async open(options: LifeOpenOptions): Promise<Life> {
    const { storage, petId, autoFlush = false, clock = systemClock } = options;
    const stateManager = new StateManager({ driver: storage, petId, autoFlush });
    const record = await stateManager.load();
    const nowMs = clock.nowMs();
    const metaFor = (state: LifeState, timezone: string) => ({
      pet_name: options.petName ?? DEFAULT_PET_NAME,
      timezone,
      created_at: new Date(nowMs).toISOString(),
      world_ms: state.tick * 60_000,
      wall_ms: nowMs,
    });

    if (record === null || Object.keys(record.systems).length === 0) {
      const timezone = options.timezone ?? 'UTC';
      const state = createLifeState({ tick: options.tickAt ?? Math.floor(nowMs / 60_000), timezone });
      stateManager.setMeta(metaFor(state, timezone));
      const life = new Life(stateManager, state, clock, new Map());
      await life.#hand(toSystems(state));
      return life;
    }

    const meta = record.meta;
    const timezone = meta?.timezone ?? options.timezone ?? 'UTC';
    const state = fromSystems(record.systems, {
      timezone,
      ...(meta ? { tick: Math.floor(meta.world_ms / 60_000) } : {}),
    });
    if (meta === null) {
      // Written by the Python server (systems only): give it a meta, stored with the next save.
      stateManager.setMeta(metaFor(state, timezone));
    }
    const written = new Map<SystemName, unknown>();
    for (const [name, value] of Object.entries(record.systems)) written.set(name as SystemName, value);
    return new Life(stateManager, state, clock, written);
  }

  /** The engine state (immutable; replaced by every tick). */
  get state(): LifeState {
    return this.#state;
  }

  /**
   * Advances dt ticks (simulated minutes) and saves through the state manager: written through
   * now with autoFlush, else marked dirty. Returns what happened on the way.
   */
  async tick(dt = 1): Promise<AdvanceReport> {
    const { state, report } = tickEngine(this.#state, dt);
    this.#state = state;
    const meta = this.stateManager.meta;
    if (meta) {
      const { version: _version, ...fields } = meta;
      this.stateManager.setMeta({
        ...fields,
        world_ms: state.tick * 60_000,
        wall_ms: Math.max(meta.wall_ms, this.#clock.nowMs()),
      });
    }
    await this.#hand(toSystems(state), true);
    return report;
  }

  /** Writes every dirty system and the meta in one round trip (nothing when nothing is dirty). */
  flush(): Promise<FlushReport> {
    return this.stateManager.flush();
  }

  /** The stored form of every system (the seed's `get_states()`). */
  getStates(): Systems {
    return toSystems(this.#state);
  }

  /** Pulse, colour and feeling (the seed's `get_expression()`), Chinese by default. */
  getExpression(lang: Lang = 'zh'): Expression {
    return express(this.#state, lang);
  }

  /**
   * Hands the systems that changed to the state manager. Each one separately (one write each
   * with autoFlush, as the seed's Life did) when `oneByOne`, else all in one go.
   */
  async #hand(systems: Systems, oneByOne = false): Promise<void> {
    const changed: [SystemName, JsonObject][] = [];
    for (const [name, value] of Object.entries(systems) as [SystemName, JsonObject][]) {
      if (sameJson(this.#written.get(name), value)) continue;
      this.#written.set(name, value);
      changed.push([name, value]);
    }
    if (oneByOne) {
      for (const [name, value] of changed) await this.stateManager.set(name, value);
    } else if (changed.length > 0) {
      await this.stateManager.setAll(Object.fromEntries(changed));
    }
  }
}

/** Deep equality of JSON data (what JSON.stringify would compare, without building strings). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  return aKeys.every((key) => Object.hasOwn(right, key) && sameJson(left[key], right[key]));
}
