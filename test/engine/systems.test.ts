/**
 * Stored systems: exact round trip (through JSON too), state written by the original Python
 * server, defaults for missing systems and rejection of corrupt values.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  advance,
  CorruptSystemsError,
  createLifeState,
  fromSystems,
  interact,
  toSystems,
  vitalsOf,
  type SystemName,
} from '../../src/engine/index.js';
import { actionsArb, DAY, expectNear, runByAdvance, stateArb, T2024 } from './support.js';

/**
 * Real values written by the Python pet-life-server on 2025-11-02 (docs/life-model.md §What the
 * original server did).
 */
const PYTHON_SYSTEMS = {
  rhythm: {
    internal_phase: 0.041009875020171324,
    last_calibration: 1762100299.762366,
    last_update: 1762100299.762366,
    external_phase: 4.877646764119466e-6,
    phase_difference: -0.041524047973070584,
  },
  energy: {
    energy: 99.15729479437536,
    last_update: 1762100299.76237,
    consumption_rate: 0.8427052056246336,
    recovery_rate: 0.0,
    circadian_value: 0.6274153621648515,
  },
};

describe('systems', () => {
  it('round-trips any state exactly, through JSON too', () => {
    fc.assert(
      fc.property(stateArb, fc.integer({ min: 0, max: 3 * DAY }), actionsArb(3 * DAY, 5), (start, ticks, actions) => {
        const { state } = runByAdvance(
          start,
          ticks,
          actions.filter((a) => a.at <= ticks),
        );
        const systems = toSystems(state);
        expect(fromSystems(systems, { timezone: state.timezone })).toEqual(state);
        const stored = JSON.parse(JSON.stringify(systems)) as Partial<Record<SystemName, unknown>>;
        expect(fromSystems(stored, { timezone: state.timezone })).toEqual(state);
      }),
      { numRuns: 50 },
    );
  });

  it('writes the seed field names with derived values for readers', () => {
    const state = interact(createLifeState({ tick: T2024 + 9 * 60, timezone: 'Asia/Shanghai' }), 'feed').state;
    const systems = toSystems(state);
    const vitals = vitalsOf(state);
    expect(systems.rhythm).toEqual({
      internal_phase: state.internalPhase,
      external_phase: vitals.externalPhase,
      phase_difference: vitals.phaseDifference,
      last_calibration: state.lastCalibrationTick * 60,
      last_update: state.tick * 60,
    });
    expect(systems.energy).toMatchObject({ energy: vitals.energy, asleep: false, sleep_pressure: state.sleepPressure });
    expect(systems.mood.last_event).toEqual({ kind: 'fed', at: state.tick * 60 });
    expect(systems.stats).toEqual({ feed: 1, play: 0, greet: 0 });
  });

  it('loads state written by the Python server: S from energy, awake, tick from last_update', () => {
    const state = fromSystems(PYTHON_SYSTEMS, { timezone: 'Asia/Shanghai' });
    expect(state.tick).toBe(Math.floor(1762100299.762366 / 60));
    expect(state.internalPhase).toBe(0.041009875020171324);
    expect(state.asleep).toBe(false);
    expect(state.lastCalibrationTick).toBe(Math.floor(1762100299.762366 / 60));
    expectNear(vitalsOf(state).energy, 99.15729479437536, 1e-9);
    expect(state.sleepPressure).toBeGreaterThanOrEqual(0);
    expect(state.stats).toEqual({ feed: 0, play: 0, greet: 0 });
    // It then lives on like any pet.
    const later = advance(state, state.tick + 3 * DAY).state;
    expect(Number.isFinite(later.mood)).toBe(true);
  });

  it('clamps S into [0, 1] when the stored energy cannot be reached at that body-clock phase', () => {
    const drained = { ...PYTHON_SYSTEMS, energy: { ...PYTHON_SYSTEMS.energy, energy: 0 } };
    const full = { ...PYTHON_SYSTEMS, energy: { ...PYTHON_SYSTEMS.energy, energy: 100 } };
    for (const systems of [drained, full]) {
      const { sleepPressure } = fromSystems(systems, { timezone: 'UTC' });
      expect(sleepPressure).toBeGreaterThanOrEqual(0);
      expect(sleepPressure).toBeLessThanOrEqual(1);
    }
  });

  it('fills newborn defaults for missing systems and takes the tick from options', () => {
    const state = fromSystems({}, { timezone: 'UTC', tick: T2024 });
    // Missing systems get the rested newborn's values: fromSystems has no birth time to entrain to.
    expect(state).toEqual(createLifeState({ tick: T2024, birth: 'rested' }));
    const onlyRhythm = fromSystems({ rhythm: PYTHON_SYSTEMS.rhythm }, { timezone: 'UTC', tick: T2024 });
    expect(onlyRhythm.tick).toBe(T2024);
    expect(onlyRhythm.internalPhase).toBe(0.041009875020171324);
  });

  it('refuses systems that say nothing about time without options.tick', () => {
    expect(() => fromSystems({}, { timezone: 'UTC' })).toThrow(CorruptSystemsError);
  });

  it.each<[string, Partial<Record<SystemName, unknown>>]>([
    ['a non-object system', { rhythm: 'x' }],
    ['an array system', { energy: [] }],
    ['a phase outside [0, 1]', { rhythm: { internal_phase: 1.5, last_update: 0 } }],
    ['a string phase', { rhythm: { internal_phase: '0.5', last_update: 0 } }],
    ['infinite time', { rhythm: { internal_phase: 0.5, last_update: Infinity } }],
    ['energy above 100', { rhythm: { internal_phase: 0.5, last_update: 0 }, energy: { energy: 101 } }],
    ['NaN sleep pressure', { energy: { sleep_pressure: Number.NaN, last_update: 0 } }],
    ['a non-boolean asleep', { energy: { sleep_pressure: 0.5, asleep: 1, last_update: 0 } }],
    ['negative satiety', { satiety: { satiety: -0.1, last_update: 0 } }],
    ['mood above 100', { mood: { mood: 100.5, last_update: 0 } }],
    ['bond null', { mood: { mood: 50, bond: null, last_update: 0 } }],
    ['an unknown event kind', { mood: { mood: 50, last_event: { kind: 'danced', at: 0 }, last_update: 0 } }],
    ['fractional stats', { stats: { feed: 1.5 }, rhythm: { internal_phase: 0, last_update: 0 } }],
    ['negative stats', { stats: { play: -1 }, rhythm: { internal_phase: 0, last_update: 0 } }],
  ])('throws CorruptSystemsError for %s', (_, systems) => {
    expect(() => fromSystems(systems, { timezone: 'UTC' })).toThrow(CorruptSystemsError);
  });

  it('names the system and field at fault', () => {
    try {
      fromSystems({ mood: { mood: 'happy', last_update: 0 } }, { timezone: 'UTC' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CorruptSystemsError);
      expect(error).toMatchObject({ system: 'mood', field: 'mood' });
    }
  });

  it('rejects an unknown timezone with a RangeError', () => {
    expect(() => fromSystems(PYTHON_SYSTEMS, { timezone: 'Mars/Olympus' })).toThrow(RangeError);
  });
});
