// Social: two-pet changes as two per-pet writes tied by the outbox.
/**
 * Changes that touch two pets (docs/design.md §8: a visit, a friendship made or ended) as two per-pet
 * compare-and-set writes, never one write over both (the pets may live on different Redis
 * Cluster shards; docs/design.md §8):
 *
 *   1. the first pet's write applies its own half and appends the other's half to its `outbox`
 *      (with the next `outbox_seq`), in the same compare-and-set;
 *   2. deliverOutbox then writes the other pet: every entry from the first pet with a seq above
 *      `inbox[first]` is applied, in seq order, and `inbox[first]` becomes the highest one —
 *      again one compare-and-set, so an entry applies there once whatever retries or races;
 *   3. and clears the delivered entries from the first pet's outbox.
 *
 * Whoever delivers sends every entry still in the outbox as read after its own write, so an
 * entry with a lower seq is never overtaken: when the receiver's inbox says s, every entry up to
 * s has been applied there (an entry leaves the outbox only after that). A process that dies
 * after step 1 leaves the entry in the outbox; the pet service delivers it on the next request
 * that loads the pet (a replay of the same Idempotency-Key, any read). Nothing is lost, nothing
 * is applied twice: test/service/outbox.test.ts checks it over interleavings and crash points.
 */
import { applyVisit } from '../../engine/index.js';
import type { OutboxEntry, PetEventDraft, PetMeta } from '../../storage/index.js';
import type { LivePet } from '../pets/live-pet.js';
import { petEventDraft } from '../events/pet-events.js';
import type { Plan } from '../pets/run-on-pet.js';

/** Runs a plan on a pet (the pet service's queue and compare-and-set retries). */
export type RunPlan = <R>(petId: string, plan: Plan<R>) => Promise<{ value: { result: R } }>;

/** The seq the next entry of the pet's outbox gets (`meta.outbox_seq` counts them). */
export function nextOutboxSeq(meta: PetMeta): number {
  return (meta.outbox_seq ?? 0) + 1;
}

/** `meta` with `entry` appended to its outbox under the next seq; the entry as stored. */
export function withOutboxEntry(meta: PetMeta, entry: Omit<OutboxEntry, 'seq'>): { meta: PetMeta; entry: OutboxEntry } {
  const seq = nextOutboxSeq(meta);
  const stored: OutboxEntry = { seq, ...entry };
  return { meta: { ...meta, outbox_seq: seq, outbox: [...(meta.outbox ?? []), stored] }, entry: stored };
}

/** Friends one pet may have (bounds its meta, which every load reads). */
export const MAX_FRIENDS_PER_PET = 50;

/** Applies one entry from pet `from` to `pet`; returns the event it logs (null: nothing to log). */
function receive(pet: LivePet, from: string, entry: OutboxEntry, nowMs: number): PetEventDraft | null {
  const friends = { ...(pet.meta.friends ?? {}) };
  if (entry.kind === 'befriend' && friends[from] === undefined && Object.keys(friends).length >= MAX_FRIENDS_PER_PET) {
    // The limit is checked here, in the write that would add the friend (concurrent accepts of
    // this pet's invites cannot overshoot it): declined, and undone on the other side through
    // this pet's outbox, exactly once like any change between two pets (docs/design.md §8).
    pet.meta = withOutboxEntry(pet.meta, { to: from, kind: 'unfriend', at: new Date(nowMs).toISOString() }).meta;
    return null;
  }
  if (entry.kind === 'befriend') {
    friends[from] = friends[from] ?? { since: entry.at, familiarity: 0, visited_ms: null };
    pet.meta = { ...pet.meta, friends };
    return petEventDraft('befriended', pet, nowMs, { with: from });
  }
  if (entry.kind === 'unfriend') {
    delete friends[from];
    pet.meta = { ...pet.meta, friends };
    return petEventDraft('unfriended', pet, nowMs, { with: from });
  }
  const visit = entry.visit;
  if (visit === undefined) throw new TypeError(`outbox entry ${entry.seq} of ${from} is a visit without its half`);
  pet.state = applyVisit(pet.state, visit.mood);
  const link = friends[from];
  // A friendship ended since keeps no familiarity; the visit itself still happened.
  if (link !== undefined) friends[from] = { ...link, familiarity: visit.familiarity, visited_ms: visit.visited_ms };
  pet.meta = { ...pet.meta, friends };
  return petEventDraft('visited', pet, nowMs, {
    visit_id: visit.id,
    role: 'host',
    with: from,
    outcome: visit.outcome,
    mood_delta: visit.mood,
    familiarity: visit.familiarity,
  });
}

/** What the receiver's write found: every entry up to `upTo` is applied there (or it is gone). */
interface Received {
  upTo: number;
  applied: number;
}

/** The receiver's write: applies the entries from `from` above its inbox mark, once. */
export function receivePlan(from: string, entries: readonly OutboxEntry[]): Plan<Received> {
  const sorted = [...entries].sort((a, b) => a.seq - b.seq);
  const last = sorted.at(-1)?.seq ?? 0;
  return {
    // A receiver that is gone (expired, removed) cannot take its half: the entries are dropped.
    precondition: (pet) => (pet.created ? { replay: { upTo: last, applied: 0 } } : undefined),
    apply: (pet, nowMs) => {
      const mark = pet.meta.inbox?.[from] ?? 0;
      const fresh = sorted.filter((entry) => entry.seq > mark);
      const events = fresh.map((entry) => receive(pet, from, entry, nowMs)).filter((event) => event !== null);
      if (fresh.length > 0) pet.meta = { ...pet.meta, inbox: { ...(pet.meta.inbox ?? {}), [from]: last } };
      return { changed: fresh.length > 0, result: { upTo: Math.max(mark, last), applied: fresh.length }, events };
    },
  };
}

/** The sender's write after delivery: drops its entries to `to` up to seq `upTo`. */
export function clearPlan(to: string, upTo: number): Plan<number> {
  return {
    precondition: (pet) => (pet.created ? { replay: 0 } : undefined),
    apply: (pet) => {
      const outbox = pet.meta.outbox ?? [];
      const kept = outbox.filter((entry) => !(entry.to === to && entry.seq <= upTo));
      if (kept.length === outbox.length) return { changed: false, result: 0 };
      const { outbox: _outbox, ...rest } = pet.meta;
      pet.meta = kept.length === 0 ? rest : { ...rest, outbox: kept };
      return { changed: true, result: outbox.length - kept.length };
    },
  };
}

/**
 * Delivers every entry of `outbox` (pet `petId`'s, as read after its own write) to its receiver,
 * then clears it from the sender. Receivers in parallel; entries applied there in seq order.
 */
export async function deliverOutbox(run: RunPlan, petId: string, outbox: readonly OutboxEntry[]): Promise<void> {
  const byReceiver = new Map<string, OutboxEntry[]>();
  for (const entry of outbox) byReceiver.set(entry.to, [...(byReceiver.get(entry.to) ?? []), entry]);
  await Promise.all(
    [...byReceiver].map(async ([to, entries]) => {
      const received = await run(to, receivePlan(petId, entries));
      await run(petId, clearPlan(to, received.value.result.upTo));
    }),
  );
}
