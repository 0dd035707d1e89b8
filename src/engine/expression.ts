/**
 * Expression: what the pet shows — pulse, colour, feeling, life box — and the simplified state
 * for simple clients (docs/design.md §3; field names as the seed's, docs/life-model.md §What the
 * original server did). Derived from
 * the vitals at the state's tick, never stored. Pure: the same state and language give the
 * same expression.
 *
 * Pulse (bpm, integer, clamped to 60–120):
 *   asleep: 60 + 0.06·energy                          (60–66; sleep lightens as energy returns)
 *   awake:  66 + 0.20·energy + 0.10·mood + 4·circadian_value
 *           + 0.08·max(0, hunger − 50)                 (hunger makes it restless, up to +4)
 *           + 8 if grumpy                              (current_state grumpy or just woken by play)
 *           + 16·(1 − age/30) for 30 min after play    (exertion, also when play woke it)
 * A fresh pet (energy ≈ 100, mood 50, afternoon) beats at ≈ 93, in the seed's observed 91–95.
 * Intensity level from the rate: < 67 faint, < 75 weak, < 83 medium, < 91 strong, else very
 * strong (the seed showed 极强 at 91–95); the symbol is one ● per level, ○ for the rest.
 *
 * Colour: the seed's per-state palette (M0.5 mock), plus its #FFD700 暖黄 warm yellow for an
 * idle pet in daylight with energy ≥ 80 (the seed's fresh daytime pet).
 */
import { feelingOf } from './feeling.js';
import { lifeBoxOf } from './life-box.js';
import type { LifeParams } from './params.js';
import { en } from './texts/en.js';
import { zh, type ColorKey, type Texts } from './texts/zh.js';
import type { Expression, Lang, LifeEvent, LifeState, SimplifiedState, Vitals } from './types.js';
import { vitalsOf } from './vitals.js';

const TEXTS: Readonly<Record<Lang, Texts>> = { zh, en };

export const PULSE_MIN = 60;
export const PULSE_MAX = 120;
/** Lowest rate of intensity levels 2–5 (level 1 is anything below 67). */
export const PULSE_LEVEL_THRESHOLDS = [67, 75, 83, 91] as const;
/** Play raises the pulse for this many ticks (minutes), fading linearly. */
export const EXERTION_TICKS = 30;
/** Energy from which an idle pet in daylight glows warm yellow. */
export const WARM_ENERGY = 80;

/** Seed palette (docs/life-model.md §What the original server did) by colour key. */
export const PALETTE: Readonly<Record<ColorKey, string>> = {
  sleep: '#4B0082',
  sleepy: '#9370DB',
  hungry: '#FF8C00',
  play: '#32CD32',
  idle: '#4169E1',
  bored: '#808080',
  grumpy: '#DC143C',
  warm: '#FFD700',
};

/** Pulse intensity level, 1 (faint) to 5 (very strong). */
export type PulseLevel = 1 | 2 | 3 | 4 | 5;

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Pulse in bpm, an integer in 60–120 (formula in the file header). */
export function pulseRateOf(vitals: Vitals, lastEvent: LifeEvent | null): number {
  const energy = clamp(vitals.energy, 0, 100);
  if (vitals.asleep) return Math.round(clamp(PULSE_MIN + 0.06 * energy, PULSE_MIN, PULSE_MAX));
  const mood = clamp(vitals.mood, 0, 100);
  const hunger = clamp(vitals.hunger, 0, 100);
  let rate = 66 + 0.2 * energy + 0.1 * mood + 4 * clamp(vitals.circadianValue, 0, 1) + 0.08 * Math.max(0, hunger - 50);
  if (vitals.currentState === 'grumpy' || vitals.grumpyAfterWaking) rate += 8;
  if (lastEvent !== null && (lastEvent.kind === 'played' || lastEvent.kind === 'woken_by_play')) {
    const age = vitals.tick - lastEvent.tick;
    if (age >= 0 && age < EXERTION_TICKS) rate += 16 * (1 - age / EXERTION_TICKS);
  }
  return Math.round(clamp(rate, PULSE_MIN, PULSE_MAX));
}

/** Intensity level of a pulse rate. */
export function pulseLevelOf(rate: number): PulseLevel {
  const [weak, medium, strong, veryStrong] = PULSE_LEVEL_THRESHOLDS;
  return rate >= veryStrong ? 5 : rate >= strong ? 4 : rate >= medium ? 3 : rate >= weak ? 2 : 1;
}

/** ● per level, ○ for the rest: level 3 → ●●●○○. */
export function pulseSymbolOf(level: PulseLevel): string {
  return '●'.repeat(level) + '○'.repeat(5 - level);
}

/** Palette entry for these vitals: the state's colour, warm yellow for a bright idle day. */
export function colorKeyOf(vitals: Vitals): ColorKey {
  if (vitals.currentState === 'idle' && vitals.light && vitals.energy >= WARM_ENERGY) return 'warm';
  return vitals.currentState;
}

/** The expression of these vitals; `lastEvent` is the state's most recent event, `petId` salts the wording. */
export function expressionOf(vitals: Vitals, lastEvent: LifeEvent | null, lang: Lang, petId = ''): Expression {
  const texts = TEXTS[lang];
  const rate = pulseRateOf(vitals, lastEvent);
  const level = pulseLevelOf(rate);
  const symbol = pulseSymbolOf(level);
  const color = colorKeyOf(vitals);
  return {
    pulse_rate: rate,
    pulse_symbol: symbol,
    pulse_intensity: texts.pulseIntensity[level - 1] ?? '',
    color_hex: PALETTE[color],
    color_name: texts.colorNames[color],
    feeling: feelingOf(vitals, lastEvent, lang, petId),
    life_box: lifeBoxOf(vitals, { rate, symbol }, lang),
  };
}

function round1(value: number): number {
  return Math.round(clamp(value, 0, 100) * 10) / 10;
}

/** Simplified state of these vitals: energy, hunger, mood to one decimal, and current_state. */
export function simplifiedStateOf(vitals: Vitals): SimplifiedState {
  return {
    energy: round1(vitals.energy),
    hunger: round1(vitals.hunger),
    mood: round1(vitals.mood),
    current_state: vitals.currentState,
  };
}

/**
 * What the pet expresses at its state's tick, in `lang` (Chinese by default, as the seed).
 * The feeling's wording is deterministic per pet (`petId`) and tick.
 */
export function express(state: LifeState, lang: Lang = 'zh', params?: LifeParams, petId = ''): Expression {
  return expressionOf(vitalsOf(state, params), state.lastEvent, lang, petId);
}

/** The seed's simplified_state at the state's tick. */
export function simplify(state: LifeState, params?: LifeParams): SimplifiedState {
  return simplifiedStateOf(vitalsOf(state, params));
}
