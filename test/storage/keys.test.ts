/** The key layout (src/storage/keys.ts) answers what a key is, so no caller parses keys itself. */
import { describe, expect, it } from 'vitest';
import { EVENTS_CHANNEL, isExtraRecordKey, KEY_PREFIX } from '../../src/storage/keys.js';

describe('key layout', () => {
  it.each([
    ['life_dev-1:idem:3fa2', true],
    ['life_{dev-1}:idem:3fa2', true],
    [`dev-1${'/'}extras${'/'}idem%3A3fa2.1767225600000.json`, true],
    ['life_dev-1:meta', false],
    ['life_dev-1:extras', false],
    ['life_dev-1:events', false],
    ['life_dev-1:energy', false],
    ['life_~rate:1.2.3.4', false],
    ['dev-1/pet.json', false],
    ['other:idem:3fa2', false],
  ])('isExtraRecordKey(%j) is %s', (key, expected) => {
    expect(isExtraRecordKey(key)).toBe(expected);
  });

  it('names the events channel as a global record of the prefix', () => {
    expect(EVENTS_CHANNEL).toBe(`${KEY_PREFIX}~events`);
    expect(EVENTS_CHANNEL).toBe('life_~events');
  });
});
