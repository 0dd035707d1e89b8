/**
 * Types of the life engine: the pet's state, the interactions, what advancing reports and what
 * the pet expresses. The engine is pure: every function takes a state and returns a new one.
 * Units: 1 tick = 1 simulated minute; ticks are absolute minutes since the Unix epoch on the
 * pet's own world clock (so `tick * 60_000` is a Unix time in ms). See docs/life-model.md.
 */

export const ACTIONS = ['feed', 'play', 'greet'] as const;
/** An interaction a client can apply to a pet. */
export type Action = (typeof ACTIONS)[number];

/** Whether `value` is one of ACTIONS: the one action check (the engine's, and every input layer's through rules.ts). */
export function isAction(value: unknown): value is Action {
  return typeof value === 'string' && (ACTIONS as readonly string[]).includes(value);
}

export const LANGS = ['zh', 'en'] as const;
/** Language of the generated texts; Chinese is the default, as in the seed. */
export type Lang = (typeof LANGS)[number];

/** Longest timezone name the engine looks up (the longest in the tz database has 32 characters). */
export const TIMEZONE_MAX_LENGTH = 64;

export const CURRENT_STATES = ['sleep', 'sleepy', 'hungry', 'play', 'idle', 'bored', 'grumpy'] as const;
/** The seven states simple clients show (seed's `current_state`). */
export type CurrentState = (typeof CURRENT_STATES)[number];

/** Something that happened to the pet, kept as the most recent event for the feeling sentence. */
export const LIFE_EVENT_KINDS = [
  'fell_asleep',
  'woke_up',
  'fed',
  'fed_full',
  'fed_asleep',
  'played',
  'played_tired',
  'woken_by_play',
  'played_asleep',
  'greeted',
  'greeted_asleep',
] as const;
export type LifeEventKind = (typeof LIFE_EVENT_KINDS)[number];

export interface LifeEvent {
  kind: LifeEventKind;
  /** Absolute tick at which it happened. */
  tick: number;
}

/**
 * What advancing reports: sleep onsets, wakings and hunger crossings (`got_hungry`: hunger
 * reaches HUNGRY_AT from below). A hunger crossing is news, not the pet's last event: it never
 * becomes `lastEvent`.
 */
export const ADVANCE_EVENT_KINDS = ['fell_asleep', 'woke_up', 'got_hungry'] as const;
export type AdvanceEventKind = (typeof ADVANCE_EVENT_KINDS)[number];

export interface AdvanceEvent {
  kind: AdvanceEventKind;
  /** Absolute tick at whose start the change is first seen (the end of the tick that made it). */
  tick: number;
}

/** Lifetime interaction counts; an acknowledged interaction is counted exactly once. */
/**
 * Lifetime interaction counts, and `visits`: visits the pet took part in, made or received
 * (docs/design.md §8; present once it has taken part in one, so older documents stay as they were).
 */
export type InteractionStats = Record<Action, number> & { visits?: number };

/**
 * The complete state of one pet. Everything else (energy 0–100, hunger, external phase,
 * expression…) is derived from it.
 */
export interface LifeState {
  /** Absolute tick the state is at (minutes since the Unix epoch, pet's world clock). */
  tick: number;
  /** IANA timezone of the pet's external day (dawn, dusk, local time). */
  timezone: string;
  /** θ_i: internal body-clock phase in cycles, [0, 1); 0.5 = subjective noon. */
  internalPhase: number;
  /** S: homeostatic sleep pressure, [0, 1]. */
  sleepPressure: number;
  /** σ: whether the pet is asleep during the next tick. */
  asleep: boolean;
  /** F: satiety, [0, 1]; hunger = 100·(1 − F). */
  satiety: number;
  /** B: bond with the owner, [0, 1]; grows with care, fades only under neglect. */
  bond: number;
  /** M: mood, [0, 100]. */
  mood: number;
  /** Tick of the last interaction of any kind (neglect starts 720 ticks after it). */
  lastInteractionTick: number;
  /** Tick of the last dawn: the last time daylight re-set the clock. */
  lastCalibrationTick: number;
  /** Tick at which play woke the pet (it is grumpy for 30 min after), or null. */
  wokenByPlayTick: number | null;
  /** Most recent event (sleep, waking, interaction), or null for a new pet. */
  lastEvent: LifeEvent | null;
  /** Lifetime interaction counts. */
  stats: InteractionStats;
}

/** Quantities derived from a state at its tick (what the seed's fields and the expression show). */
export interface Vitals {
  tick: number;
  /** Minutes since local midnight in the pet's timezone, 0–1439. */
  localMinute: number;
  /** UTC offset of the pet's timezone at this tick, in minutes. */
  utcOffsetMinutes: number;
  /** θ_e: fraction of the local day since midnight, [0, 1). */
  externalPhase: number;
  /** θ_i, [0, 1). */
  internalPhase: number;
  /** ((θ_e − θ_i + ½) mod 1) − ½; > 0 means the body clock is behind local time. */
  phaseDifference: number;
  /** (1 + C)/2, [0, 1]. */
  circadianValue: number;
  sleepPressure: number;
  asleep: boolean;
  /** 0–100. */
  energy: number;
  /** Energy units per hour spent while awake (0 asleep). */
  consumptionRate: number;
  /** Energy units per hour regained while asleep (0 awake). */
  recoveryRate: number;
  /** 0–100. */
  hunger: number;
  /** 0–100. */
  mood: number;
  bond: number;
  /** 12 h or more since the last interaction. */
  neglected: boolean;
  /** Daylight at this tick (dawn ≤ local time < dusk). */
  light: boolean;
  /** Play woke the pet less than 30 min ago. */
  grumpyAfterWaking: boolean;
  currentState: CurrentState;
}

/** What happened while advancing over an interval (the API's catch-up answer). */
export interface AdvanceReport {
  fromTick: number;
  toTick: number;
  /** toTick − fromTick. */
  ticks: number;
  /** Sleep onsets in the interval. */
  sleeps: number;
  /** Wakings in the interval. */
  wakes: number;
  /** Hunger crossings (got_hungry) in the interval. */
  hungers: number;
  /** Minutes spent asleep in the interval. */
  minutesAsleep: number;
  /** Lowest energy (0–100) seen at the interval's segment boundaries and events. */
  lowestEnergy: number;
  /** Highest hunger (0–100) seen in the interval. */
  highestHunger: number;
  /** Lowest mood (0–100) seen in the interval. */
  lowestMood: number;
  /** Energy, hunger, mood at the start of the interval. */
  start: { energy: number; hunger: number; mood: number };
  /** Energy, hunger, mood at the end of the interval. */
  end: { energy: number; hunger: number; mood: number };
  /** Sleep onsets, wakings and hunger crossings, oldest first (at most the last 64). */
  events: AdvanceEvent[];
  /** Number of closed-form segments the interval took (cost measure). */
  segments: number;
}

/** The result of advancing a state. */
export interface AdvanceResult {
  state: LifeState;
  report: AdvanceReport;
}

/** The result of an interaction: the new state and what the interaction did. */
export interface InteractionResult {
  state: LifeState;
  action: Action;
  /** The event recorded (e.g. `fed_full` when the pet was already full). */
  event: LifeEvent;
}

/** Seed's expression block (field names as on the wire). */
export interface Expression {
  /** Beats per minute, 60–120. */
  pulse_rate: number;
  /** One to five dots (●/○). */
  pulse_symbol: string;
  /** One of five levels (zh: 微弱 弱 中 强 极强; en: faint weak medium strong very strong). */
  pulse_intensity: string;
  /** `#RRGGBB`. */
  color_hex: string;
  color_name: string;
  /** One sentence: time of day × energy × recent event. */
  feeling: string;
  /** Multi-line text art. */
  life_box: string;
}

/** Seed's simplified_state (field names as on the wire). */
export interface SimplifiedState {
  energy: number;
  hunger: number;
  mood: number;
  current_state: CurrentState;
}

/*
 * Stored form: one JSON object per system, with the seed's snake_case field names, so that
 * `life_<petId>:rhythm` and `life_<petId>:energy` read like the original server's values.
 * Derived fields (external_phase, energy, rates, hunger…) are written for readers and
 * ignored on load; `last_update` and `last_calibration` are Unix seconds as in the seed.
 */

export const SYSTEM_NAMES = ['rhythm', 'energy', 'satiety', 'mood', 'stats'] as const;
export type SystemName = (typeof SYSTEM_NAMES)[number];

export interface RhythmSystem {
  internal_phase: number;
  external_phase: number;
  phase_difference: number;
  /** Unix seconds of the last dawn. */
  last_calibration: number;
  /** Unix seconds (pet world clock) the state is at. */
  last_update: number;
}

export interface EnergySystem {
  energy: number;
  consumption_rate: number;
  recovery_rate: number;
  circadian_value: number;
  sleep_pressure: number;
  asleep: boolean;
  last_update: number;
}

export interface SatietySystem {
  satiety: number;
  hunger: number;
  last_update: number;
}

export interface MoodSystem {
  mood: number;
  bond: number;
  neglected: boolean;
  /** Unix seconds of the last interaction. */
  last_interaction: number;
  /** Unix seconds at which play woke the pet, or null. */
  woken_by_play: number | null;
  /** Most recent event: kind and Unix seconds. */
  last_event: { kind: LifeEventKind; at: number } | null;
  last_update: number;
}

export type StatsSystem = InteractionStats;

export interface Systems {
  rhythm: RhythmSystem;
  energy: EnergySystem;
  satiety: SatietySystem;
  mood: MoodSystem;
  stats: StatsSystem;
}
