import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CorruptStateError } from '../../src/errors.js';
import { COMPRESS_ABOVE, decodeStoredAnswer, encodeStoredAnswer, type StoredAnswer } from '../../src/service/pets/idempotency.js';

const fingerprint = 'f'.repeat(64);

describe('stored idempotency answers', () => {
  it('stores a small answer as plain JSON', () => {
    const answer: StoredAnswer = { fingerprint, status: 200, body: { ok: true } };
    const stored = encodeStoredAnswer(answer);
    expect(stored.length).toBeLessThanOrEqual(COMPRESS_ABOVE);
    expect(JSON.parse(stored)).toEqual(answer);
    expect(decodeStoredAnswer('idem:1', stored)).toEqual(answer);
  });

  it('compresses a large answer (z + base64 of raw deflate) and reads it back exactly', () => {
    const body = { note: '傍晚渐近，但仍有充足的能量 ●●●○○'.repeat(20), values: Array.from({ length: 50 }, (_, i) => i / 7) };
    const answer: StoredAnswer = { fingerprint, status: 201, body };
    const stored = encodeStoredAnswer(answer);
    expect(stored.startsWith('z')).toBe(true);
    expect(stored.length).toBeLessThan(JSON.stringify(answer).length / 2);
    expect(decodeStoredAnswer('idem:1', stored)).toEqual(answer);
  });

  it('still reads large records stored uncompressed (written before compression)', () => {
    const answer: StoredAnswer = { fingerprint, status: 200, body: { note: 'x'.repeat(5000) } };
    expect(decodeStoredAnswer('idem:1', JSON.stringify(answer))).toEqual(answer);
  });

  it('reports garbage, a broken stream and an inflate bomb as CorruptStateError', () => {
    const bomb = `z${deflateRawSync(Buffer.alloc(4 << 20, 32)).toString('base64')}`;
    for (const raw of ['not json', 'z!!!!', 'zAAAA', bomb, '{"status":200}']) {
      expect(() => decodeStoredAnswer('idem:1', raw), raw.slice(0, 20)).toThrow(CorruptStateError);
    }
    expect(decodeStoredAnswer('idem:1', null)).toBeNull();
  });
});
