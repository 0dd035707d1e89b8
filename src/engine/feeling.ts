/**
 * The feeling sentence: time of day × energy × recent event (docs/design.md §3, expression).
 *
 * A sentence is three clauses: the time of day (from the local minute), the energy bucket
 * compared with what is usual at that hour ("傍晚渐近，但仍有充足的能量": high energy when
 * it is usually waning), and at most one extra clause — a recent event (within
 * `RECENT_EVENT_TICKS`) or else a lasting condition (hungry, grumpy, neglected, bored, playful).
 * Each clause is picked from ≥ 3 variants by a hash of (tick slot, clause key): the same state
 * always says the same thing, and the wording changes every `FEELING_SLOT_TICKS`.
 */
import { en } from './texts/en.js';
import { zh, type EnergyTone, type MoodColour, type Texts, type TimeOfDay } from './texts/zh.js';
import type { Lang, LifeEvent, LifeEventKind, Vitals } from './types.js';
import { HUNGRY_AT } from './vitals.js';

const TEXTS: Readonly<Record<Lang, Texts>> = { zh, en };

/** An event colours the feeling for this many ticks (minutes) after it happened. */
export const RECENT_EVENT_TICKS = 60;

/**
 * The wording is re-drawn every this many ticks: often enough to vary, seldom enough that a
 * client polling every few seconds does not see the sentence flicker.
 */
export const FEELING_SLOT_TICKS = 10;

/** Energy at or above this is "high"; in the entrained day that is waking until ≈ 17:00. */
export const HIGH_ENERGY = 60;
/** Energy below this is "low" (≈ 20:00 until bedtime). */
export const LOW_ENERGY = 30;

/** Start minute (local) of each time-of-day bucket, in order. */
const TIME_STARTS: readonly (readonly [number, TimeOfDay])[] = [
  [0, 'lateNight'],
  [5 * 60, 'dawn'],
  [7 * 60, 'morning'],
  [11 * 60, 'noon'],
  [13 * 60, 'afternoon'],
  [16 * 60, 'eveningApproaching'],
  [18 * 60, 'evening'],
  [21 * 60, 'night'],
];

export const TIMES_OF_DAY: readonly TimeOfDay[] = TIME_STARTS.map(([, time]) => time);

type EnergyRank = 0 | 1 | 2;

/**
 * What is usual at each time of day in the entrained day (docs/life-model.md §What the tests pin):
 * the range of energy ranks (0 low, 1 mid, 2 high) and whether the pet is usually asleep.
 */
const USUAL: Readonly<Record<TimeOfDay, { min: EnergyRank; max: EnergyRank; asleep: boolean }>> = {
  lateNight: { min: 0, max: 0, asleep: true },
  dawn: { min: 1, max: 2, asleep: true },
  morning: { min: 2, max: 2, asleep: false },
  noon: { min: 1, max: 2, asleep: false },
  afternoon: { min: 1, max: 2, asleep: false },
  eveningApproaching: { min: 1, max: 1, asleep: false },
  evening: { min: 0, max: 1, asleep: false },
  night: { min: 0, max: 0, asleep: true },
};

/** Events that happen to a sleeping pet; the others to an awake one. */
const ASLEEP_EVENTS: ReadonlySet<LifeEventKind> = new Set(['fed_asleep', 'played_asleep', 'greeted_asleep', 'fell_asleep']);

/** The extra clause of a feeling: a recent event or a lasting condition. */
export type FeelingExtra = { kind: 'event'; event: LifeEventKind } | { kind: 'colour'; colour: MoodColour };

/** Time-of-day bucket of a local minute (0–1439; other values wrap). */
export function timeOfDayOf(localMinute: number): TimeOfDay {
  const minute = ((Math.floor(localMinute) % 1440) + 1440) % 1440;
  let time: TimeOfDay = 'lateNight';
  for (const [start, bucket] of TIME_STARTS) if (minute >= start) time = bucket;
  return time;
}

/** Energy clause for these vitals at that time of day. */
export function energyToneOf(vitals: Vitals, time: TimeOfDay): EnergyTone {
  const usual = USUAL[time];
  if (vitals.asleep) return usual.asleep ? 'asleep' : 'asleepOdd';
  const rank: EnergyRank = vitals.energy >= HIGH_ENERGY ? 2 : vitals.energy >= LOW_ENERGY ? 1 : 0;
  if (rank === 2) return rank > usual.max ? 'highAbove' : 'high';
  if (rank === 0) return rank < usual.min ? 'lowBelow' : 'low';
  if (rank > usual.max) return 'midAbove';
  if (rank < usual.min) return 'midBelow';
  return 'mid';
}

/**
 * The event that still colours the feeling: the last event if it is under
 * `RECENT_EVENT_TICKS` old and fits the pet's present sleep state, else null.
 */
export function recentEventOf(vitals: Vitals, lastEvent: LifeEvent | null): LifeEventKind | null {
  if (lastEvent === null) return null;
  const age = vitals.tick - lastEvent.tick;
  if (age < 0 || age >= RECENT_EVENT_TICKS) return null;
  return ASLEEP_EVENTS.has(lastEvent.kind) === vitals.asleep ? lastEvent.kind : null;
}

/** Extra clause: a recent event first; else, awake, the most pressing lasting condition. */
export function feelingExtraOf(vitals: Vitals, lastEvent: LifeEvent | null): FeelingExtra | null {
  const event = recentEventOf(vitals, lastEvent);
  if (event !== null) return { kind: 'event', event };
  if (vitals.asleep) return null;
  if (vitals.currentState === 'hungry' || vitals.hunger >= HUNGRY_AT) return { kind: 'colour', colour: 'hungry' };
  if (vitals.currentState === 'grumpy') return { kind: 'colour', colour: 'grumpy' };
  if (vitals.neglected) return { kind: 'colour', colour: 'neglected' };
  if (vitals.currentState === 'bored') return { kind: 'colour', colour: 'bored' };
  if (vitals.currentState === 'play') return { kind: 'colour', colour: 'playful' };
  return null;
}

/**
 * The one-sentence feeling for these vitals, deterministic in (vitals, lastEvent, lang, petId):
 * the pet id salts the variant choice so two pets in the same situation word it differently.
 */
export function feelingOf(vitals: Vitals, lastEvent: LifeEvent | null, lang: Lang, petId = ''): string {
  const texts = TEXTS[lang];
  const slot = Math.floor(vitals.tick / FEELING_SLOT_TICKS);
  const time = timeOfDayOf(vitals.localMinute);
  const tone = energyToneOf(vitals, time);
  const extra = feelingExtraOf(vitals, lastEvent);
  let sentence =
    pick(texts.times[time], slot, `${petId}|time:${time}`) +
    texts.clauseSeparator +
    pick(texts.energy[tone], slot, `${petId}|energy:${tone}`);
  if (extra !== null) {
    const key = extra.kind === 'event' ? extra.event : extra.colour;
    const variants = extra.kind === 'event' ? texts.events[extra.event] : texts.colours[extra.colour];
    sentence += texts.extraSeparator + pick(variants, slot, `${petId}|extra:${key}`);
  }
  return sentence;
}

/** One of `variants`, chosen by a hash of (slot, salt); the salt decorrelates the clauses. */
export function pick(variants: readonly string[], slot: number, salt: string): string {
  return variants[hash32(slot, salt) % variants.length] ?? '';
}

/** FNV-1a over the salt, then the slot, finished with murmur3's fmix32. */
function hash32(slot: number, salt: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < salt.length; i++) h = Math.imul(h ^ salt.charCodeAt(i), 0x01000193);
  // Two 32-bit halves, so slots beyond 2^31 (far-future ticks) still differ.
  h = Math.imul(h ^ (slot | 0), 0x01000193);
  h = Math.imul(h ^ (Math.floor(slot / 0x1_0000_0000) | 0), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
