/**
 * The due set in the process (memory driver; the file driver persists it through `persist`):
 * a map of pet id → instant. A claim sorts what is due; fine for one process's pets.
 */
import { assertPetId } from '../keys.js';
import { assertClaim, assertInstant, type DueClaim, type DueSet } from './types.js';

export interface DueIndexPersistence {
  /** The saved index (JSON), or null when none was saved yet. */
  load(): Promise<string | null>;
  /** Saves the index (JSON), atomically. */
  save(text: string): Promise<void>;
}

export function createMemoryDueSet(persist?: DueIndexPersistence): DueSet {
  const instants = new Map<string, number>();
  let loaded: Promise<void> | null = null;
  let saving: Promise<void> = Promise.resolve();

  const ready = (): Promise<void> => {
    if (persist === undefined) return Promise.resolve();
    loaded ??= persist.load().then((text) => {
      if (text === null) return;
      const parsed = JSON.parse(text) as Record<string, number>;
      for (const [petId, at] of Object.entries(parsed)) if (Number.isSafeInteger(at)) instants.set(petId, at);
    });
    return loaded;
  };
  /** Writes the whole index after each change, one write at a time (later writes carry earlier changes). */
  const changed = (): Promise<void> => {
    if (persist === undefined) return Promise.resolve();
    saving = saving.then(() => persist.save(JSON.stringify(Object.fromEntries(instants))));
    return saving;
  };

  return {
    async schedule(petId, atMs) {
      assertPetId(petId);
      assertInstant('atMs', atMs);
      await ready();
      instants.set(petId, atMs);
      await changed();
    },
    async hasten(petId, atMs, ifLaterThanMs = atMs) {
      assertInstant('atMs', atMs);
      await ready();
      const current = instants.get(petId);
      if (current === undefined || current <= Math.max(atMs, ifLaterThanMs)) return false;
      instants.set(petId, atMs);
      await changed();
      return true;
    },
    async unschedule(petId) {
      await ready();
      if (instants.delete(petId)) await changed();
    },
    async claim(nowMs, leaseMs, limit) {
      assertClaim(nowMs, leaseMs, limit);
      await ready();
      const due = [...instants].filter(([, at]) => at <= nowMs).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
      const claims: DueClaim[] = due.slice(0, limit).map(([petId, dueMs]) => ({ petId, dueMs, leaseUntilMs: nowMs + leaseMs }));
      for (const claim of claims) instants.set(claim.petId, claim.leaseUntilMs);
      if (claims.length > 0) await changed();
      return claims;
    },
    async release(petId, leaseUntilMs, nextMs) {
      if (nextMs !== null) assertInstant('nextMs', nextMs);
      await ready();
      if (instants.get(petId) !== leaseUntilMs) return false;
      if (nextMs === null) instants.delete(petId);
      else instants.set(petId, nextMs);
      await changed();
      return true;
    },
    async instantOf(petId) {
      await ready();
      return instants.get(petId) ?? null;
    },
    async size() {
      await ready();
      return instants.size;
    },
  };
}
