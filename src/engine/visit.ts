/**
 * A visit between two friends (docs/life-model.md §Visits): what it does to each pet,
 * from both pets' states at the visit minute and the pair's familiarity. Pure and deterministic:
 * the caller passes the states, the familiarity as last stored and the days since it was stored.
 *
 *   φ  = φ_stored · 2^(−days / halfLife)                 familiarity fades without visits
 *   both awake:   g = gain · (1 + boost·φ)
 *                 visitor +g·h(hunger), host +g,  φ' = φ + growth·(1 − φ)
 *   host asleep:  host unchanged (not woken), visitor −disappointment, φ' = φ
 *   visitor asleep (carried over by its owner): nothing changes for either, φ' = φ
 *   h(hunger) = 1 below hungerFrom, falling linearly to hungryShare at hunger 100.
 */
import { DEFAULT_PARAMS, DEFAULT_VISIT_PARAMS, type LifeParams, type VisitParams } from './params.js';
import type { LifeState } from './types.js';
import { vitalsOf } from './vitals.js';

export type VisitOutcome = 'enjoyed' | 'friend_asleep' | 'visitor_asleep';

export interface VisitEffect {
  outcome: VisitOutcome;
  /** Mood points added to the visitor (negative: disappointed). */
  visitorMood: number;
  /** Mood points added to the friend visited. */
  friendMood: number;
  /** The pair's familiarity after the visit, [0, 1]. */
  familiarity: number;
}

const clamp = (value: number, low: number, high: number): number => Math.min(high, Math.max(low, value));
const round4 = (value: number): number => Math.round(value * 10_000) / 10_000;

/** The pair's familiarity `days` after it was stored at `stored` (halves every halfLife days). */
export function fadedFamiliarity(stored: number, days: number, params: VisitParams = DEFAULT_VISIT_PARAMS): number {
  const elapsed = Math.max(0, Number.isFinite(days) ? days : 0);
  return clamp(stored, 0, 1) * 2 ** (-elapsed / params.familiarityHalfLifeDays);
}

/** Share of the gain a visitor with `hunger` (0–100) enjoys. */
export function hungerShare(hunger: number, params: VisitParams = DEFAULT_VISIT_PARAMS): number {
  if (hunger <= params.hungerFrom) return 1;
  const over = clamp((hunger - params.hungerFrom) / (100 - params.hungerFrom), 0, 1);
  return 1 - over * (1 - params.hungryShare);
}

/**
 * What a visit of `visitor` to `friend` does, both states at the visit minute; `familiarity` as
 * stored `daysSince` days ago (0 for a pair that never met).
 */
export function visitEffect(
  visitor: LifeState,
  friend: LifeState,
  familiarity: number,
  daysSince: number,
  params: VisitParams = DEFAULT_VISIT_PARAMS,
  lifeParams: LifeParams = DEFAULT_PARAMS,
): VisitEffect {
  const phi = fadedFamiliarity(familiarity, daysSince, params);
  if (visitor.asleep) return { outcome: 'visitor_asleep', visitorMood: 0, friendMood: 0, familiarity: round4(phi) };
  if (friend.asleep) {
    return { outcome: 'friend_asleep', visitorMood: -params.disappointment, friendMood: 0, familiarity: round4(phi) };
  }
  const gain = params.moodGain * (1 + params.familiarityBoost * phi);
  const hunger = vitalsOf(visitor, lifeParams).hunger;
  return {
    outcome: 'enjoyed',
    visitorMood: round4(gain * hungerShare(hunger, params)),
    friendMood: round4(gain),
    familiarity: round4(phi + params.familiarityGrowth * (1 - phi)),
  };
}

/** `state` after a visit: its mood moved by `moodDelta` (kept in 0–100) and the visit counted. */
export function applyVisit(state: LifeState, moodDelta: number): LifeState {
  return {
    ...state,
    mood: clamp(state.mood + moodDelta, 0, 100),
    stats: { ...state.stats, visits: (state.stats.visits ?? 0) + 1 },
  };
}
