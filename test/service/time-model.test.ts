import { describe, expect, it } from 'vitest';
import { tickFromMs } from '../../src/engine/index.js';
import { bringToNow, fastForward, formatZoned } from '../../src/service/index.js';

const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);

describe('bringToNow', () => {
  it('moves the world clock by the elapsed wall time times the scale', () => {
    expect(bringToNow({ worldMs: T0, wallMs: T0 }, T0 + 1000, 1)).toEqual({ worldMs: T0 + 1000, wallMs: T0 + 1000 });
    expect(bringToNow({ worldMs: T0, wallMs: T0 }, T0 + 1000, 60)).toEqual({ worldMs: T0 + 60_000, wallMs: T0 + 1000 });
    expect(bringToNow({ worldMs: T0, wallMs: T0 }, T0 + 1000, 0)).toEqual({ worldMs: T0, wallMs: T0 + 1000 });
  });

  it('keeps fractions of a millisecond', () => {
    const marks = bringToNow({ worldMs: T0, wallMs: T0 }, T0 + 1, 0.25);
    expect(marks.worldMs - T0).toBeCloseTo(0.25, 6);
  });

  it('never moves either clock back', () => {
    expect(bringToNow({ worldMs: T0 + 5000, wallMs: T0 }, T0 - 60_000, 1)).toEqual({ worldMs: T0 + 5000, wallMs: T0 });
  });
});

describe('fastForward and tickFromMs', () => {
  it('adds simulated hours to the world clock only', () => {
    expect(fastForward({ worldMs: T0, wallMs: T0 }, 24)).toEqual({ worldMs: T0 + 86_400_000, wallMs: T0 });
    expect(tickFromMs(T0 + 86_400_000) - tickFromMs(T0)).toBe(1440);
    expect(tickFromMs(T0 + 59_999)).toBe(tickFromMs(T0));
  });
});

describe('formatZoned', () => {
  it('writes ISO 8601 with the zone offset', () => {
    expect(formatZoned(T0, 'UTC')).toBe('2026-03-01T08:00:00.000Z');
    expect(formatZoned(T0, 'Asia/Shanghai')).toBe('2026-03-01T16:00:00.000+08:00');
    expect(formatZoned(T0, 'America/St_Johns')).toBe('2026-03-01T04:30:00.000-03:30');
    expect(formatZoned(T0 + 0.9, 'Europe/London')).toBe('2026-03-01T08:00:00.000+00:00');
    expect(formatZoned(Date.UTC(2026, 6, 1, 12), 'Europe/Paris')).toBe('2026-07-01T14:00:00.000+02:00');
  });

  it('agrees with Date for the instant it names', () => {
    for (const zone of ['Asia/Kolkata', 'Pacific/Chatham', 'America/Los_Angeles', 'Australia/Lord_Howe']) {
      for (let ms = T0; ms < T0 + 400 * 86_400_000; ms += 7 * 86_400_000 + 12_345) {
        expect(Date.parse(formatZoned(ms, zone)), zone).toBe(Math.floor(ms));
      }
    }
  });
});
