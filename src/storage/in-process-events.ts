/**
 * STAND-IN (issue #12, delivery branch): an event log held in this process, with watchers told
 * after a save appended events, for the memory and file drivers until the storage side lands
 * (which keeps memory events in the record and file events in `<dir>/<petId>/events.log`).
 */
import { compareEventIds, EVENT_LOG_MAX, nextEventId } from './events.js';
import type { PetEvent, PetEventDraft, ReadEventsOptions } from './types.js';

export interface InProcessEvents {
  /** Appends the drafts (ids assigned), tells the watchers on the next microtask; the ids given. */
  append(petId: string, drafts: readonly PetEventDraft[] | undefined): string[];
  read(petId: string, options?: ReadEventsOptions): PetEvent[];
  watch(onEvents: (petId: string) => void): () => void;
}

export function createInProcessEvents(now: () => number): InProcessEvents {
  const logs = new Map<string, PetEvent[]>();
  const watchers = new Set<(petId: string) => void>();
  return {
    append(petId, drafts) {
      if (drafts === undefined || drafts.length === 0) return [];
      const log = logs.get(petId) ?? [];
      const ids: string[] = [];
      for (const draft of drafts) {
        const id = nextEventId(log.at(-1)?.id ?? null, now());
        log.push({ ...draft, id, device_id: petId });
        ids.push(id);
      }
      logs.set(petId, log.slice(-EVENT_LOG_MAX));
      queueMicrotask(() => {
        for (const watcher of watchers) watcher(petId);
      });
      return ids;
    },
    read(petId, options = {}) {
      const { after = null, limit = 1000 } = options;
      const log = logs.get(petId) ?? [];
      return log.filter((event) => after === null || compareEventIds(event.id, after) > 0).slice(0, limit);
    },
    watch(onEvents) {
      const watcher = (petId: string) => onEvents(petId);
      watchers.add(watcher);
      return () => {
        watchers.delete(watcher);
      };
    },
  };
}
