/**
 * Satiety, bond and mood between events, all in closed form (docs/life-model.md §Needs).
 * F(t) = F₀e^(−t/τ_F); B constant unless neglected, then B₀e^(−t/τ_B); mood relaxes towards
 * M* = 100[m₀ + w_r(1 − S) + w_f·F + w_b·B] − n·P(1 − B) with time constant τ_M, and because M* is
 * a constant plus exponentials, M(t) is exact too (Φ below). t in hours, F and B in [0, 1],
 * M in [0, 100].
 */
import type { ModelConstants } from './params.js';
import { TICKS_PER_HOUR } from './time.js';

/** Hunger 0–100 as shown and stored: 100·(1 − F). */
export function hungerOf(satiety: number): number {
  return 100 * (1 - satiety);
}

/** Satiety F from a stored hunger (the inverse of hungerOf), for states written by the seed. */
export function satietyOfHunger(hunger: number): number {
  return 1 - hunger / 100;
}

/** Satiety after `hours` from F₀: halves every 10 h awake, 20 h asleep (defaults). */
export function satietyAfter(satiety: number, asleep: boolean, hours: number, constants: ModelConstants): number {
  return satiety * Math.exp(-hours / (asleep ? constants.tauSatietyAsleep : constants.tauSatietyAwake));
}

/**
 * The first offset j in [1, limit] at whose tick end hunger ≥ `threshold`, from satiety F₀ in one
 * mode (F(t) = F₀e^(−t/τ_F)), or 0 when hunger is already there at the start or does not get there
 * within the segment. Closed form: j = ⌈60·τ_F·ln(F₀/F_h)⌉ with F_h = 1 − threshold/100, then
 * checked against the same satietyAfter the step uses, so the tested and stored numbers agree.
 */
export function ticksToHunger(satiety: number, asleep: boolean, limit: number, threshold: number, constants: ModelConstants): number {
  if (limit < 1 || hungerOf(satiety) >= threshold) return 0;
  const target = satietyOfHunger(threshold);
  if (!(target > 0)) return 0;
  const tau = asleep ? constants.tauSatietyAsleep : constants.tauSatietyAwake;
  const hungerAt = (j: number) => hungerOf(satietyAfter(satiety, asleep, j / TICKS_PER_HOUR, constants));
  const estimate = Math.ceil(tau * TICKS_PER_HOUR * Math.log(satiety / target));
  if (!Number.isFinite(estimate)) return 0;
  let j = Math.max(1, estimate);
  if (j > limit + 1) return 0;
  // Rounding of the logarithm at an integer: step to the first j that the step's own formula calls hungry.
  while (j > 1 && hungerAt(j - 1) >= threshold) j--;
  while (j <= limit && hungerAt(j) < threshold) j++;
  return j <= limit ? j : 0;
}

/** Bond after `hours` from B₀: constant when cared for, fading with τ_B while neglected. */
export function bondAfter(bond: number, neglected: boolean, hours: number, constants: ModelConstants): number {
  return neglected ? bond * Math.exp(-hours / constants.params.bondTauNeglectedHours) : bond;
}

/** M* (0–100) for sleep pressure S, satiety F, bond B and neglect. */
export function moodTarget(pressure: number, satiety: number, bond: number, neglected: boolean, constants: ModelConstants): number {
  const p = constants.params;
  const target = 100 * (p.moodBase + p.moodRestWeight * (1 - pressure) + p.moodSatietyWeight * satiety + p.moodBondWeight * bond);
  return neglected ? target - p.neglectPenalty * (1 - bond) : target;
}

/**
 * Φ(t; τ_j) = ∫₀ᵗ e^(−(t−u)/τ_M) e^(−u/τ_j) du / τ_M: the response of mood to a target term
 * decaying with τ_j. Written with expm1 so that it stays exact when τ_j is close to τ_M.
 */
export function moodResponse(hours: number, tauMood: number, tauTerm: number): number {
  const rate = 1 / tauMood - 1 / tauTerm;
  const decay = Math.exp(-hours / tauMood);
  if (rate === 0) return (hours / tauMood) * decay;
  return (decay * Math.expm1(rate * hours)) / (tauMood * rate);
}

/**
 * Mood after `hours` in one mode from M₀, with S₀, F₀, B₀ the values at the segment start:
 * M(t) = c₀ + (M₀ − c₀)e^(−t/τ_M) + Σ c_j Φ(t; τ_j), clamped to [0, 100] against rounding.
 */
export function moodAfter(
  mood: number,
  pressure: number,
  satiety: number,
  bond: number,
  asleep: boolean,
  neglected: boolean,
  hours: number,
  constants: ModelConstants,
): number {
  const p = constants.params;
  const tauMood = neglected ? p.moodTauNeglectedHours : p.moodTauHours;
  let constant = 100 * p.moodBase;
  let transient = 0;
  // Rest term: 100w_r(1 − S); awake 1 − S decays with τ_w, asleep S decays with τ_s.
  if (asleep) {
    constant += 100 * p.moodRestWeight;
    transient -= 100 * p.moodRestWeight * pressure * moodResponse(hours, tauMood, p.tauSleepHours);
  } else {
    transient += 100 * p.moodRestWeight * (1 - pressure) * moodResponse(hours, tauMood, p.tauWakeHours);
  }
  const tauSatiety = asleep ? constants.tauSatietyAsleep : constants.tauSatietyAwake;
  transient += 100 * p.moodSatietyWeight * satiety * moodResponse(hours, tauMood, tauSatiety);
  // Bond term: 100w_b·B − n·P(1 − B); under neglect B decays, so its part is a transient.
  if (neglected) {
    constant -= p.neglectPenalty;
    transient += (100 * p.moodBondWeight + p.neglectPenalty) * bond * moodResponse(hours, tauMood, p.bondTauNeglectedHours);
  } else {
    constant += 100 * p.moodBondWeight * bond;
  }
  const next = constant + (mood - constant) * Math.exp(-hours / tauMood) + transient;
  return Math.min(100, Math.max(0, next));
}
