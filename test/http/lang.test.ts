import { describe, expect, it } from 'vitest';
import { pickLang } from '../../src/http/lang.js';

describe('pickLang', () => {
  it.each([
    [undefined, undefined, 'zh'],
    ['en', 'zh-CN', 'en'],
    [undefined, 'en-US,en;q=0.9', 'en'],
    [undefined, 'zh-TW, en;q=0.5', 'zh'],
    [undefined, 'fr, de;q=0.9, en;q=0.1', 'en'],
    [undefined, 'en;q=0, zh;q=0.1', 'zh'],
    [undefined, 'ja', 'zh'],
    [undefined, '*', 'zh'],
    [undefined, 'en;q=abc', 'zh'],
  ] as const)('lang=%s, Accept-Language=%s → %s', (query, header, expected) => {
    expect(pickLang(query, header)).toBe(expected);
  });
});
