// Request path: builds the state document and the reports that ride with it.
/** Builds the state document (docs/design.md §5) and the reports that ride with it. */
import { describeAway, express, simplify, toSystems, type AdvanceReport, type Lang } from '../../engine/index.js';
import type { LivePet } from './live-pet.js';
import { TICKS_PER_HOUR } from './time-model.js';
import type { LifeReport, StateDocument } from './types.js';
import { formatZoned } from './zoned-time.js';

/** An absence longer than this many simulated minutes earns a "while you were away" report. */
export const AWAY_REPORT_MIN_TICKS = 60;

const round2 = (value: number) => Math.round(value * 100) / 100;
const triple = (values: { energy: number; hunger: number; mood: number }) => ({
  energy: round2(values.energy),
  hunger: round2(values.hunger),
  mood: round2(values.mood),
});

/** The wire form of an engine report, with its one-sentence summary in `lang`. */
export function lifeReportOf(report: AdvanceReport, lang: Lang): LifeReport {
  return {
    ticks: report.ticks,
    hours: round2(report.ticks / TICKS_PER_HOUR),
    sleeps: report.sleeps,
    wakes: report.wakes,
    minutes_asleep: report.minutesAsleep,
    lowest_energy: round2(report.lowestEnergy),
    highest_hunger: round2(report.highestHunger),
    lowest_mood: round2(report.lowestMood),
    start: triple(report.start),
    end: triple(report.end),
    summary: describeAway(report, lang),
  };
}

/** The state document of `pet` as it stands, in `lang`. */
export function documentOf(pet: LivePet, version: number, lang: Lang): StateDocument {
  const { rhythm, energy, satiety, mood, stats } = toSystems(pet.state);
  const document: StateDocument = {
    device_id: pet.petId,
    pet_name: pet.meta.pet_name,
    internal_state: { rhythm, energy, satiety, mood },
    expression: express(pet.state, lang),
    simplified_state: simplify(pet.state),
    stats: { ...stats },
    pet_time: formatZoned(pet.meta.world_ms, pet.meta.timezone),
    timezone: pet.meta.timezone,
    last_updated: new Date(pet.meta.wall_ms).toISOString(),
    created_at: pet.meta.created_at,
    version,
  };
  if (pet.away !== null && pet.away.ticks > AWAY_REPORT_MIN_TICKS) document.away = lifeReportOf(pet.away, lang);
  return document;
}
