/**
 * A measuring decorator over any StorageDriver: every round-trip call (load, loadCounted, save,
 * replace, remove, hit, readEvents, ping) is timed and handed to an observer with its operation
 * name and whether it failed, and the events each save or replace appended are counted. The
 * driver contract is kept: same name, target, results and errors; `roundTrips()`, `watch` and
 * `close` are the driver's own.
 */
import type { StorageDriver } from './types.js';

/** The driver calls that are measured (each one round trip). */
export const STORAGE_OPERATIONS = ['load', 'loadCounted', 'save', 'replace', 'remove', 'hit', 'readEvents', 'ping'] as const;
export type StorageOperation = (typeof STORAGE_OPERATIONS)[number];

/** What one measured call reports. */
export type StorageCallObserver = (seconds: number, failed: boolean) => void;

export interface StorageObserver {
  /** The observer of each operation, looked up once when the driver is wrapped (the hot path only calls it). */
  operation(operation: StorageOperation): StorageCallObserver;
  /** A save or replace appended `count` events (count > 0). */
  eventsWritten(count: number): void;
}

/** `driver`, with every round trip reported to `observer`. */
export function measureStorage(driver: StorageDriver, observer: StorageObserver): StorageDriver {
  const observe = Object.fromEntries(STORAGE_OPERATIONS.map((name) => [name, observer.operation(name)])) as Record<
    StorageOperation,
    StorageCallObserver
  >;
  // One promise reaction per call rather than an async wrapper (its own promise and an await):
  // this runs on every round trip of every request.
  const timed = <T>(operation: StorageOperation, call: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const report = observe[operation];
    let pending: Promise<T>;
    try {
      pending = call();
    } catch (error) {
      pending = Promise.reject(error);
    }
    return pending.then(
      (result) => {
        report((performance.now() - started) / 1000, false);
        return result;
      },
      (error: unknown) => {
        report((performance.now() - started) / 1000, true);
        throw error;
      },
    );
  };
  const written = <R extends { ok: boolean }>(result: R): R => {
    if (result.ok) {
      const count = (result as R & { eventIds: readonly string[] }).eventIds.length;
      if (count > 0) observer.eventsWritten(count);
    }
    return result;
  };
  const measured: StorageDriver = {
    name: driver.name,
    target: driver.target,
    load: (petId, options) => timed('load', () => driver.load(petId, options)),
    loadCounted: (petId, options) => timed('loadCounted', () => driver.loadCounted(petId, options)),
    save: (petId, request) => timed('save', () => driver.save(petId, request)).then(written),
    replace: (petId, request) => timed('replace', () => driver.replace(petId, request)).then(written),
    remove: (petId) => timed('remove', () => driver.remove(petId)),
    hit: (purpose, subject, windowMs) => timed('hit', () => driver.hit(purpose, subject, windowMs)),
    readEvents: (petId, options) => timed('readEvents', () => driver.readEvents(petId, options)),
    ping: () => timed('ping', () => driver.ping()),
    roundTrips: () => driver.roundTrips(),
    close: () => driver.close(),
  };
  if (driver.watch !== undefined) {
    const watch = driver.watch.bind(driver);
    measured.watch = (onEvents) => watch(onEvents);
  }
  return measured;
}
