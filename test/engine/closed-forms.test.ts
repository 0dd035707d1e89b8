/**
 * The closed forms against numerical integration (RK4), and the exact flip search against a
 * tick-by-tick scan: the pieces the composition law is built from.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bondAfter, moodAfter, moodResponse, moodTarget, satietyAfter } from '../../src/engine/needs.js';
import { constantsOf, createParams, DEFAULT_PARAMS } from '../../src/engine/params.js';
import { createRhythmFlow, phaseGapAt, wrapHalf } from '../../src/engine/rhythm.js';
import { createSleepWakeFlow, findFlip, pressureAfter, probe } from '../../src/engine/sleep.js';
import { expectNear, paramsArb } from './support.js';

/** Classic RK4 for a scalar ODE dy/dt = f(t, y) over [0, t] in n steps. */
function rk4(f: (t: number, y: number) => number, y0: number, t: number, n: number): number {
  const h = t / n;
  let y = y0;
  for (let i = 0; i < n; i++) {
    const s = i * h;
    const k1 = f(s, y);
    const k2 = f(s + h / 2, y + (h / 2) * k1);
    const k3 = f(s + h / 2, y + (h / 2) * k2);
    const k4 = f(s + h, y + h * k3);
    y += (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4);
  }
  return y;
}

const constants = constantsOf(DEFAULT_PARAMS);
const angle = fc.double({ min: -Math.PI, max: Math.PI, maxExcluded: true, noNaN: true });
const unit = fc.double({ min: 0, max: 1, noNaN: true });

describe('rhythm closed form', () => {
  it('matches RK4 of dψ/dt = ν − K sin ψ for locking, drifting and dark segments', () => {
    fc.assert(
      fc.property(
        angle,
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.double({ min: -0.03, max: 0.03, noNaN: true }),
        fc.double({ min: 0, max: 30, noNaN: true }),
        (psi0, coupling, nu, hours) => {
          const closed = phaseGapAt(createRhythmFlow(psi0, coupling, nu), hours);
          const numeric = rk4((_, psi) => nu - coupling * Math.sin(psi), psi0, hours, 3000);
          expect(Math.abs(wrapHalf((closed - numeric) / (2 * Math.PI)))).toBeLessThan(1e-10);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('drifts linearly in darkness and locks to sin ψ* = ν/K in light', () => {
    const nu = constants.nu;
    expectNear(phaseGapAt(createRhythmFlow(0.3, 0, nu), 100), 0.3 + nu * 100, 1e-12);
    const locked = phaseGapAt(createRhythmFlow(2.5, 0.05, nu), 2000);
    expectNear(locked, Math.asin(nu / 0.05), 1e-9);
  });

  it('passes through ψ = ±π without a jump', () => {
    const flow = createRhythmFlow(Math.PI - 1e-3, 0, 0.01);
    let previous = phaseGapAt(flow, 0);
    for (let t = 0.01; t < 0.3; t += 0.01) {
      const psi = phaseGapAt(flow, t);
      expect(Math.abs(wrapHalf((psi - previous) / (2 * Math.PI)))).toBeLessThan(1e-3);
      previous = psi;
    }
  });
});

describe('needs closed forms', () => {
  it('matches RK4 of the mood equation in every mode', () => {
    fc.assert(
      fc.property(
        fc.record({ mood: fc.double({ min: 0, max: 100, noNaN: true }), pressure: unit, satiety: unit, bond: unit }),
        fc.boolean(),
        fc.boolean(),
        fc.double({ min: 0, max: 30, noNaN: true }),
        ({ mood, pressure, satiety, bond }, asleep, neglected, hours) => {
          const p = DEFAULT_PARAMS;
          const tauMood = neglected ? p.moodTauNeglectedHours : p.moodTauHours;
          const target = (t: number) =>
            moodTarget(
              pressureAfter(pressure, asleep, t, p.tauWakeHours, p.tauSleepHours),
              satietyAfter(satiety, asleep, t, constants),
              bondAfter(bond, neglected, t, constants),
              neglected,
              constants,
            );
          const numeric = rk4((t, m) => (target(t) - m) / tauMood, mood, hours, 2000);
          const closed = moodAfter(mood, pressure, satiety, bond, asleep, neglected, hours, constants);
          expect(Math.abs(closed - numeric)).toBeLessThan(1e-8);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('keeps Φ continuous where τ_j meets τ_M', () => {
    // dΦ/dτ_j ≈ 0.03 here, so a 1e−9 h change of τ_j may move Φ by ≈ 3e−11, not more.
    expectNear(moodResponse(3, 4, 4 + 1e-9), moodResponse(3, 4, 4), 1e-10);
    expectNear(moodResponse(3, 4, 4 + 1e-13), moodResponse(3, 4, 4), 1e-14);
    expectNear(moodResponse(3, 4, 4), (3 / 4) * Math.exp(-3 / 4), 1e-15);
  });

  it('halves satiety in 10 h awake and 20 h asleep; bond fades only under neglect, ≈28 % a week', () => {
    expectNear(satietyAfter(0.8, false, 10, constants), 0.4, 1e-12);
    expectNear(satietyAfter(0.8, true, 20, constants), 0.4, 1e-12);
    expect(bondAfter(0.5, false, 1000, constants)).toBe(0.5);
    expectNear(1 - bondAfter(1, true, 7 * 24 - 12, constants), 0.28, 0.02);
  });

  it('keeps the mood target within [0, 100] at the extremes', () => {
    for (const [s, f, b, n] of [
      [0, 1, 1, false],
      [1, 0, 0, true],
      [1, 0, 0, false],
      [0, 1, 0, true],
    ] as const) {
      const target = moodTarget(s, f, b, n, constants);
      expect(target).toBeGreaterThanOrEqual(0);
      expect(target).toBeLessThanOrEqual(100);
    }
  });
});

describe('flip search', () => {
  it('finds the same first flip tick as testing every tick, for random segments and parameters', () => {
    fc.assert(
      fc.property(
        paramsArb,
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        unit,
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: -720, max: 840 }),
        fc.integer({ min: 1, max: 1800 }),
        (params, internalPhase, pressure, asleep, light, offset, limit) => {
          const c = constantsOf(params);
          const flow = createSleepWakeFlow(c, 28_000_000, offset, internalPhase, pressure, asleep, light);
          const found = findFlip(flow, limit);
          const probes = flow.probes;
          const scan = createSleepWakeFlow(c, 28_000_000, offset, internalPhase, pressure, asleep, light);
          let expected = 0;
          for (let j = 1; j <= limit; j++) {
            probe(scan, j);
            if (scan.g >= 0) {
              expected = j;
              break;
            }
          }
          expect(found).toBe(expected);
          expect(probes).toBeLessThanOrEqual(Math.max(expected, limit) + 1);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('bounds |g″| on the segment by M₂ (the safe step is safe)', () => {
    fc.assert(
      fc.property(
        paramsArb,
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        unit,
        fc.boolean(),
        fc.boolean(),
        (params, internalPhase, pressure, asleep, light) => {
          const flow = createSleepWakeFlow(constantsOf(params), 28_000_000, 0, internalPhase, pressure, asleep, light);
          const g = (j: number) => {
            probe(flow, j);
            return flow.g;
          };
          // Second differences over one hour: g″ ≈ Δ²g / h², h = 1 h.
          for (let j = 60; j < 24 * 60; j += 97) {
            const second = g(j + 60) - 2 * g(j) + g(j - 60);
            expect(Math.abs(second)).toBeLessThanOrEqual(flow.curvatureBound * 1.0001);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('ignores a state already past the threshold at the segment start, testing from the first tick end', () => {
    const params = createParams({});
    const flow = createSleepWakeFlow(constantsOf(params), 0, 0, 0.9, 0.95, false, false);
    probe(flow, 0);
    expect(flow.g).toBeGreaterThan(0);
    expect(findFlip(createSleepWakeFlow(constantsOf(params), 0, 0, 0.9, 0.95, false, false), 100)).toBe(1);
  });
});
