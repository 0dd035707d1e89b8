import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PALETTE,
  colorKeyOf,
  express,
  expressionOf,
  pulseLevelOf,
  pulseRateOf,
  pulseSymbolOf,
  simplifiedStateOf,
  simplify,
} from '../../src/engine/expression.js';
import {
  FEELING_SLOT_TICKS,
  RECENT_EVENT_TICKS,
  TIMES_OF_DAY,
  energyToneOf,
  feelingExtraOf,
  feelingOf,
  timeOfDayOf,
} from '../../src/engine/feeling.js';
import { LIFE_BOX_INNER_WIDTH, clockOf, displayWidth, lifeBoxOf } from '../../src/engine/life-box.js';
import { en } from '../../src/engine/texts/en.js';
import { zh, type EnergyTone, type MoodColour, type Texts } from '../../src/engine/texts/zh.js';
import {
  CURRENT_STATES,
  LANGS,
  type CurrentState,
  type LifeEvent,
  type LifeEventKind,
  type LifeState,
  type Vitals,
} from '../../src/engine/types.js';

const TEXTS: Record<'zh' | 'en', Texts> = { zh, en };

const EVENT_KINDS = Object.keys({
  fell_asleep: true,
  woke_up: true,
  fed: true,
  fed_full: true,
  fed_asleep: true,
  played: true,
  played_tired: true,
  woken_by_play: true,
  played_asleep: true,
  greeted: true,
  greeted_asleep: true,
} satisfies Record<LifeEventKind, true>) as LifeEventKind[];

const TONES = Object.keys({
  high: true,
  highAbove: true,
  mid: true,
  midAbove: true,
  midBelow: true,
  low: true,
  lowBelow: true,
  asleep: true,
  asleepOdd: true,
} satisfies Record<EnergyTone, true>) as EnergyTone[];

const COLOURS = Object.keys({
  hungry: true,
  grumpy: true,
  neglected: true,
  bored: true,
  playful: true,
} satisfies Record<MoodColour, true>) as MoodColour[];

/** 2026-08-01 00:00 UTC in ticks (minutes since the epoch). */
const DAY_START = Date.UTC(2026, 7, 1) / 60_000;

/** A daytime, awake, idle pet; overrides set what a test is about. */
function vitals(overrides: Partial<Vitals> = {}): Vitals {
  const localMinute = overrides.localMinute ?? 14 * 60;
  return {
    tick: DAY_START + localMinute,
    localMinute,
    utcOffsetMinutes: 0,
    externalPhase: localMinute / 1440,
    internalPhase: localMinute / 1440 - 0.014,
    phaseDifference: 0.014,
    circadianValue: 0.97,
    sleepPressure: 0.39,
    asleep: false,
    energy: 78,
    consumptionRate: 5,
    recoveryRate: 0,
    hunger: 30,
    mood: 62,
    bond: 0.3,
    neglected: false,
    light: true,
    grumpyAfterWaking: false,
    currentState: 'idle',
    ...overrides,
  };
}

const vitalsArb: fc.Arbitrary<Vitals> = fc
  .record({
    tick: fc.integer({ min: 0, max: 2 ** 40 }),
    localMinute: fc.integer({ min: 0, max: 1439 }),
    circadianValue: fc.double({ min: 0, max: 1, noNaN: true }),
    sleepPressure: fc.double({ min: 0, max: 1, noNaN: true }),
    asleep: fc.boolean(),
    energy: fc.double({ min: 0, max: 100, noNaN: true }),
    hunger: fc.double({ min: 0, max: 100, noNaN: true }),
    mood: fc.double({ min: 0, max: 100, noNaN: true }),
    bond: fc.double({ min: 0, max: 1, noNaN: true }),
    neglected: fc.boolean(),
    light: fc.boolean(),
    grumpyAfterWaking: fc.boolean(),
    currentState: fc.constantFrom(...CURRENT_STATES),
  })
  .map((fields) => vitals(fields));

const eventArb: fc.Arbitrary<LifeEvent | null> = fc.option(
  fc.record({ kind: fc.constantFrom(...EVENT_KINDS), tick: fc.integer({ min: 0, max: 2 ** 40 }) }),
);

describe('expression', () => {
  it('keeps every field in range for any vitals, in both languages', () => {
    fc.assert(
      fc.property(vitalsArb, eventArb, fc.constantFrom(...LANGS), (v, event, lang) => {
        const e = expressionOf(v, event, lang);
        expect(Number.isInteger(e.pulse_rate)).toBe(true);
        expect(e.pulse_rate).toBeGreaterThanOrEqual(60);
        expect(e.pulse_rate).toBeLessThanOrEqual(120);
        expect(e.pulse_symbol).toMatch(/^●+○*$/u);
        expect([...e.pulse_symbol]).toHaveLength(5);
        const level = [...e.pulse_symbol].filter((c) => c === '●').length;
        expect(e.pulse_intensity).toBe(TEXTS[lang].pulseIntensity[level - 1]);
        expect(e.color_hex).toMatch(/^#[0-9A-F]{6}$/);
        expect(Object.values(TEXTS[lang].colorNames)).toContain(e.color_name);
        expect(e.feeling.length).toBeGreaterThan(0);
        const lines = e.life_box.split('\n');
        expect(lines).toHaveLength(7);
        for (const line of lines) expect(displayWidth(line)).toBe(LIFE_BOX_INNER_WIDTH + 2);
      }),
    );
  });

  it('gives the same expression for the same vitals and event', () => {
    fc.assert(
      fc.property(vitalsArb, eventArb, fc.constantFrom(...LANGS), (v, event, lang) => {
        expect(expressionOf({ ...v }, event, lang)).toEqual(expressionOf(v, event, lang));
      }),
    );
  });

  it('beats slowly while asleep (60–66) and faster awake with energy and mood', () => {
    fc.assert(
      fc.property(vitalsArb, (v) => {
        const rate = pulseRateOf({ ...v, asleep: true }, null);
        expect(rate).toBeGreaterThanOrEqual(60);
        expect(rate).toBeLessThanOrEqual(66);
      }),
    );
    const calm = pulseRateOf(vitals({ energy: 40, mood: 40 }), null);
    expect(pulseRateOf(vitals({ energy: 90, mood: 40 }), null)).toBeGreaterThan(calm);
    expect(pulseRateOf(vitals({ energy: 40, mood: 90 }), null)).toBeGreaterThan(calm);
    expect(pulseRateOf(vitals({ energy: 40, mood: 40, currentState: 'grumpy' }), null)).toBeGreaterThan(calm);
    expect(pulseRateOf(vitals({ energy: 40, mood: 40, hunger: 95 }), null)).toBeGreaterThan(calm);
  });

  it('races for half an hour after play', () => {
    const v = vitals({ energy: 70, mood: 80 });
    const rest = pulseRateOf(v, null);
    expect(pulseRateOf(v, { kind: 'played', tick: v.tick })).toBe(rest + 16);
    expect(pulseRateOf(v, { kind: 'played', tick: v.tick - 15 })).toBe(rest + 8);
    expect(pulseRateOf(v, { kind: 'played', tick: v.tick - 30 })).toBe(rest);
  });

  it("shows the seed's fresh daytime pet: pulse 91–95, ●●●●●, 极强, #FFD700 暖黄", () => {
    const e = expressionOf(vitals({ energy: 99, mood: 50, circadianValue: 0.63, hunger: 5 }), null, 'zh');
    expect(e.pulse_rate).toBeGreaterThanOrEqual(91);
    expect(e.pulse_rate).toBeLessThanOrEqual(95);
    expect(e.pulse_symbol).toBe('●●●●●');
    expect(e.pulse_intensity).toBe('极强');
    expect(e.color_hex).toBe('#FFD700');
    expect(e.color_name).toBe('暖黄');
  });

  it('maps pulse rates to five levels and dots', () => {
    expect([60, 66, 67, 74, 75, 82, 83, 90, 91, 120].map(pulseLevelOf)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    expect(pulseSymbolOf(3)).toBe('●●●○○');
    expect(pulseSymbolOf(1)).toBe('●○○○○');
  });

  it("uses the seed's palette per state, warm yellow only for a bright idle day", () => {
    const expected: Record<CurrentState, string> = {
      sleep: '#4B0082',
      sleepy: '#9370DB',
      hungry: '#FF8C00',
      play: '#32CD32',
      idle: '#4169E1',
      bored: '#808080',
      grumpy: '#DC143C',
    };
    for (const state of CURRENT_STATES) {
      expect(PALETTE[colorKeyOf(vitals({ currentState: state, energy: 50 }))]).toBe(expected[state]);
    }
    expect(colorKeyOf(vitals({ currentState: 'idle', energy: 85, light: true }))).toBe('warm');
    expect(colorKeyOf(vitals({ currentState: 'idle', energy: 85, light: false }))).toBe('idle');
    expect(expressionOf(vitals({ currentState: 'sleep', asleep: true }), null, 'en').color_name).toBe('indigo');
  });
});

describe('simplified state', () => {
  it('rounds energy, hunger and mood to one decimal and passes current_state through', () => {
    const s = simplifiedStateOf(vitals({ energy: 72.349, hunger: 0.04, mood: 99.96, currentState: 'play' }));
    expect(s).toEqual({ energy: 72.3, hunger: 0, mood: 100, current_state: 'play' });
  });
});

describe('feeling', () => {
  it('has at least three variants for every bucket in both languages', () => {
    for (const lang of LANGS) {
      const t = TEXTS[lang];
      for (const time of TIMES_OF_DAY) expect(t.times[time].length, `${lang} ${time}`).toBeGreaterThanOrEqual(3);
      for (const tone of TONES) expect(t.energy[tone].length, `${lang} ${tone}`).toBeGreaterThanOrEqual(3);
      for (const kind of EVENT_KINDS) expect(t.events[kind].length, `${lang} ${kind}`).toBeGreaterThanOrEqual(3);
      for (const colour of COLOURS) expect(t.colours[colour].length, `${lang} ${colour}`).toBeGreaterThanOrEqual(3);
      const all = [t.times, t.energy, t.events, t.colours].flatMap((table) => Object.values(table).flat());
      for (const text of all) expect(text.trim()).toBe(text);
      expect(new Set(all).size, `${lang} texts are distinct`).toBeGreaterThan(all.length - 3);
    }
  });

  it('buckets the local day', () => {
    const at = (h: number, m = 0) => timeOfDayOf(h * 60 + m);
    expect([at(0), at(4, 59), at(5), at(7), at(11), at(13), at(16), at(18), at(21), at(23, 59)]).toEqual([
      'lateNight',
      'lateNight',
      'dawn',
      'morning',
      'noon',
      'afternoon',
      'eveningApproaching',
      'evening',
      'night',
      'night',
    ]);
  });

  it('compares energy with what is usual at that hour', () => {
    expect(energyToneOf(vitals({ energy: 80 }), 'eveningApproaching')).toBe('highAbove');
    expect(energyToneOf(vitals({ energy: 80 }), 'morning')).toBe('high');
    expect(energyToneOf(vitals({ energy: 45 }), 'morning')).toBe('midBelow');
    expect(energyToneOf(vitals({ energy: 45 }), 'lateNight')).toBe('midAbove');
    expect(energyToneOf(vitals({ energy: 45 }), 'evening')).toBe('mid');
    expect(energyToneOf(vitals({ energy: 10 }), 'night')).toBe('low');
    expect(energyToneOf(vitals({ energy: 10 }), 'noon')).toBe('lowBelow');
    expect(energyToneOf(vitals({ asleep: true }), 'lateNight')).toBe('asleep');
    expect(energyToneOf(vitals({ asleep: true }), 'afternoon')).toBe('asleepOdd');
  });

  it("says the seed's sentence for a lively pet as evening approaches", () => {
    const sentences = new Set<string>();
    for (let slot = 0; slot < 40; slot++) {
      const v = vitals({ localMinute: 16 * 60 + 30, energy: 75 });
      sentences.add(feelingOf({ ...v, tick: v.tick + slot * FEELING_SLOT_TICKS }, null, 'zh'));
    }
    expect(sentences).toContain('傍晚渐近，但仍有充足的能量');
    expect(feelingOf(vitals({ localMinute: 16 * 60 + 30, energy: 75 }), null, 'en')).toMatch(/^[A-Z].*[a-z!]$/);
  });

  it('varies across ticks within a bucket, for every bucket and language', () => {
    for (const lang of LANGS) {
      for (const time of TIMES_OF_DAY) {
        const localMinute = timeStart(time) + 30;
        for (const v of [
          vitals({ localMinute, energy: 90 }),
          vitals({ localMinute, energy: 45 }),
          vitals({ localMinute, energy: 10 }),
          vitals({ localMinute, asleep: true, currentState: 'sleep' }),
        ]) {
          const sentences = new Set<string>();
          for (let slot = 0; slot < 12; slot++) sentences.add(feelingOf({ ...v, tick: v.tick + slot * FEELING_SLOT_TICKS }, null, lang));
          expect(sentences.size, `${lang} ${time} ${v.energy}`).toBeGreaterThanOrEqual(2);
        }
      }
    }
  });

  it('words the same situation differently for different pets, the same for one pet', () => {
    const v = vitals({ localMinute: 10 * 60, energy: 70 });
    const byPet = new Set<string>();
    for (let i = 0; i < 12; i++) byPet.add(feelingOf(v, null, 'en', `pet-${i}`));
    expect(byPet.size).toBeGreaterThanOrEqual(2);
    expect(feelingOf(v, null, 'en', 'pet-1')).toBe(feelingOf(v, null, 'en', 'pet-1'));
  });

  it('is the same within a slot of ticks', () => {
    const v = vitals({ tick: 1000 * FEELING_SLOT_TICKS });
    const first = feelingOf(v, null, 'zh');
    for (let i = 1; i < FEELING_SLOT_TICKS; i++) expect(feelingOf({ ...v, tick: v.tick + i }, null, 'zh')).toBe(first);
  });

  it('mentions a recent event for an hour, if it fits the sleep state', () => {
    const v = vitals();
    const fed = (age: number): LifeEvent => ({ kind: 'fed', tick: v.tick - age });
    expect(feelingExtraOf(v, fed(0))).toEqual({ kind: 'event', event: 'fed' });
    expect(feelingExtraOf(v, fed(RECENT_EVENT_TICKS - 1))).toEqual({ kind: 'event', event: 'fed' });
    expect(feelingExtraOf(v, fed(RECENT_EVENT_TICKS))).toBeNull();
    expect(feelingExtraOf(v, { kind: 'fell_asleep', tick: v.tick })).toBeNull();
    expect(feelingExtraOf(vitals({ asleep: true }), { kind: 'greeted_asleep', tick: v.tick - 5 })).toEqual({
      kind: 'event',
      event: 'greeted_asleep',
    });
    const text = feelingOf(v, fed(3), 'zh');
    expect(zh.events.fed.some((clause) => text.endsWith(`，${clause}`))).toBe(true);
  });

  it('is coloured by hunger, grumpiness, neglect, boredom and playfulness when nothing happened', () => {
    expect(feelingExtraOf(vitals({ hunger: 80, currentState: 'hungry' }), null)).toEqual({ kind: 'colour', colour: 'hungry' });
    expect(feelingExtraOf(vitals({ currentState: 'grumpy', mood: 20 }), null)).toEqual({ kind: 'colour', colour: 'grumpy' });
    expect(feelingExtraOf(vitals({ neglected: true, currentState: 'bored' }), null)).toEqual({ kind: 'colour', colour: 'neglected' });
    expect(feelingExtraOf(vitals({ currentState: 'bored' }), null)).toEqual({ kind: 'colour', colour: 'bored' });
    expect(feelingExtraOf(vitals({ currentState: 'play' }), null)).toEqual({ kind: 'colour', colour: 'playful' });
    expect(feelingExtraOf(vitals(), null)).toBeNull();
    expect(feelingExtraOf(vitals({ asleep: true, hunger: 90, currentState: 'sleep' }), null)).toBeNull();
  });
});

describe('life box', () => {
  it('shows face, state, time, bars and pulse in equal-width lines', () => {
    const v = vitals({ localMinute: 14 * 60 + 5, energy: 85, hunger: 25, mood: 60 });
    for (const lang of LANGS) {
      const box = lifeBoxOf(v, { rate: 88, symbol: '●●●●○' }, lang);
      const lines = box.split('\n');
      expect(lines).toHaveLength(7);
      for (const line of lines) expect(displayWidth(line)).toBe(displayWidth(lines[0] ?? ''));
      expect(box).toContain('14:05');
      expect(box).toContain('●●●●○');
      expect(box).toContain(TEXTS[lang].box.energy);
    }
    expect(lifeBoxOf(v, { rate: 88, symbol: '●●●●○' }, 'en')).toBe(
      [
        '┌───────────────────────┐',
        '│ (^_^) idle      14:05 │',
        '│ energy █████████░  85 │',
        '│ hunger ███░░░░░░░  25 │',
        '│ mood   ██████░░░░  60 │',
        '│ pulse  ●●●●○ 88 bpm   │',
        '└───────────────────────┘',
      ].join('\n'),
    );
  });

  it('keeps English lines the same length for every state and extreme values', () => {
    for (const currentState of CURRENT_STATES) {
      for (const [energy, hunger, mood] of [
        [0, 0, 0],
        [100, 100, 100],
      ] as const) {
        const box = lifeBoxOf(vitals({ currentState, energy, hunger, mood, localMinute: 1439 }), { rate: 120, symbol: '●●●●●' }, 'en');
        const lengths = new Set(box.split('\n').map((line) => line.length));
        expect(lengths.size, currentState).toBe(1);
      }
    }
  });

  it('counts CJK characters as two columns', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('能量')).toBe(4);
    expect(displayWidth('●○─│')).toBe(4);
    expect(clockOf(0)).toBe('00:00');
    expect(clockOf(23 * 60 + 7)).toBe('23:07');
  });
});

describe('express and simplify', () => {
  const state: LifeState = {
    tick: DAY_START + 16 * 60 + 30,
    timezone: 'UTC',
    internalPhase: 0.675,
    sleepPressure: 0.46,
    asleep: false,
    satiety: 0.6,
    bond: 0.3,
    mood: 65,
    lastInteractionTick: DAY_START + 15 * 60,
    lastCalibrationTick: DAY_START + 6 * 60,
    wokenByPlayTick: null,
    lastEvent: { kind: 'fed', tick: DAY_START + 16 * 60 },
    stats: { feed: 1, play: 0, greet: 0 },
  };

  it('expresses a state in Chinese by default and in English on request', () => {
    const zhExpression = express(state);
    const enExpression = express(state, 'en');
    expect(zhExpression.pulse_rate).toBe(enExpression.pulse_rate);
    expect(zhExpression.color_hex).toBe(enExpression.color_hex);
    expect(zhExpression.feeling).toMatch(/[\u4e00-\u9fff]/u);
    expect(enExpression.feeling).toMatch(/^[A-Z]/);
    expect(express(state)).toEqual(zhExpression);
  });

  it('simplifies a state to one decimal', () => {
    const s = simplify(state);
    expect(CURRENT_STATES).toContain(s.current_state);
    for (const value of [s.energy, s.hunger, s.mood]) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(100);
      expect(Math.round(value * 10) / 10).toBe(value);
    }
    expect(s.hunger).toBe(40);
  });
});

function timeStart(time: (typeof TIMES_OF_DAY)[number]): number {
  for (let minute = 0; minute < 1440; minute++) if (timeOfDayOf(minute) === time) return minute;
  throw new Error(`no minute for ${time}`);
}
