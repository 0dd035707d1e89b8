/**
 * State reads answered from the service's read cache (READ_CACHE_SIZE), through the app: the same
 * document text, but each response still its own — request id, rate-limit counts, log line.
 */
import { describe, expect, it } from 'vitest';
import type { StateDocument } from '../../src/service/index.js';
import { createTestApp, jsonRequest, MINUTE, readJson } from './support.js';

describe('GET state from the read cache', () => {
  it('answers the same text in the same minute, with its own request id, rate-limit count and log line', async () => {
    const { app, logs } = createTestApp({ env: { RATE_LIMIT_PER_PET: '100', RATE_LIMIT_PER_CLIENT: '0' } });
    await app.request('/api/pet/p/state'); // creates the pet (saved, so not cached)
    const first = await app.request('/api/pet/p/state');
    const second = await app.request('/api/pet/p/state');
    expect(await second.text()).toBe(await first.text());
    expect(second.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));
    expect(first.headers.get('ratelimit')).toBe('"pet";r=98;t=60');
    expect(second.headers.get('ratelimit')).toBe('"pet";r=97;t=60');
    expect(second.headers.get('content-type')).toBe('application/json');
    expect(second.headers.get('x-content-type-options')).toBe('nosniff');
    expect(logs.filter((line) => line['path'] === '/api/pet/p/state' && line['round_trips'] === 1)).toHaveLength(2);
  });

  it('shows a change at once, and the next minute once it has come', async () => {
    const { app, clock } = createTestApp();
    await app.request('/api/pet/p/state');
    const before = await readJson<StateDocument>(await app.request('/api/pet/p/state?lang=en'));
    await app.request('/api/pet/p/interact', jsonRequest('POST', { action: 'feed' }));
    const fed = await readJson<StateDocument>(await app.request('/api/pet/p/state?lang=en'));
    expect(fed.stats.feed).toBe(before.stats.feed + 1);
    clock.advance(MINUTE);
    const later = await readJson<StateDocument>(await app.request('/api/pet/p/state?lang=en'));
    expect(later.version).toBe(fed.version + 1);
    expect(later.pet_time).not.toBe(fed.pet_time);
  });

  it('answers the same documents with READ_CACHE_SIZE=0', async () => {
    const cached = createTestApp();
    const plain = createTestApp({ env: { READ_CACHE_SIZE: '0' } });
    for (const { app } of [cached, plain]) await app.request('/api/pet/p/state');
    for (let i = 0; i < 3; i += 1) {
      const a = await (await cached.app.request('/api/pet/p/state')).text();
      const b = await (await plain.app.request('/api/pet/p/state')).text();
      expect(a).toBe(b);
    }
  });
});
