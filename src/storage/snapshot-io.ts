/**
 * How the Redis body keeps its snapshots true (snapshots.ts; docs/storage.md, Snapshots): until
 * when a pet read or written may be held, what a pet is after a write, and the PING barrier a
 * write waits for before it resolves.
 */
import { SYSTEM_NAMES } from '../engine/types.js';
import { decodeLoad, encodeValue } from './keys.js';
import type { WriteRequest } from './requests.js';
import type { SnapshotStore } from './snapshots.js';
import type { PetRecord } from './types.js';

/** Until when a pet read or written at `sentMs` may be held: never past its expiry. */
export function heldUntil(sentMs: number, leftMs: number | null | undefined): number {
  return leftMs === null || leftMs === undefined ? Number.POSITIVE_INFINITY : sentMs + leftMs;
}

/** A function that resolves once a `ping` started after the call has answered; calls in one turn share it. */
export function sharedBarrier(ping: () => Promise<unknown>): () => Promise<void> {
  let next: Promise<void> | null = null;
  return () => {
    if (next !== null) return next;
    const started = Promise.resolve().then(async () => {
      next = null;
      await ping();
    });
    next = started;
    return started;
  };
}

/**
 * What the pet is after a successful write, when fully known: every system given (a replace, or
 * a save that writes them all, as the service's do), or the others taken from the held snapshot
 * the save was prepared against. Undefined when not known (the snapshot is then dropped).
 */
export function afterWrite(petId: string, base: PetRecord | null | undefined, request: WriteRequest): PetRecord | null | undefined {
  const replace = request.expectedVersion === 'any';
  const usable = base !== undefined && (base === null ? request.expectedVersion === 0 : base.version === request.expectedVersion);
  const raw: (string | null)[] = [encodeValue(request.meta)];
  for (const [index, name] of SYSTEM_NAMES.entries()) {
    const state = request.systems[name];
    if (state !== undefined) raw.push(encodeValue(state));
    else if (replace) raw.push(null);
    else if (usable) raw.push(base === null ? null : (base.raw[index + 1] ?? null));
    else return undefined;
  }
  try {
    return decodeLoad(petId, raw);
  } catch {
    return undefined;
  }
}

/**
 * Reads of what the snapshots hold. `held`: the pet's snapshot when one is held and no extra record
 * is asked for (those are never held), undefined otherwise. `heldValues`: the stored values a held
 * pet was read or written with. Both handle pending I/O first (one turn of the event loop), so that
 * an invalidation already received is applied before the snapshot is trusted.
 */
export function heldReaders(snapshots: SnapshotStore | null) {
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  return {
    held: async (petId: string, extras: readonly string[]): Promise<PetRecord | null | undefined> => {
      if (snapshots === null || extras.length > 0) return undefined;
      await turn();
      return snapshots.get(petId, Date.now());
    },
    heldValues: async (petId: string): Promise<readonly (string | null)[] | undefined> => {
      if (snapshots === null) return undefined;
      await turn();
      return snapshots.heldValues(petId, Date.now());
    },
  };
}
