/**
 * One zod schema per stored record: the meta and each system, as toSystems (src/engine/systems.ts)
 * writes them and fromSystems reads them, with the same types and ranges, so that a loaded pet
 * is either usable or a CorruptStateError, never a TypeError further in. Every field is optional
 * except the meta's: the original Python server wrote only rhythm and energy, some of their
 * fields, and no meta, and fromSystems fills the gaps. Unknown fields are kept (loose objects):
 * the Python server's extras and fields added by later versions must not make a pet corrupt.
 * Pure: no I/O.
 */
import { z } from 'zod';
import { LIFE_EVENT_KINDS, type SystemName } from '../engine/types.js';

/** Unix ms within the range of a JS Date (beyond it, dates and ticks stop meaning anything). */
const unixMs = z.number().min(-8.64e15).max(8.64e15);
/** Unix seconds, likewise. */
const unixS = z.number().min(-8.64e12).max(8.64e12);
/** Any finite number (z.number() refuses NaN and ±Infinity; JSON cannot carry them anyway). */
const finite = z.number();
const share = z.number().min(0).max(1);
const percent = z.number().min(0).max(100);
const count = z.number().int().min(0);

export const META_SCHEMA = z.looseObject({
  version: z.number().int().min(0),
  pet_name: z.string(),
  timezone: z.string(),
  created_at: z.string(),
  world_ms: unixMs,
  wall_ms: unixMs,
  claim_hash: z.string().optional(),
  newborn: z.boolean().optional(),
  owners: z.array(z.string()).optional(),
  friends: z.record(z.string(), z.looseObject({ since: z.string(), familiarity: share, visited_ms: unixMs.nullable() })).optional(),
  outbox_seq: count.optional(),
  outbox: z
    .array(
      z.looseObject({
        seq: count,
        to: z.string(),
        kind: z.enum(['visit', 'befriend', 'unfriend']),
        at: z.string(),
        visit: z.looseObject({ id: z.string(), mood: finite, familiarity: share, visited_ms: unixMs, outcome: z.string() }).optional(),
      }),
    )
    .optional(),
  inbox: z.record(z.string(), count).optional(),
});

export const SYSTEM_SCHEMAS: Record<SystemName, z.ZodType> = {
  rhythm: z.looseObject({
    internal_phase: share.optional(),
    external_phase: finite.optional(),
    phase_difference: finite.optional(),
    last_calibration: unixS.optional(),
    last_update: unixS.optional(),
  }),
  energy: z.looseObject({
    energy: percent.optional(),
    consumption_rate: finite.optional(),
    recovery_rate: finite.optional(),
    circadian_value: finite.optional(),
    sleep_pressure: share.optional(),
    asleep: z.boolean().optional(),
    last_update: unixS.optional(),
  }),
  satiety: z.looseObject({
    satiety: share.optional(),
    hunger: percent.optional(),
    last_update: unixS.optional(),
  }),
  mood: z.looseObject({
    mood: percent.optional(),
    bond: share.optional(),
    neglected: z.boolean().optional(),
    last_interaction: unixS.optional(),
    woken_by_play: unixS.nullable().optional(),
    last_event: z
      .looseObject({ kind: z.enum(LIFE_EVENT_KINDS), at: unixS })
      .nullable()
      .optional(),
    last_update: unixS.optional(),
  }),
  stats: z.looseObject({
    feed: count.optional(),
    play: count.optional(),
    greet: count.optional(),
    visits: count.optional(),
  }),
};

/** The first problem zod found, as `field: message` (no stored value: messages reach logs only, but stay short). */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid';
  const where = issue.path.map(String).join('.');
  return where === '' ? issue.message : `${where}: ${issue.message}`;
}
