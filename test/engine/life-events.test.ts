/**
 * Life events (docs/design.md §9): the hunger crossing (got_hungry) that advance reports, solved in closed
 * form and equal to what single ticks see, and nextLifeEvent, the first sleep onset, waking or
 * hunger crossing after a state's tick.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  advance,
  createLifeState,
  DEFAULT_PARAMS,
  HUNGRY_AT,
  nextLifeEvent,
  tick,
  vitalsOf,
  type AdvanceEvent,
  type LifeState,
} from '../../src/engine/index.js';
import { DAY, stateArb, T2024 } from './support.js';

/** The first tick after `start` at which hunger ≥ HUNGRY_AT after being below, found one tick at a time. */
function hungerCrossingByTicks(start: LifeState, ticks: number): number | null {
  let state = start;
  let before = vitalsOf(state).hunger;
  for (let i = 0; i < ticks; i++) {
    state = tick(state).state;
    const hunger = vitalsOf(state).hunger;
    if (before < HUNGRY_AT && hunger >= HUNGRY_AT) return state.tick;
    before = hunger;
  }
  return null;
}

/** Every event of `ticks` single ticks, in order. */
function eventsByTicks(start: LifeState, ticks: number): AdvanceEvent[] {
  const events: AdvanceEvent[] = [];
  let state = start;
  for (let i = 0; i < ticks; i++) {
    const result = tick(state);
    events.push(...result.report.events);
    state = result.state;
  }
  return events;
}

const settled = (): LifeState => advance(createLifeState({ tick: T2024 + 12 * 60 }), T2024 + 30 * DAY).state;

describe('got_hungry', () => {
  it('is reported at the first tick whose hunger reaches 70, the threshold of current_state "hungry"', () => {
    const fed = { ...settled(), satiety: 0.61 };
    expect(vitalsOf(fed).hunger).toBeLessThan(HUNGRY_AT);
    const { state, report } = advance(fed, fed.tick + 2 * DAY);
    const hungry = report.events.filter((event) => event.kind === 'got_hungry');
    expect(hungry).toHaveLength(1);
    expect(report.hungers).toBe(1);
    expect(hungry[0]?.tick).toBe(hungerCrossingByTicks(fed, 2 * DAY));
    // News, not the pet's last event (that stays a sleep onset or waking).
    expect(state.lastEvent?.kind).not.toBe('got_hungry');
    const at = advance(fed, hungry[0]?.tick ?? 0).state;
    expect(vitalsOf(at).hunger).toBeGreaterThanOrEqual(HUNGRY_AT);
    expect(vitalsOf(advance(fed, (hungry[0]?.tick ?? 0) - 1).state).hunger).toBeLessThan(HUNGRY_AT);
  });

  it('is not reported for a pet already hungry, and again once it is fed', () => {
    const start = settled();
    const hungry = advance(start, start.tick + 3 * DAY).state;
    expect(vitalsOf(hungry).hunger).toBeGreaterThanOrEqual(HUNGRY_AT);
    expect(advance(hungry, hungry.tick + DAY).report.hungers).toBe(0);
    const fed = { ...hungry, satiety: 0.61 };
    expect(advance(fed, fed.tick + 2 * DAY).report.hungers).toBe(1);
  });

  it('matches single ticks from random states (tick, kind and order of every event)', () => {
    fc.assert(
      fc.property(stateArb, fc.integer({ min: 1, max: DAY }), (start, ticks) => {
        expect(advance(start, start.tick + ticks).report.events).toEqual(eventsByTicks(start, ticks));
      }),
      { numRuns: 25 },
    );
  });
});

describe('nextLifeEvent', () => {
  it('is the first event advance reports, exactly', () => {
    const start = { ...settled(), satiety: 0.35 };
    const next = nextLifeEvent(start);
    expect(next?.kind).toBe('got_hungry');
    const { events } = advance(start, start.tick + 2 * DAY).report;
    expect(next).toEqual(events[0]);
    expect(next?.tick).toBeGreaterThan(start.tick);
  });

  it('finds the next one from the tick of the previous one', () => {
    const start = settled();
    const { events } = advance(start, start.tick + 3 * DAY).report;
    let state = start;
    for (const event of events) {
      expect(nextLifeEvent(state)).toEqual(event);
      state = advance(state, event.tick).state;
    }
  });

  it('is null when nothing falls within the horizon', () => {
    const start = settled();
    const next = nextLifeEvent(start);
    expect(next).not.toBeNull();
    expect(nextLifeEvent(start, DEFAULT_PARAMS, (next?.tick ?? 0) - start.tick - 1)).toBeNull();
    expect(nextLifeEvent(start, DEFAULT_PARAMS, (next?.tick ?? 0) - start.tick)).toEqual(next);
    expect(nextLifeEvent(start, DEFAULT_PARAMS, 0)).toBeNull();
    expect(() => nextLifeEvent(start, DEFAULT_PARAMS, -1)).toThrow(RangeError);
  });

  it('stays exact over a horizon whose events overflow a report (64 kept)', () => {
    const start = settled();
    const far = nextLifeEvent(start, DEFAULT_PARAMS, 60 * DAY);
    expect(advance(start, start.tick + 60 * DAY).report.sleeps).toBeGreaterThan(32);
    expect(far).toEqual(nextLifeEvent(start));
  });

  it('agrees with single ticks from random states', () => {
    fc.assert(
      fc.property(stateArb, (start) => {
        expect(nextLifeEvent(start, DEFAULT_PARAMS, DAY)).toEqual(eventsByTicks(start, DAY)[0] ?? null);
      }),
      { numRuns: 15 },
    );
  });
});
