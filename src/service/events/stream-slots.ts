/**
 * Event streams (SSE and WebSocket) are a limited resource per client address (docs/design.md
 * §9, §14): at most `perClientPerPet` open on one pet and `perClient` in all from one address, in
 * this process. A caller whose secret opens the pet counts in buckets of its own, which strangers
 * sharing its address (or spoofing nothing at all) cannot fill: strangers never lock an owner
 * out of its own pet's events.
 */
import { RateLimitedError } from '../../errors.js';

export interface StreamSlotLimits {
  /** Streams from one client address, all pets together. @default 20 */
  perClient: number;
  /** Streams from one client address to one pet. @default 5 */
  perClientPerPet: number;
}

export const DEFAULT_STREAM_SLOT_LIMITS: StreamSlotLimits = Object.freeze({ perClient: 20, perClientPerPet: 5 });

/** Seconds a refused client is told to wait (a slot frees when one of its streams ends). */
const RETRY_AFTER_S = 5;

export interface StreamSlots {
  /**
   * Takes a slot for a stream of `client` (an address bucket; null = unknown, not limited) to
   * `petId`; `opens` when the caller's secret opens the pet. Throws RateLimitedError (429) over a
   * cap; returns the release (idempotent).
   */
  take(client: string | null, petId: string, opens: boolean): () => void;
  /** Streams counted now, all clients together. */
  size(): number;
}

export function createStreamSlots(limits: StreamSlotLimits = DEFAULT_STREAM_SLOT_LIMITS): StreamSlots {
  /** Per client bucket: its streams per pet. Empty buckets are deleted, so the map holds only open streams. */
  const clients = new Map<string, Map<string, number>>();
  let open = 0;

  return {
    take(client, petId, opens) {
      if (client === null) return () => {};
      const key = `${opens ? 'owner' : 'any'}:${client}`;
      const pets = clients.get(key) ?? new Map<string, number>();
      let total = 0;
      for (const count of pets.values()) total += count;
      const onPet = pets.get(petId) ?? 0;
      if (onPet >= limits.perClientPerPet || total >= limits.perClient) {
        const which = onPet >= limits.perClientPerPet ? `${limits.perClientPerPet} to one pet` : `${limits.perClient} in all`;
        throw new RateLimitedError(
          `too many event streams from this client (at most ${which}); close one, or retry after ${RETRY_AFTER_S} s`,
          RETRY_AFTER_S,
          [],
        );
      }
      pets.set(petId, onPet + 1);
      clients.set(key, pets);
      open += 1;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        open -= 1;
        const left = (pets.get(petId) ?? 1) - 1;
        if (left > 0) pets.set(petId, left);
        else pets.delete(petId);
        if (pets.size === 0 && clients.get(key) === pets) clients.delete(key);
      };
    },
    size: () => open,
  };
}
