/**
 * Energy: Borbély's two-process model gated by the internal clock (docs/life-model.md §Energy).
 * S rises awake (τ_w) and falls asleep (τ_s), exact exponentials; C = cos 2π(θ_i − θ_C); the pet
 * falls asleep when S ≥ H = H₀⁺ + a·C and wakes when S ≤ L = H₀⁻ + a·C, tested once at the end
 * of each tick. The first tick of a segment where the test holds is found exactly on the grid
 * with a safe step from a bound on |g″| (docs/life-model.md §How `advance` finds events).
 * Time t in hours.
 */
import type { ModelConstants } from './params.js';
import { createRhythmFlow, externalPhase, internalPhaseFrom, phaseGap, phaseGapAt, type RhythmFlow } from './rhythm.js';
import { TICKS_PER_HOUR } from './time.js';

const TWO_PI = 2 * Math.PI;

/** C = cos 2π(θ_i − θ_C): +1 at the internal circadian peak, −1 twelve hours later. */
export function circadianDrive(internalPhase: number, peakPhase: number): number {
  return Math.cos(TWO_PI * (internalPhase - peakPhase));
}

/** S after `hours` in one mode from S₀: 1 − (1 − S₀)e^(−t/τ_w) awake, S₀e^(−t/τ_s) asleep. */
export function pressureAfter(pressure: number, asleep: boolean, hours: number, tauWakeHours: number, tauSleepHours: number): number {
  return asleep ? pressure * Math.exp(-hours / tauSleepHours) : 1 - (1 - pressure) * Math.exp(-hours / tauWakeHours);
}

/**
 * One segment of constant mode (light, asleep, UTC offset) seen by the sleep/wake test. `probe`
 * fills the scratch fields with the closed-form state at an integer offset from the start; the
 * advance loop reads the end state from the same call, so the tested and stored numbers agree.
 */
export interface SleepWakeFlow {
  readonly constants: ModelConstants;
  readonly startTick: number;
  readonly offsetMinutes: number;
  readonly asleep: boolean;
  readonly startPressure: number;
  /** K·ℓ, rad/h. */
  readonly coupling: number;
  readonly rhythm: RhythmFlow;
  /** Bound on |g″| over the whole segment, 1/h². */
  readonly curvatureBound: number;
  /** Scratch, written by probe(): θ_i, S, ψ, g and g′ (per hour) at the probed offset. */
  internalPhase: number;
  pressure: number;
  psi: number;
  g: number;
  slope: number;
  /** Number of probes so far (cost measure for benchmarks). */
  probes: number;
}

/** Sets up the flow of a segment starting at `startTick` from θ_i, S and the mode. */
export function createSleepWakeFlow(
  constants: ModelConstants,
  startTick: number,
  offsetMinutes: number,
  internalPhase: number,
  pressure: number,
  asleep: boolean,
  light: boolean,
): SleepWakeFlow {
  const p = constants.params;
  const coupling = light ? p.couplingPerHour : 0;
  const psi0 = phaseGap(internalPhase, externalPhase(startTick, offsetMinutes));
  const absNu = Math.abs(constants.nu);
  const thetaRate = constants.omegaE + absNu + coupling;
  // |C″| ≤ Θ′² + |Θ″| with |Θ′| ≤ ω_e + |ν| + k and |Θ″| ≤ k(|ν| + k); |S″| is largest at the start.
  const pressureCurvature = asleep ? pressure / (p.tauSleepHours * p.tauSleepHours) : (1 - pressure) / (p.tauWakeHours * p.tauWakeHours);
  return {
    constants,
    startTick,
    offsetMinutes,
    asleep,
    startPressure: pressure,
    coupling,
    rhythm: createRhythmFlow(psi0, coupling, constants.nu),
    curvatureBound: p.circadianAmplitude * (thetaRate * thetaRate + coupling * (absNu + coupling)) + pressureCurvature,
    internalPhase,
    pressure,
    psi: psi0,
    g: 0,
    slope: 0,
    probes: 0,
  };
}

/**
 * Evaluates the segment at offset `ticks` (closed forms from the segment start) and stores θ_i,
 * S, ψ, g = S − H (awake) or L − S (asleep) and g′ in the flow's scratch fields.
 */
export function probe(flow: SleepWakeFlow, ticks: number): void {
  const { constants } = flow;
  const p = constants.params;
  const hours = ticks / TICKS_PER_HOUR;
  const psi = phaseGapAt(flow.rhythm, hours);
  const internalPhase = internalPhaseFrom(externalPhase(flow.startTick + ticks, flow.offsetMinutes), psi);
  const angle = TWO_PI * (internalPhase - p.circadianPeakPhase);
  const drive = Math.cos(angle);
  const pressure = pressureAfter(flow.startPressure, flow.asleep, hours, p.tauWakeHours, p.tauSleepHours);
  // dC/dt = −sin Θ · dΘ/dt with dΘ/dt = ω_e + dψ/dt.
  const driveSlope = -Math.sin(angle) * (constants.omegaE + constants.nu - flow.coupling * Math.sin(psi));
  const amplitude = p.circadianAmplitude;
  if (flow.asleep) {
    flow.g = p.wakeThreshold + amplitude * drive - pressure;
    flow.slope = amplitude * driveSlope + pressure / p.tauSleepHours;
  } else {
    flow.g = pressure - p.sleepThreshold - amplitude * drive;
    flow.slope = (1 - pressure) / p.tauWakeHours - amplitude * driveSlope;
  }
  flow.internalPhase = internalPhase;
  flow.pressure = pressure;
  flow.psi = psi;
  flow.probes++;
}

/**
 * Hours before which g cannot reach 0 from g < 0, given g′ and |g″| ≤ M₂: the positive root of
 * g + g′t + M₂t²/2, written to avoid cancellation; Infinity when g can never rise to 0.
 */
function safeHours(g: number, slope: number, curvatureBound: number): number {
  const root = Math.sqrt(slope * slope - 2 * curvatureBound * g);
  if (slope > 0) return (-2 * g) / (slope + root);
  return curvatureBound > 0 ? (root - slope) / curvatureBound : Infinity;
}

/**
 * The first offset j in [1, limit] at whose tick end the sleep/wake test holds, or 0 when it does
 * not hold anywhere in the segment. After a hit, the flow's scratch holds the state at j.
 */
export function findFlip(flow: SleepWakeFlow, limit: number): number {
  if (limit < 1) return 0;
  const p = flow.constants.params;
  // S is monotone in a segment and the thresholds stay within ±a: most segments end here.
  const endPressure = pressureAfter(flow.startPressure, flow.asleep, limit / TICKS_PER_HOUR, p.tauWakeHours, p.tauSleepHours);
  if (flow.asleep ? endPressure > p.wakeThreshold + p.circadianAmplitude : endPressure < p.sleepThreshold - p.circadianAmplitude) {
    return 0;
  }
  probe(flow, 0);
  // The segment start itself is never tested (an interaction may have pushed S over H there).
  let candidate = flow.g >= 0 ? 1 : nextCandidate(flow, 0);
  while (candidate <= limit) {
    probe(flow, candidate);
    if (flow.g >= 0) return candidate;
    candidate = nextCandidate(flow, candidate);
  }
  return 0;
}

function nextCandidate(flow: SleepWakeFlow, at: number): number {
  const hours = safeHours(flow.g, flow.slope, flow.curvatureBound);
  // The factor guards the floor against rounding of t* right at an integer.
  return at + Math.max(1, Math.floor(hours * TICKS_PER_HOUR * (1 - 1e-9)));
}
