/**
 * Change notification inside one process, for the drivers that have no server to publish on
 * (memory, files): drivers sharing a key space (one memory store, one data folder) hear each
 * other's saves, as instances on one Redis do through PUBLISH. A listener is told after the save
 * has returned (a microtask later), and a listener's failure is its own.
 */
export type EventsListener = (petId: string) => void;

/** Where the listeners of each key space live (a Map by folder, a WeakMap by store). */
export interface ListenerRegistry<K> {
  get(key: K): Set<EventsListener> | undefined;
  set(key: K, listeners: Set<EventsListener>): unknown;
}

export interface LocalWatchers {
  /** Tells every listener of the key space that `petId` has new events. */
  announce(petId: string): void;
  /** StorageDriver.watch: adds a listener; resolves with its removal. */
  watch(onEvents: EventsListener): Promise<() => Promise<void>>;
  /** Removes every listener this driver added (its close()). */
  close(): void;
}

export function createLocalWatchers<K>(registry: ListenerRegistry<K>, key: K): LocalWatchers {
  const own = new Set<EventsListener>();
  const listenersOf = (): Set<EventsListener> => {
    let listeners = registry.get(key);
    if (listeners === undefined) {
      listeners = new Set();
      registry.set(key, listeners);
    }
    return listeners;
  };
  return {
    announce(petId) {
      const listeners = registry.get(key);
      if (listeners === undefined || listeners.size === 0) return;
      queueMicrotask(() => {
        for (const listener of [...listeners]) {
          try {
            listener(petId);
          } catch {
            // A listener's failure is its own.
          }
        }
      });
    },
    async watch(onEvents) {
      const listeners = listenersOf();
      const listener: EventsListener = (id) => onEvents(id);
      listeners.add(listener);
      own.add(listener);
      return async () => {
        listeners.delete(listener);
        own.delete(listener);
      };
    },
    close() {
      const listeners = registry.get(key);
      for (const listener of own) listeners?.delete(listener);
      own.clear();
    },
  };
}
