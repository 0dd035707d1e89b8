import { describe, expect, it } from 'vitest';
import { describeAway } from '../../src/engine/away-report.js';
import type { AdvanceReport } from '../../src/engine/types.js';

const T0 = 29_000_000;

/** A report over `ticks` minutes; overrides set what a test is about. */
function report(ticks: number, overrides: Partial<AdvanceReport> = {}): AdvanceReport {
  return {
    fromTick: T0,
    toTick: T0 + ticks,
    ticks,
    sleeps: 0,
    wakes: 0,
    hungers: 0,
    minutesAsleep: 0,
    lowestEnergy: 80,
    highestHunger: 30,
    lowestMood: 60,
    start: { energy: 80, hunger: 30, mood: 60 },
    end: { energy: 80, hunger: 30, mood: 60 },
    events: [],
    segments: 1,
    ...overrides,
  };
}

const dayAway = report(1440 + 120, {
  sleeps: 2,
  wakes: 2,
  minutesAsleep: 900,
  lowestEnergy: 12.4,
  highestHunger: 83.2,
  lowestMood: 41,
  start: { energy: 85, hunger: 40, mood: 62 },
  end: { energy: 70, hunger: 83.2, mood: 45 },
});

describe('describeAway', () => {
  it('sums up a day away in English, giving the energy it has now after a sleep (its lowest, at sleep onset, is always 0)', () => {
    expect(describeAway(dayAway, 'en')).toBe(
      'While you were away (1 day 2 h): slept twice, energy is now 70, got hungry (hunger 83) and mood dipped to 41.',
    );
    expect(describeAway({ ...dayAway, sleeps: 0, wakes: 0, minutesAsleep: 0 }, 'en')).toBe(
      'While you were away (1 day 2 h): stayed awake, energy fell to 12 at its lowest, got hungry (hunger 83) and mood dipped to 41.',
    );
  });

  it('sums up a day away in Chinese, the default', () => {
    expect(describeAway(dayAway)).toBe('你不在的这段时间（1天2小时）：睡了两觉，现在能量70，饿了（饥饿值83），心情一度跌到41。');
  });

  it('handles an interval of minutes with no sleep', () => {
    const r = report(45, { lowestEnergy: 76, end: { energy: 76, hunger: 31, mood: 61 } });
    expect(describeAway(r, 'en')).toBe('While you were away (45 min): stayed awake and energy held at about 76.');
    expect(describeAway(r, 'zh')).toBe('你不在的这段时间（45分钟）：一直醒着，能量保持在76左右。');
  });

  it('handles hours and minutes, and a pet that slept throughout', () => {
    const r = report(3 * 60 + 5, {
      minutesAsleep: 185,
      lowestEnergy: 40,
      start: { energy: 40, hunger: 50, mood: 55 },
      end: { energy: 75, hunger: 55, mood: 63 },
      highestHunger: 55,
      lowestMood: 55,
    });
    expect(describeAway(r, 'en')).toBe(
      'While you were away (3 h 5 min): slept the whole time, energy rose to 75, hunger rose to 55 and mood rose to 63.',
    );
    expect(describeAway(r, 'zh')).toBe('你不在的这段时间（3小时5分钟）：一直在睡，能量回升到75，饥饿值升到55，心情好转到63。');
  });

  it('says the pet woke up when it was asleep at the start and did not sleep again', () => {
    const r = report(120, {
      wakes: 1,
      minutesAsleep: 30,
      lowestEnergy: 92,
      highestHunger: 22,
      start: { energy: 92, hunger: 20, mood: 60 },
      end: { energy: 95, hunger: 22, mood: 60 },
    });
    expect(describeAway(r, 'en')).toBe('While you were away (2 h): woke up and energy held at about 95.');
    expect(describeAway(r, 'zh')).toBe('你不在的这段时间（2小时）：睡醒了，能量保持在95左右。');
  });

  it('counts days over years and pluralises naturally', () => {
    const year = report(400 * 1440 + 59, {
      sleeps: 400,
      wakes: 400,
      minutesAsleep: 400 * 480,
      lowestEnergy: 0,
      highestHunger: 100,
      lowestMood: 12,
      start: { energy: 90, hunger: 75, mood: 50 },
      end: { energy: 60, hunger: 100, mood: 19 },
    });
    expect(describeAway(year, 'en')).toBe(
      'While you were away (400 days): slept 400 times, energy is now 60, stayed hungry (hunger up to 100) and mood dipped to 12.',
    );
    expect(describeAway(year, 'zh')).toBe('你不在的这段时间（400天）：睡了400觉，现在能量60，一直饿着（饥饿值最高100），心情一度跌到12。');
    expect(describeAway(report(1440, { sleeps: 1 }), 'en')).toMatch(/\(1 day\): slept once and/);
    expect(describeAway(report(2 * 1440 + 60, { sleeps: 3 }), 'en')).toMatch(/\(2 days 1 h\): slept 3 times and/);
    expect(describeAway(report(2 * 1440 + 60, { sleeps: 3 }), 'zh')).toMatch(/（2天1小时）：睡了三觉，/);
    expect(describeAway(report(0), 'en')).toBe('While you were away (0 min): stayed awake and energy held at about 80.');
  });
});
