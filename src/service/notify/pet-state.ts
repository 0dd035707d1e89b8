/**
 * What the schedule keeps per pet (docs/design.md §13), `life_~notify-pet:<pet id>`: the id of the
 * last event turned into deliveries (the cursor) and the deliveries still owed (waiting for a
 * retry or for the end of quiet hours). Changed by compare-and-set; whoever holds the pet's claim
 * writes it. A delivery record per (target, event), `life_~delivery:<target>:<pet>:<event>`,
 * decides who sends and whether it was sent: the pet's state may be written again after a crash,
 * the delivery record is what makes the send happen once.
 */
import { CorruptStateError } from '../../errors.js';
import type { PetEvent, RecordRef, StorageDriver, StoredRecord } from '../../storage/index.js';

export interface OwedDelivery {
  target: string;
  owner: string;
  kind: 'webhook' | 'push';
  event: PetEvent;
  /** Failed attempts so far. */
  failures: number;
  /** Wall ms of the next attempt. */
  next_ms: number;
  /** Counted against the daily cap already (counted once, at its first attempt). */
  counted?: boolean;
}

export interface PetNotifyState {
  cursor: string | null;
  owed: OwedDelivery[];
}

/** Deliveries one pet may owe at once; past it the oldest are dropped (a receiver down for days). */
export const MAX_OWED_PER_PET = 500;

export const petStateRef = (petId: string): RecordRef => ({ purpose: 'notify-pet', subject: petId });

export function decodePetState(petId: string, stored: StoredRecord | null | undefined): PetNotifyState | null {
  if (stored === null || stored === undefined) return null;
  try {
    const state = JSON.parse(stored.value) as PetNotifyState;
    if ((state.cursor === null || typeof state.cursor === 'string') && Array.isArray(state.owed)) return state;
  } catch {
    // reported below
  }
  throw new CorruptStateError(`the notification state of pet ${petId} cannot be read`);
}

/** Starts a pet's state when it gets its first target: events from now on are delivered, none from before. */
export async function startPetState(storage: StorageDriver, petId: string, nowMs: number): Promise<void> {
  await storage.saveRecord(petStateRef(petId), {
    expectedVersion: 0,
    value: JSON.stringify({ cursor: `${nowMs}-0`, owed: [] } satisfies PetNotifyState),
  });
}

/** One delivery record's state. `sending` until `until_ms` (a claimer that dies lets it go), then `done`, `gone` or `retry`. */
export interface DeliveryRecord {
  state: 'sending' | 'done' | 'gone' | 'retry';
  until_ms: number;
}

/** Delivery records are kept this long: longer than the last retry of any delivery. */
export const DELIVERY_RECORD_TTL_MS = 4 * 24 * 3_600_000;

export const deliveryRef = (target: string, petId: string, eventId: string): RecordRef => ({
  purpose: 'delivery',
  subject: `${target}:${petId}:${eventId}`,
});

export function decodeDelivery(stored: StoredRecord | null | undefined): DeliveryRecord | null {
  if (stored === null || stored === undefined) return null;
  try {
    return JSON.parse(stored.value) as DeliveryRecord;
  } catch {
    return { state: 'retry', until_ms: 0 };
  }
}
