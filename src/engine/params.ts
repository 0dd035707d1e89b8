/**
 * Parameters of the life model (docs/life-model.md §Parameters) and the per-parameter-set
 * constants the closed forms need. Hours inside formulas, ticks (minutes) on the grid.
 * Invariants checked here keep every pet from being stuck awake, asleep or out of phase.
 */

/** Tunable constants of the life model. Every field is required; start from DEFAULT_PARAMS. */
export interface LifeParams {
  /** τ_i: free-running period of the body clock, hours (human 24.18 h, Czeisler 1999). @default 24.2 */
  readonly internalPeriodHours: number;
  /** K: Adler coupling strength while light, rad/h (docs/life-model.md §Parameters). @default 0.05 */
  readonly couplingPerHour: number;
  /** Local minute at which light comes on (0–1439). @default 360 (06:00) */
  readonly dawnMinute: number;
  /** Local minute at which light goes off (0–1439); equal to dawnMinute means constant darkness. @default 1080 (18:00) */
  readonly duskMinute: number;
  /** θ_C: internal phase of the circadian peak C = +1, cycles. @default 0.625 (internal 15:00) */
  readonly circadianPeakPhase: number;
  /** H₀⁺: mean sleep threshold of process S (Daan 1984). @default 0.67 */
  readonly sleepThreshold: number;
  /** H₀⁻: mean wake threshold of process S (Daan 1984). @default 0.17 */
  readonly wakeThreshold: number;
  /** a: circadian amplitude of both thresholds. @default 0.12 */
  readonly circadianAmplitude: number;
  /** τ_w: time constant of sleep pressure rising while awake, hours (Borbély). @default 18.2 */
  readonly tauWakeHours: number;
  /** τ_s: time constant of sleep pressure falling while asleep, hours (Borbély). @default 4.2 */
  readonly tauSleepHours: number;
  /** Satiety half-life while awake, hours (game design). @default 10 */
  readonly satietyHalfLifeAwakeHours: number;
  /** Satiety half-life while asleep, hours (game design). @default 20 */
  readonly satietyHalfLifeAsleepHours: number;
  /** Ticks without any interaction after which the pet is neglected. @default 720 (12 h) */
  readonly neglectAfterTicks: number;
  /** τ_M: mood relaxation time, hours ("mood in hours"). @default 4 */
  readonly moodTauHours: number;
  /** τ_M while neglected, hours: neglect makes mood fall faster (VPet). @default 2 */
  readonly moodTauNeglectedHours: number;
  /** m₀: baseline share of the mood target. @default 0.2 */
  readonly moodBase: number;
  /** w_r: weight of rest (1 − S) in the mood target. @default 0.25 */
  readonly moodRestWeight: number;
  /** w_f: weight of satiety in the mood target. @default 0.3 */
  readonly moodSatietyWeight: number;
  /** w_b: weight of bond in the mood target. @default 0.25 */
  readonly moodBondWeight: number;
  /** P: mood-target penalty of neglect, scaled by (1 − bond), mood points. @default 20 */
  readonly neglectPenalty: number;
  /** τ_B: time constant of bond fading while neglected, hours ("bond over weeks"). @default 480 */
  readonly bondTauNeglectedHours: number;
}

/** T_e: period of the external (local) day, hours. Fixed: the external day is the wall-clock day. */
export const EXTERNAL_PERIOD_HOURS = 24;

/** Parameters measured in docs/life-model.md; sources per field. */
export const DEFAULT_PARAMS: LifeParams = Object.freeze({
  internalPeriodHours: 24.2,
  couplingPerHour: 0.05,
  dawnMinute: 360,
  duskMinute: 1080,
  circadianPeakPhase: 0.625,
  sleepThreshold: 0.67,
  wakeThreshold: 0.17,
  circadianAmplitude: 0.12,
  tauWakeHours: 18.2,
  tauSleepHours: 4.2,
  satietyHalfLifeAwakeHours: 10,
  satietyHalfLifeAsleepHours: 20,
  neglectAfterTicks: 720,
  moodTauHours: 4,
  moodTauNeglectedHours: 2,
  moodBase: 0.2,
  moodRestWeight: 0.25,
  moodSatietyWeight: 0.3,
  moodBondWeight: 0.25,
  neglectPenalty: 20,
  bondTauNeglectedHours: 480,
});

/** Constants derived once per parameter set so that the per-tick work stays cheap. */
export interface ModelConstants {
  readonly params: LifeParams;
  /** ν = 2π/τ_i − 2π/T_e, rad/h. */
  readonly nu: number;
  /** ω_e = 2π/T_e, rad/h. */
  readonly omegaE: number;
  /** τ_F awake and asleep (half-life / ln 2), hours. */
  readonly tauSatietyAwake: number;
  readonly tauSatietyAsleep: number;
  /** H₀⁺ − H₀⁻: the energy scale (docs/life-model.md §Derived fields). */
  readonly thresholdSpan: number;
}

const constantsCache = new WeakMap<LifeParams, ModelConstants>();

/**
 * Validates `params` (once per object: treat params as immutable, as createParams makes them) and
 * returns its derived constants. Throws RangeError naming a bad field.
 */
export function constantsOf(params: LifeParams): ModelConstants {
  const cached = constantsCache.get(params);
  if (cached) return cached;
  validateParams(params);
  const twoPi = 2 * Math.PI;
  const constants: ModelConstants = {
    params,
    nu: twoPi / params.internalPeriodHours - twoPi / EXTERNAL_PERIOD_HOURS,
    omegaE: twoPi / EXTERNAL_PERIOD_HOURS,
    tauSatietyAwake: params.satietyHalfLifeAwakeHours / Math.LN2,
    tauSatietyAsleep: params.satietyHalfLifeAsleepHours / Math.LN2,
    thresholdSpan: params.sleepThreshold - params.wakeThreshold,
  };
  constantsCache.set(params, constants);
  return constants;
}

/** DEFAULT_PARAMS with some fields replaced, validated. Throws RangeError naming a bad field. */
export function createParams(overrides: Partial<LifeParams>): LifeParams {
  const params: LifeParams = Object.freeze({ ...DEFAULT_PARAMS, ...overrides });
  constantsOf(params);
  return params;
}

/**
 * Throws a RangeError naming the first field that breaks the model's invariants
 * (docs/life-model.md §Parameters); returns `params` otherwise.
 */
export function validateParams(params: LifeParams): LifeParams {
  for (const key of Object.keys(DEFAULT_PARAMS) as (keyof LifeParams)[]) {
    const value: unknown = params[key];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new RangeError(`${key} must be a finite number`);
    }
  }
  const p = params;
  const positive: (keyof LifeParams)[] = [
    'internalPeriodHours',
    'tauWakeHours',
    'tauSleepHours',
    'satietyHalfLifeAwakeHours',
    'satietyHalfLifeAsleepHours',
    'moodTauHours',
    'moodTauNeglectedHours',
    'bondTauNeglectedHours',
  ];
  for (const key of positive) {
    if (!(p[key] > 0)) throw new RangeError(`${key} must be > 0`);
  }
  // With ν ≈ 0 a pet started 12 h out of phase sits on the unstable equilibrium for ever.
  if (Math.abs(p.internalPeriodHours - EXTERNAL_PERIOD_HOURS) < 0.05) {
    throw new RangeError(`internalPeriodHours must differ from ${EXTERNAL_PERIOD_HOURS} h by at least 0.05 h`);
  }
  if (p.couplingPerHour < 0) throw new RangeError('couplingPerHour must be ≥ 0');
  for (const key of ['dawnMinute', 'duskMinute'] as const) {
    if (!Number.isInteger(p[key]) || p[key] < 0 || p[key] >= 1440) {
      throw new RangeError(`${key} must be an integer minute in [0, 1440)`);
    }
  }
  if (p.circadianPeakPhase < 0 || p.circadianPeakPhase >= 1) {
    throw new RangeError('circadianPeakPhase must be in [0, 1)');
  }
  if (p.circadianAmplitude < 0) throw new RangeError('circadianAmplitude must be ≥ 0');
  // Thresholds inside (0, 1) at every phase: otherwise a pet can stay awake or asleep for ever.
  if (!(p.wakeThreshold - p.circadianAmplitude > 0)) {
    throw new RangeError('wakeThreshold − circadianAmplitude must be > 0');
  }
  if (!(p.sleepThreshold + p.circadianAmplitude < 1)) {
    throw new RangeError('sleepThreshold + circadianAmplitude must be < 1');
  }
  if (!(p.sleepThreshold > p.wakeThreshold)) {
    throw new RangeError('sleepThreshold must be > wakeThreshold');
  }
  if (!Number.isInteger(p.neglectAfterTicks) || p.neglectAfterTicks < 1) {
    throw new RangeError('neglectAfterTicks must be a positive integer');
  }
  const weights = ['moodBase', 'moodRestWeight', 'moodSatietyWeight', 'moodBondWeight'] as const;
  for (const key of weights) {
    if (p[key] < 0) throw new RangeError(`${key} must be ≥ 0`);
  }
  // Weights summing to 1 and P ≤ 100·m₀ keep the mood target, hence mood, in [0, 100].
  const sum = p.moodBase + p.moodRestWeight + p.moodSatietyWeight + p.moodBondWeight;
  if (Math.abs(sum - 1) > 1e-9) {
    throw new RangeError('moodBase + moodRestWeight + moodSatietyWeight + moodBondWeight must be 1');
  }
  if (p.neglectPenalty < 0 || p.neglectPenalty > 100 * p.moodBase) {
    throw new RangeError('neglectPenalty must be in [0, 100·moodBase]');
  }
  return params;
}

/**
 * Tunable constants of a visit between two friends (docs/life-model.md §Visits).
 * Familiarity φ ∈ [0, 1] belongs to the pair; mood points are on the 0–100 mood scale.
 */
export interface VisitParams {
  /** Mood points both pets gain from a visit when both are awake and strangers (φ = 0). @default 6 */
  readonly moodGain: number;
  /** How much familiarity amplifies that gain: gain × (1 + boost·φ). @default 1 */
  readonly familiarityBoost: number;
  /** Share of the way to 1 familiarity grows by per visit with both awake: φ + rate·(1 − φ). @default 0.2 */
  readonly familiarityGrowth: number;
  /** Half-life of familiarity without visits, days. @default 14 */
  readonly familiarityHalfLifeDays: number;
  /** Mood points a visitor loses finding its friend asleep (the friend is not woken). @default 2 */
  readonly disappointment: number;
  /** Hunger (0–100) from which the visitor enjoys a visit less… @default 50 */
  readonly hungerFrom: number;
  /** …down to this share of the gain at hunger 100 (linear in between). @default 0.4 */
  readonly hungryShare: number;
}

export const DEFAULT_VISIT_PARAMS: VisitParams = Object.freeze({
  moodGain: 6,
  familiarityBoost: 1,
  familiarityGrowth: 0.2,
  familiarityHalfLifeDays: 14,
  disappointment: 2,
  hungerFrom: 50,
  hungryShare: 0.4,
});
