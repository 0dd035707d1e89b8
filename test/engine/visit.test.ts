import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyVisit, DEFAULT_VISIT_PARAMS, fadedFamiliarity, hungerShare, type LifeState, visitEffect } from '../../src/engine/index.js';
import { stateArb } from './support.js';

const tick = 29_500_000;
function pet(overrides: Partial<LifeState> = {}): LifeState {
  return {
    tick,
    timezone: 'UTC',
    internalPhase: 0.5,
    sleepPressure: 0.3,
    asleep: false,
    satiety: 0.9,
    bond: 0.5,
    mood: 50,
    lastInteractionTick: tick - 10,
    lastCalibrationTick: tick - 600,
    wokenByPlayTick: null,
    lastEvent: null,
    stats: { feed: 0, play: 0, greet: 0 },
    ...overrides,
  };
}

describe('visitEffect (docs/life-model.md §Visits)', () => {
  it('both awake: both moods rise and familiarity grows', () => {
    const effect = visitEffect(pet(), pet(), 0, 0);
    expect(effect).toEqual({ outcome: 'enjoyed', visitorMood: 6, friendMood: 6, familiarity: 0.2 });
  });

  it('familiarity makes later visits count more, and fades slowly without visits', () => {
    const first = visitEffect(pet(), pet(), 0, 0);
    const second = visitEffect(pet(), pet(), first.familiarity, 1);
    expect(second.friendMood).toBeGreaterThan(first.friendMood);
    expect(second.familiarity).toBeGreaterThan(first.familiarity);
    expect(fadedFamiliarity(0.8, DEFAULT_VISIT_PARAMS.familiarityHalfLifeDays)).toBeCloseTo(0.4, 10);
    expect(fadedFamiliarity(0.8, 1)).toBeGreaterThan(0.75);
    const late = visitEffect(pet(), pet(), 0.8, 60);
    const soon = visitEffect(pet(), pet(), 0.8, 0);
    expect(late.friendMood).toBeLessThan(soon.friendMood);
  });

  it('a sleeping friend is not woken and the visitor is a little disappointed', () => {
    const effect = visitEffect(pet(), pet({ asleep: true }), 0.5, 0);
    expect(effect).toEqual({ outcome: 'friend_asleep', visitorMood: -2, friendMood: 0, familiarity: 0.5 });
  });

  it('a hungry visitor enjoys it less; the friend does not care', () => {
    const fed = visitEffect(pet({ satiety: 0.9 }), pet(), 0, 0);
    const hungry = visitEffect(pet({ satiety: 0.1 }), pet(), 0, 0);
    expect(hungry.visitorMood).toBeLessThan(fed.visitorMood);
    expect(hungry.friendMood).toBe(fed.friendMood);
    expect(hungerShare(100)).toBeCloseTo(DEFAULT_VISIT_PARAMS.hungryShare, 10);
    expect(hungerShare(40)).toBe(1);
  });

  it('a sleeping visitor changes nothing', () => {
    expect(visitEffect(pet({ asleep: true }), pet(), 0.3, 0)).toEqual({
      outcome: 'visitor_asleep',
      visitorMood: 0,
      friendMood: 0,
      familiarity: 0.3,
    });
  });

  it('is deterministic and bounded for any two states', () => {
    fc.assert(
      fc.property(
        stateArb,
        stateArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1000, noNaN: true }),
        (a, b, phi, days) => {
          const effect = visitEffect(a, b, phi, days);
          expect(visitEffect(a, b, phi, days)).toEqual(effect);
          expect(effect.familiarity).toBeGreaterThanOrEqual(0);
          expect(effect.familiarity).toBeLessThanOrEqual(1);
          expect(Math.abs(effect.visitorMood)).toBeLessThanOrEqual(12);
          expect(effect.friendMood).toBeGreaterThanOrEqual(0);
          const after = applyVisit(a, effect.visitorMood);
          expect(after.mood).toBeGreaterThanOrEqual(0);
          expect(after.mood).toBeLessThanOrEqual(100);
          expect(after.stats.visits).toBe((a.stats.visits ?? 0) + 1);
          expect(after.asleep).toBe(a.asleep);
        },
      ),
      { numRuns: 300 },
    );
  });
});
