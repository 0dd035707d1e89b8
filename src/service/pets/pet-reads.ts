/**
 * The service's reads that apply nothing: a pet's logged events (access as a read), when its next
 * life event falls (the scheduler's), and several stored pets brought to now in memory (lists).
 * Each one round trip; none creates a pet or takes the per-pet queue.
 */
import { DEFAULT_PARAMS, MS_PER_TICK, NEXT_EVENT_HORIZON_TICKS, nextLifeEvent } from '../../engine/index.js';
import { CorruptStateError, InvalidInputError } from '../../errors.js';
import { assertPetId, type PetEvent, type StorageDriver } from '../../storage/index.js';
import { assertAccess, bearerHashOf, isOwnerOrAdmin, type AccessPolicy } from './access.js';
import type { Clock } from '../clock.js';
import { bringPetToNow as bringLivePetToNow, hydratePet, marksOf, type LivePet, type PetDefaults } from './live-pet.js';
import { EVENT_ID_PATTERN, MAX_EVENTS_PER_READ } from '../events/pet-events.js';
import { bringToNow as marksAtNow } from './time-model.js';

/** What the reads need of the service. */
export interface ReadDeps {
  storage: StorageDriver;
  clock: Clock;
  timeScale: number;
  defaults: PetDefaults;
  access: AccessPolicy;
  /** The owner a Bearer secret proves (owners.ts); null when none. */
  resolveOwner: (bearer: string | null) => Promise<string | null>;
}

export interface EventsOptions {
  /** Only events with a greater id (`<ms>-<seq>`); null or absent: every retained event. */
  after?: string | null;
  /** At most this many, 1–1000. @default 1000 */
  limit?: number;
  /** The Bearer secret sent; null or absent when none. */
  bearer?: string | null;
  /** The owner id that secret was verified as (DESIGN §8); null or absent when none. */
  owner?: string | null;
}

export async function readEvents(deps: ReadDeps, petId: string, eventsOptions: EventsOptions = {}): Promise<PetEvent[]> {
  const { storage, access } = deps;
  assertPetId(petId);
  const after = eventsOptions.after ?? null;
  const limit = eventsOptions.limit ?? MAX_EVENTS_PER_READ;
  if (after !== null && !EVENT_ID_PATTERN.test(after)) {
    throw new InvalidInputError('invalid_query', 'after must be an event id: <ms>-<seq>, e.g. 1767225600000-0');
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENTS_PER_READ) {
    throw new InvalidInputError('invalid_query', `limit must be an integer from 1 to ${MAX_EVENTS_PER_READ}`);
  }
  const read = { after, limit };
  const bearer = eventsOptions.bearer ?? null;
  const owner = eventsOptions.owner !== undefined ? eventsOptions.owner : await deps.resolveOwner(bearer);
  // Open reads, or the admin token: the log alone. Otherwise the claim is checked against the
  // meta read alongside (in parallel: one round trip of latency), before anything is answered.
  if (!access.readsRequireAuth || isOwnerOrAdmin({}, bearerHashOf(bearer), access)) return storage.readEvents(petId, read);
  const [record, logged] = await Promise.all([storage.load(petId), storage.readEvents(petId, read)]);
  assertAccess(record?.meta ?? {}, 'read', bearer, access, owner);
  return logged;
}

export async function nextLifeEventMs(deps: ReadDeps, petId: string): Promise<number | null> {
  assertPetId(petId);
  if (deps.timeScale === 0) return null;
  const record = await deps.storage.load(petId);
  if (record === null) return null;
  // The stored pet, not brought to now: an event passed since its last save is still unwritten and due at once.
  const pet = hydratePet(petId, record, deps.clock.nowMs(), deps.defaults);
  const next = nextLifeEvent(pet.state, DEFAULT_PARAMS, NEXT_EVENT_HORIZON_TICKS);
  if (next === null) return null;
  const marks = marksOf(pet);
  const eventWorldMs = next.tick * MS_PER_TICK;
  let wallMs = Math.ceil(marks.wallMs + Math.max(0, eventWorldMs - marks.worldMs) / deps.timeScale);
  // Against rounding of the division: the first whole ms at which bringing to now reaches the tick.
  for (let step = 0; step < 4 && marksAtNow(marks, wallMs, deps.timeScale).worldMs < eventWorldMs; step++) wallMs += 1;
  return marksAtNow(marks, wallMs, deps.timeScale).worldMs < eventWorldMs ? null : wallMs;
}

export async function peekPets(deps: ReadDeps, petIds: readonly string[]): Promise<(LivePet | null)[]> {
  for (const petId of petIds) assertPetId(petId);
  // One round trip for every pet; an unreadable pet is null here.
  const { records } = await deps.storage.loadMany(petIds.map((petId) => ({ petId })));
  const nowMs = deps.clock.nowMs();
  return records.map((loaded, index) => {
    if (!loaded.ok || loaded.record === null) return null;
    const record = loaded.record;
    try {
      const pet = hydratePet(petIds[index] as string, record, nowMs, deps.defaults);
      bringLivePetToNow(pet, nowMs, deps.timeScale);
      return pet;
    } catch (error) {
      return unreadableAsNull(error);
    }
  });
}

/** A pet whose stored state cannot be read is left out of a multi-pet read; other failures stay failures. */
function unreadableAsNull(error: unknown): null {
  if (error instanceof CorruptStateError) return null;
  throw error;
}
