// Realtime: the events a save appends to the pet's event log.
/**
 * The events a save appends to the pet's log (docs/design.md §9): the life events of
 * an advance (sleep onsets, wakings, hunger crossings; at most the last MAX_LIFE_EVENTS_PER_ADVANCE,
 * the first kept one saying how many were dropped) and the operation's own. Built inside the plan,
 * so a compare-and-set retry builds them anew from the fresh pet and each exists once.
 */
import { type AdvanceReport, MS_PER_TICK } from '../../engine/index.js';
import type { JsonObject, PetEventDraft } from '../../storage/index.js';
import type { LivePet } from '../pets/live-pet.js';
import { formatZoned } from '../pets/zoned-time.js';

/** Life events of one advance kept in the log; older ones are counted in `data.skipped`. */
export const MAX_LIFE_EVENTS_PER_ADVANCE = 50;

/**
 * Events read at most per call: the log keeps 1000 per pet, and Redis's approximate trimming
 * (MAXLEN ~) may keep some more, so twice that reads any retained log whole.
 */
export const MAX_EVENTS_PER_READ = 2000;

/** An event id as the storage makes them: `<ms>-<seq>`. */
export const EVENT_ID_PATTERN = /^\d{1,16}-\d{1,16}$/;

/** The life events of `report` (null: no tick passed), the last MAX_LIFE_EVENTS_PER_ADVANCE of them. */
export function lifeEventDrafts(report: AdvanceReport | null, timezone: string, nowMs: number): PetEventDraft[] {
  if (report === null) return [];
  const at = new Date(nowMs).toISOString();
  const kept = report.events.slice(-MAX_LIFE_EVENTS_PER_ADVANCE);
  // The engine keeps its last 64; the counts say how many happened in all.
  const skipped = report.sleeps + report.wakes + report.hungers - kept.length;
  return kept.map((event, index) => ({
    type: event.kind,
    pet_time: formatZoned(event.tick * MS_PER_TICK, timezone),
    at,
    data: index === 0 && skipped > 0 ? { skipped } : {},
  }));
}

/** An operation's own event, at the pet's world clock now. */
export function petEventDraft(type: string, pet: LivePet, nowMs: number, data: JsonObject = {}): PetEventDraft {
  return { type, pet_time: formatZoned(pet.meta.world_ms, pet.meta.timezone), at: new Date(nowMs).toISOString(), data };
}
