import { describe, expect, it } from 'vitest';
import { compareEventIds, isEventId, nextEventId } from '../../src/storage/index.js';

describe('event ids', () => {
  it('accepts <ms>-<seq> only', () => {
    for (const id of ['0-0', '1764028800000-0', '1764028800000-17']) expect(isEventId(id)).toBe(true);
    for (const id of ['', '1', '-1-0', '1-', '1-0-0', ' 1-0', '1.5-0', 'a-b', '99999999999999999-0', 1, null])
      expect(isEventId(id)).toBe(false);
  });

  it('compares by ms then seq, numerically', () => {
    expect(compareEventIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareEventIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareEventIds('10-3', '10-3')).toBe(0);
    expect(compareEventIds('11-0', '10-99')).toBeGreaterThan(0);
    expect(() => compareEventIds('x', '1-0')).toThrow(RangeError);
  });

  it('makes ids as XADD * does: the clock, or the last ms with the next seq when the clock is not ahead', () => {
    expect(nextEventId(null, 1000)).toBe('1000-0');
    expect(nextEventId('1000-0', 1001)).toBe('1001-0');
    expect(nextEventId('1000-4', 1000)).toBe('1000-5');
    expect(nextEventId('1000-4', 900)).toBe('1000-5');
  });
});
