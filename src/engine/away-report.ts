/**
 * The "while you were away" sentence (docs/design.md §2): one line summing up an advance report —
 * how long, how the pet slept, how low its energy went, whether it got hungry, how its mood
 * moved. Numbers are rounded to integers; a change under `NOTABLE_CHANGE` points is not news.
 */
import { en } from './texts/en.js';
import { zh, type Texts } from './texts/zh.js';
import type { AdvanceReport, Lang } from './types.js';
import { HUNGRY_AT } from './vitals.js';

const TEXTS: Readonly<Record<Lang, Texts>> = { zh, en };

/** Points (0–100 scale) a value must move before the sentence mentions it. */
export const NOTABLE_CHANGE = 5;

/** The report as one sentence, e.g. "While you were away (1 day 2 h): slept twice, …". */
export function describeAway(report: AdvanceReport, lang: Lang = 'zh'): string {
  const { away } = TEXTS[lang];
  const ticks = Math.max(0, Math.round(report.ticks));
  const duration = away.duration(Math.floor(ticks / 1440), Math.floor((ticks % 1440) / 60), ticks % 60);
  const { start, end } = report;
  const clauses: string[] = [];

  if (report.sleeps > 0) clauses.push(away.slept(report.sleeps));
  else if (report.wakes > 0) clauses.push(away.wokeUp);
  else if (report.minutesAsleep > 0) clauses.push(away.sleptThrough);
  else clauses.push(away.stayedAwake);

  const lowestEnergy = Math.round(report.lowestEnergy);
  // Energy is 0 at every sleep onset by definition, so after a sleep its lowest is no news.
  if (report.sleeps > 0) clauses.push(away.energyNow(Math.round(end.energy)));
  else if (report.lowestEnergy <= start.energy - NOTABLE_CHANGE) clauses.push(away.energyFell(lowestEnergy));
  else if (end.energy >= start.energy + NOTABLE_CHANGE) clauses.push(away.energyRose(Math.round(end.energy)));
  else clauses.push(away.energyHeld(Math.round(end.energy)));

  const highestHunger = Math.round(report.highestHunger);
  if (report.highestHunger >= HUNGRY_AT) {
    clauses.push(start.hunger >= HUNGRY_AT ? away.stayedHungry(highestHunger) : away.gotHungry(highestHunger));
  } else if (report.highestHunger >= start.hunger + NOTABLE_CHANGE) {
    clauses.push(away.hungerRose(highestHunger));
  }

  if (report.lowestMood <= start.mood - NOTABLE_CHANGE) clauses.push(away.moodDipped(Math.round(report.lowestMood)));
  else if (end.mood >= start.mood + NOTABLE_CHANGE) clauses.push(away.moodRose(Math.round(end.mood)));

  return away.sentence(duration, away.list(clauses));
}
