/**
 * A measuring decorator over any StorageDriver: every round-trip call (load, loadCounted, loadMany,
 * save, saveCounted, saveMany, replace, remove, hit, readEvents, ping) is timed and handed to an observer with its operation
 * name and whether it failed, and the events each save or replace appended are counted. The
 * driver contract is kept: same name, target, results and errors; `roundTrips()`, `watch` and
 * `close` are the driver's own.
 */
import type { StorageDriver } from './types.js';

/** The driver calls that are measured (each one round trip). */
export const STORAGE_OPERATIONS = [
  'load',
  'loadCounted',
  'loadMany',
  'save',
  'saveCounted',
  'saveMany',
  'replace',
  'remove',
  'hit',
  'readEvents',
  'ping',
  'loadRecords',
  'saveRecord',
  'takeRecord',
] as const;
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
  // The caller gets the driver's own promise; the timing rides on a side reaction to it. No
  // wrapper promise (an async wrapper added one, and a hop, to every round trip of every request).
  const timed = <T>(operation: StorageOperation, call: () => Promise<T>, onResult?: (result: T) => void): Promise<T> => {
    const started = performance.now();
    const report = observe[operation];
    let pending: Promise<T>;
    try {
      pending = call();
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (result) => {
        report((performance.now() - started) / 1000, false);
        onResult?.(result);
      },
      () => report((performance.now() - started) / 1000, true),
    );
    return pending;
  };
  const written = (result: { ok: boolean }): void => {
    if (!result.ok) return;
    const count = (result as { eventIds?: readonly string[] }).eventIds?.length ?? 0;
    if (count > 0) observer.eventsWritten(count);
  };
  const measured: StorageDriver = {
    name: driver.name,
    target: driver.target,
    load: (petId, options) => timed('load', () => driver.load(petId, options)),
    loadCounted: (petId, options) => timed('loadCounted', () => driver.loadCounted(petId, options)),
    loadMany: (items, options) => timed('loadMany', () => driver.loadMany(items, options)),
    save: (petId, request) => timed('save', () => driver.save(petId, request), written),
    saveMany: (items) =>
      timed(
        'saveMany',
        () => driver.saveMany(items),
        (results) => {
          for (const result of results) written(result);
        },
      ),
    replace: (petId, request) => timed('replace', () => driver.replace(petId, request), written),
    remove: (petId) => timed('remove', () => driver.remove(petId)),
    hit: (purpose, subject, windowMs) => timed('hit', () => driver.hit(purpose, subject, windowMs)),
    readEvents: (petId, options) => timed('readEvents', () => driver.readEvents(petId, options)),
    ping: () => timed('ping', () => driver.ping()),
    loadRecords: (refs) => timed('loadRecords', () => driver.loadRecords(refs)),
    saveRecord: (ref, request) => timed('saveRecord', () => driver.saveRecord(ref, request)),
    takeRecord: (ref) => timed('takeRecord', () => driver.takeRecord(ref)),
    roundTrips: () => driver.roundTrips(),
    close: () => driver.close(),
    ...(driver.dueSet === undefined ? {} : { dueSet: driver.dueSet }),
  };
  if (driver.saveCounted !== undefined) {
    const saveCounted = driver.saveCounted.bind(driver);
    measured.saveCounted = (petId, request, counters) =>
      timed(
        'saveCounted',
        () => saveCounted(petId, request, counters),
        ({ result }) => written(result ?? { ok: false }),
      );
  }
  if (driver.loadHeld !== undefined) measured.loadHeld = driver.loadHeld.bind(driver);
  // Not a round trip: passed through as it is.
  if (driver.heldValues !== undefined) measured.heldValues = driver.heldValues.bind(driver);
  if (driver.watch !== undefined) {
    const watch = driver.watch.bind(driver);
    measured.watch = (onEvents) => watch(onEvents);
  }
  return measured;
}
