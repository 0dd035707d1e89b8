/**
 * The generated table (src/engine/entrained-table.ts, npm run gen:entrained) is what the engine
 * measures today: entrainedDay(DEFAULT_PARAMS) reads it instead of spending a cold process
 * 20–30 ms; this fails when DEFAULT_PARAMS or the model changed and the table was not regenerated.
 */
import { describe, expect, it } from 'vitest';
import { createParams, DEFAULT_PARAMS, entrainedDay } from '../../src/engine/index.js';
import { measureEntrainedDay } from '../../src/engine/entrained.js';
import { DEFAULT_DAY_PARAMS } from '../../src/engine/entrained-table.js';

const REGENERATE = 'the table is stale: run npm run gen:entrained';

describe('the generated entrained-day table', () => {
  const measured = measureEntrainedDay(DEFAULT_PARAMS);
  const fromTable = entrainedDay(DEFAULT_PARAMS);

  it('was made from today’s DEFAULT_PARAMS', () => {
    expect(DEFAULT_DAY_PARAMS, REGENERATE).toBe(JSON.stringify(DEFAULT_PARAMS));
  });

  it('equals the measured day, every minute to the last bit', () => {
    expect(measured).not.toBeNull();
    expect(fromTable).not.toBeNull();
    if (measured === null || fromTable === null) return;
    expect(fromTable.internalPhase).toBeInstanceOf(Float64Array);
    expect(fromTable.internalPhase.length).toBe(1440);
    expect(fromTable.sleepPressure.length).toBe(1440);
    expect(fromTable.asleep.length).toBe(1440);
    const differing: string[] = [];
    for (let minute = 0; minute < 1440; minute++) {
      for (const field of ['internalPhase', 'sleepPressure', 'asleep'] as const) {
        if (!Object.is(fromTable[field][minute], measured[field][minute])) differing.push(`${field}[${minute}]`);
      }
    }
    expect(differing.slice(0, 5), REGENERATE).toEqual([]);
    expect([fromTable.onsetMinute, fromTable.wakeMinute]).toEqual([measured.onsetMinute, measured.wakeMinute]);
  });

  it('is used for DEFAULT_PARAMS only: equal parameters in another object are measured, and agree', () => {
    const copy = createParams({});
    expect(copy).not.toBe(DEFAULT_PARAMS);
    const day = entrainedDay(copy);
    expect(day).not.toBe(fromTable);
    expect(day?.sleepPressure).toEqual(fromTable?.sleepPressure);
  });
});
