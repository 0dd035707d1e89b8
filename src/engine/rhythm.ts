/**
 * Body clock: Adler phase oscillator entrained by daylight (docs/life-model.md §Rhythm).
 * ψ = 2π(θ_i − θ_e) obeys dψ/dt = ν − K·ℓ·sin ψ (t in hours). Its exact flow over a segment of
 * constant light is linear in the half-angle vector v = (sin ψ/2, cos ψ/2): v(t) = [c·I + s·A]·v(0)
 * with A = ½[[−k, ν], [−ν, k]], k = K·ℓ. One formula for locking, drifting and darkness, no branch
 * at ψ = ±π. Phases are in cycles, [0, 1); θ_e comes from the absolute tick, never accumulated.
 */
import { modulo, TICKS_PER_DAY } from './time.js';

/** θ_e: fraction of the local day since midnight at `tick` for a UTC offset in minutes, [0, 1). */
export function externalPhase(tick: number, offsetMinutes: number): number {
  return modulo(tick + offsetMinutes, TICKS_PER_DAY) / TICKS_PER_DAY;
}

/** `x mod 1` in [0, 1) (never 1 after rounding). */
export function wrapUnit(x: number): number {
  const y = x - Math.floor(x);
  return y >= 1 ? 0 : y;
}

/** `x` wrapped to [−½, ½). */
export function wrapHalf(x: number): number {
  return x - Math.floor(x + 0.5);
}

/** Whether it is light at `localMinute` (dawn ≤ t < dusk; wraps past midnight; dawn = dusk is dark). */
export function isLight(localMinute: number, dawnMinute: number, duskMinute: number): boolean {
  if (dawnMinute < duskMinute) return localMinute >= dawnMinute && localMinute < duskMinute;
  if (dawnMinute > duskMinute) return localMinute >= dawnMinute || localMinute < duskMinute;
  return false;
}

/** Ticks from `localMinute` to the next dawn or dusk (1–1440), Infinity when it is always dark. */
export function ticksToLightChange(localMinute: number, dawnMinute: number, duskMinute: number): number {
  if (dawnMinute === duskMinute) return Infinity;
  const toDawn = modulo(dawnMinute - localMinute, TICKS_PER_DAY) || TICKS_PER_DAY;
  const toDusk = modulo(duskMinute - localMinute, TICKS_PER_DAY) || TICKS_PER_DAY;
  return Math.min(toDawn, toDusk);
}

/**
 * Precomputed flow of ψ over one segment of constant coupling: the start vector v0, w = A·v0,
 * and λ² = (k² − ν²)/4 with its root. Plain numbers only, so that evaluating it allocates nothing.
 */
export interface RhythmFlow {
  readonly v1: number;
  readonly v2: number;
  readonly w1: number;
  readonly w2: number;
  /** λ² in 1/h². */
  readonly lambda2: number;
  /** √|λ²| in 1/h. */
  readonly root: number;
}

/** The flow of ψ from `psi0` (rad) under coupling `coupling` = K·ℓ (rad/h) and detuning ν (rad/h). */
export function createRhythmFlow(psi0: number, coupling: number, nu: number): RhythmFlow {
  const v1 = Math.sin(psi0 / 2);
  const v2 = Math.cos(psi0 / 2);
  const lambda2 = (coupling * coupling - nu * nu) / 4;
  return {
    v1,
    v2,
    w1: 0.5 * (-coupling * v1 + nu * v2),
    w2: 0.5 * (-nu * v1 + coupling * v2),
    lambda2,
    root: Math.sqrt(Math.abs(lambda2)),
  };
}

/** ψ after `hours` of the flow, in (−2π, 2π] (callers wrap through θ_i). */
export function phaseGapAt(flow: RhythmFlow, hours: number): number {
  const x = flow.lambda2 * hours * hours;
  let c: number;
  let s: number;
  if (Math.abs(x) < 1e-8) {
    // Series of cosh/cos and sinh/sin: exact to rounding for tiny λt and continuous at λ² = 0.
    c = 1 + x / 2 + (x * x) / 24;
    s = hours * (1 + x / 6 + (x * x) / 120);
  } else if (x > 0) {
    const lt = flow.root * hours;
    c = Math.cosh(lt);
    s = Math.sinh(lt) / flow.root;
  } else {
    const mt = flow.root * hours;
    c = Math.cos(mt);
    s = Math.sin(mt) / flow.root;
  }
  return 2 * Math.atan2(c * flow.v1 + s * flow.w1, c * flow.v2 + s * flow.w2);
}

/** ψ = 2π(θ_i − θ_e) wrapped to [−π, π), rad. */
export function phaseGap(internalPhase: number, externalPhaseNow: number): number {
  return 2 * Math.PI * wrapHalf(internalPhase - externalPhaseNow);
}

/** θ_i = (θ_e + ψ/2π) mod 1, cycles. */
export function internalPhaseFrom(externalPhaseNow: number, psi: number): number {
  return wrapUnit(externalPhaseNow + psi / (2 * Math.PI));
}
