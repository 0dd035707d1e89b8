// Request path: the state document and report types the service answers with.
/**
 * What the service answers: the state document of docs/design.md §5 (snake_case, as on the wire) and
 * the reports that ride along with it.
 */
import type {
  Action,
  EnergySystem,
  Expression,
  InteractionStats,
  LifeEventKind,
  MoodSystem,
  RhythmSystem,
  SatietySystem,
  SimplifiedState,
} from '../../engine/index.js';

/** What happened over an interval of the pet's life (an away period or a catch-up). */
export interface LifeReport {
  /** Simulated minutes covered. */
  ticks: number;
  /** ticks / 60. */
  hours: number;
  sleeps: number;
  wakes: number;
  minutes_asleep: number;
  /** Lowest energy seen, 0–100. */
  lowest_energy: number;
  /** Highest hunger seen, 0–100. */
  highest_hunger: number;
  /** Lowest mood seen, 0–100. */
  lowest_mood: number;
  start: { energy: number; hunger: number; mood: number };
  end: { energy: number; hunger: number; mood: number };
  /** One sentence: what happened, in the request's language. */
  summary: string;
}

/** The catch-up answer: the report plus the requested hours and the time the simulation took. */
export interface CatchupReport extends LifeReport {
  /** Hours requested. */
  requested_hours: number;
  /** Wall time spent simulating, ms. */
  took_ms: number;
}

/** What an interaction did. */
export interface InteractionReport {
  action: Action;
  /** The event recorded (e.g. `fed_full` when the pet was already full). */
  event: LifeEventKind;
}

/** The state document (docs/design.md §5). */
export interface StateDocument {
  device_id: string;
  pet_name: string;
  /** The seed's systems as stored (rhythm, energy, satiety, mood). */
  internal_state: { rhythm: RhythmSystem; energy: EnergySystem; satiety: SatietySystem; mood: MoodSystem };
  expression: Expression;
  simplified_state: SimplifiedState;
  /** Lifetime interaction counts. */
  stats: InteractionStats;
  /** The pet's own world clock, ISO 8601 in its timezone. */
  pet_time: string;
  /** IANA timezone of the pet's day. */
  timezone: string;
  /** Wall-clock instant the state was computed for, ISO 8601 (UTC). */
  last_updated: string;
  /** Wall-clock instant the pet (its current life) was created, ISO 8601. */
  created_at: string;
  /** Stored version; +1 on every save. */
  version: number;
  /** Present when the pet lived more than an hour since the previous request. */
  away?: LifeReport;
  /** Present on interact answers. */
  interaction?: InteractionReport;
  /** Present on catch-up answers. */
  catchup?: CatchupReport;
}

/** One sample of a forecast. */
export interface ForecastPoint {
  /** ISO 8601 in the pet's timezone. */
  time: string;
  tick: number;
  energy: number;
  hunger: number;
  mood: number;
  asleep: boolean;
  circadian_value: number;
  current_state: SimplifiedState['current_state'];
}

/** The pet's next hours, simulated without saving anything. */
export interface Forecast {
  device_id: string;
  timezone: string;
  /** First point's time (the pet's now). */
  from: string;
  hours: number;
  step_minutes: number;
  points: ForecastPoint[];
}

/** Every service answer says how many storage round trips it took (for logs and benchmarks). */
export interface Answer<T> {
  value: T;
  /** Storage round trips made (loads + saves, retries included). */
  roundTrips: number;
  /** Compare-and-set attempts (1 without conflicts). */
  attempts: number;
}
