/**
 * The tick grid and timezones: conversions, UTC offsets from Intl (DST, half-hour and 45-minute
 * zones) and the exact tick of an offset change.
 */
import { describe, expect, it } from 'vitest';
import { isValidTimezone, localMinute, msFromTick, TICKS_PER_DAY, tickFromMs, utcOffsetMinutes } from '../../src/engine/index.js';
import { nextOffsetChange } from '../../src/engine/time.js';

const tickOf = (iso: string) => tickFromMs(Date.parse(iso));

describe('time', () => {
  it('converts between Unix ms and ticks, flooring to the minute', () => {
    expect(TICKS_PER_DAY).toBe(1440);
    expect(tickFromMs(0)).toBe(0);
    expect(tickFromMs(59_999)).toBe(0);
    expect(tickFromMs(60_000)).toBe(1);
    expect(tickFromMs(-1)).toBe(-1);
    expect(msFromTick(tickOf('2024-06-01T12:34:56Z'))).toBe(Date.parse('2024-06-01T12:34:00Z'));
  });

  it('knows the UTC offsets of fixed, DST, half-hour and 45-minute zones', () => {
    expect(utcOffsetMinutes('UTC', tickOf('2024-01-01T00:00Z'))).toBe(0);
    expect(utcOffsetMinutes('Asia/Shanghai', tickOf('2024-07-01T00:00Z'))).toBe(480);
    expect(utcOffsetMinutes('America/New_York', tickOf('2024-01-15T00:00Z'))).toBe(-300);
    expect(utcOffsetMinutes('America/New_York', tickOf('2024-07-15T00:00Z'))).toBe(-240);
    expect(utcOffsetMinutes('Asia/Kolkata', tickOf('2024-07-15T00:00Z'))).toBe(330);
    expect(utcOffsetMinutes('Asia/Kathmandu', tickOf('2024-07-15T00:00Z'))).toBe(345);
    expect(utcOffsetMinutes('Australia/Lord_Howe', tickOf('2024-01-15T00:00Z'))).toBe(660);
    expect(utcOffsetMinutes('Australia/Lord_Howe', tickOf('2024-07-15T00:00Z'))).toBe(630);
  });

  it('changes the offset at the exact tick of a DST transition', () => {
    // New York springs forward at 2024-03-10 07:00 UTC and falls back at 2024-11-03 06:00 UTC.
    const spring = tickOf('2024-03-10T07:00Z');
    expect(utcOffsetMinutes('America/New_York', spring - 1)).toBe(-300);
    expect(utcOffsetMinutes('America/New_York', spring)).toBe(-240);
    expect(localMinute('America/New_York', spring - 1)).toBe(119);
    expect(localMinute('America/New_York', spring)).toBe(180);
    const autumn = tickOf('2024-11-03T06:00Z');
    expect(utcOffsetMinutes('America/New_York', autumn - 1)).toBe(-240);
    expect(utcOffsetMinutes('America/New_York', autumn)).toBe(-300);
    expect(nextOffsetChange('America/New_York', spring - 3000, spring + 3000)).toBe(spring);
    expect(nextOffsetChange('America/New_York', spring - 1, spring)).toBe(spring);
    expect(nextOffsetChange('America/New_York', spring, spring + 3000)).toBeNull();
    expect(nextOffsetChange('America/New_York', autumn - 10, autumn + 10)).toBe(autumn);
    expect(nextOffsetChange('UTC', 0, 400 * TICKS_PER_DAY)).toBeNull();
  });

  it('gives the local minute of the day in the zone', () => {
    expect(localMinute('Asia/Shanghai', tickOf('2024-01-01T16:30Z'))).toBe(30);
    expect(localMinute('America/New_York', tickOf('2024-01-01T03:00Z'))).toBe(22 * 60);
    expect(localMinute('UTC', -1)).toBe(1439);
  });

  it('tells known IANA zones from anything else', () => {
    for (const zone of ['UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires', 'Etc/GMT-6']) {
      expect(isValidTimezone(zone)).toBe(true);
    }
    for (const zone of ['', 'Mars/Olympus', 'Europe/Pariss', 'not a zone']) {
      expect(isValidTimezone(zone)).toBe(false);
    }
  });
});

describe('UTC without a formatter', () => {
  it('answers the local minute Intl formats for UTC, 1900–2100', () => {
    const intl = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', hourCycle: 'h23', hour: 'numeric', minute: 'numeric' });
    const start = Math.floor(Date.UTC(1900, 0, 1) / 60_000);
    const end = Math.floor(Date.UTC(2100, 0, 1) / 60_000);
    for (let tick = start; tick < end; tick += 9_973 * 7) {
      const parts = Object.fromEntries(intl.formatToParts(msFromTick(tick)).map((part) => [part.type, Number(part.value)]));
      expect(localMinute('UTC', tick) + 0).toBe((parts['hour'] ?? NaN) * 60 + (parts['minute'] ?? NaN));
      expect(utcOffsetMinutes('UTC', tick)).toBe(0);
    }
    expect(nextOffsetChange('UTC', start, end)).toBeNull();
  });
});
