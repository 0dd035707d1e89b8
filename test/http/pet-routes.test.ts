import { describe, expect, it } from 'vitest';
import type { Forecast, StateDocument } from '../../src/service/index.js';
import { createTestApp, HOUR, jsonRequest, MINUTE, readJson, T0 } from './support.js';

describe('GET /api/pet/{device_id}/state', () => {
  it('creates a pet on first sight with the seed document shape', async () => {
    const { app } = createTestApp();
    const response = await app.request('/api/pet/device_123/state');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    const doc = await readJson<StateDocument>(response);
    expect(doc.device_id).toBe('device_123');
    expect(doc.pet_name).toBe('小糖');
    expect(Object.keys(doc.internal_state).sort()).toEqual(['energy', 'mood', 'rhythm', 'satiety']);
    expect(doc.internal_state.rhythm).toHaveProperty('internal_phase');
    expect(doc.internal_state.energy).toHaveProperty('energy');
    for (const field of ['pulse_rate', 'pulse_symbol', 'pulse_intensity', 'color_hex', 'color_name', 'feeling', 'life_box']) {
      expect(doc.expression).toHaveProperty(field);
    }
    expect(doc.expression.pulse_rate).toBeGreaterThanOrEqual(60);
    expect(doc.expression.pulse_rate).toBeLessThanOrEqual(120);
    expect(doc.simplified_state).toEqual({
      energy: expect.any(Number),
      hunger: expect.any(Number),
      mood: expect.any(Number),
      current_state: expect.stringMatching(/^(sleep|sleepy|hungry|play|idle|bored|grumpy)$/),
    });
    expect(doc.stats).toEqual({ feed: 0, play: 0, greet: 0 });
    expect(doc.timezone).toBe('UTC');
    expect(doc.pet_time).toBe('2026-03-01T08:00:00.000Z');
    expect(doc.last_updated).toBe(new Date(T0).toISOString());
    expect(doc.created_at).toBe(new Date(T0).toISOString());
    expect(doc.version).toBe(1);
    expect(doc.away).toBeUndefined();
  });

  it('uses PET_NAME and PET_TZ for new pets and shows pet_time with the zone offset', async () => {
    const { app } = createTestApp({ env: { PET_NAME: 'Mochi', PET_TZ: 'Asia/Shanghai' } });
    const doc = await readJson<StateDocument>(await app.request('/api/pet/p1/state'));
    expect(doc.pet_name).toBe('Mochi');
    expect(doc.timezone).toBe('Asia/Shanghai');
    expect(doc.pet_time).toBe('2026-03-01T16:00:00.000+08:00');
  });

  it('speaks English with ?lang=en or Accept-Language, Chinese by default', async () => {
    const { app } = createTestApp();
    const zh = await readJson<StateDocument>(await app.request('/api/pet/p1/state'));
    const en = await readJson<StateDocument>(await app.request('/api/pet/p1/state?lang=en'));
    const header = await readJson<StateDocument>(
      await app.request('/api/pet/p1/state', { headers: { 'Accept-Language': 'fr;q=1, en-GB;q=0.8, zh;q=0.5' } }),
    );
    expect(zh.expression.feeling).toMatch(/[\u4e00-\u9fff]/);
    expect(en.expression.feeling).not.toMatch(/[\u4e00-\u9fff]/);
    expect(header.expression.feeling).toBe(en.expression.feeling);
    const queryWins = await readJson<StateDocument>(
      await app.request('/api/pet/p1/state?lang=zh', { headers: { 'Accept-Language': 'en' } }),
    );
    expect(queryWins.expression.feeling).toBe(zh.expression.feeling);
  });

  it('keeps pets apart', async () => {
    const { app } = createTestApp();
    await app.request('/api/pet/a/interact', jsonRequest('POST', { action: 'feed' }));
    const b = await readJson<StateDocument>(await app.request('/api/pet/b/state'));
    expect(b.stats.feed).toBe(0);
  });
});

describe('POST /api/pet/{device_id}/interact', () => {
  it('applies each action, counts it once and says what it did', async () => {
    const { app } = createTestApp();
    for (const action of ['feed', 'play', 'greet'] as const) {
      const response = await app.request('/api/pet/p1/interact', jsonRequest('POST', { action }));
      expect(response.status).toBe(200);
      const doc = await readJson<StateDocument>(response);
      expect(doc.interaction?.action).toBe(action);
      expect(typeof doc.interaction?.event).toBe('string');
    }
    const doc = await readJson<StateDocument>(await app.request('/api/pet/p1/state'));
    expect(doc.stats).toEqual({ feed: 1, play: 1, greet: 1 });
  });

  it('feeding lowers hunger', async () => {
    const { app, clock } = createTestApp();
    await app.request('/api/pet/p1/state');
    clock.advance(6 * HOUR);
    const before = await readJson<StateDocument>(await app.request('/api/pet/p1/state'));
    const after = await readJson<StateDocument>(await app.request('/api/pet/p1/interact', jsonRequest('POST', { action: 'feed' })));
    expect(after.simplified_state.hunger).toBeLessThan(before.simplified_state.hunger);
  });
});

describe('POST /api/pet/{device_id}/catchup', () => {
  it('fast-forwards 24 h as 1440 ticks and reports what happened', async () => {
    const { app } = createTestApp();
    await app.request('/api/pet/p1/state');
    const response = await app.request('/api/pet/p1/catchup?lang=en', jsonRequest('POST', { hours: 24 }));
    expect(response.status).toBe(200);
    const doc = await readJson<StateDocument>(response);
    expect(doc.catchup).toMatchObject({ ticks: 1440, hours: 24, requested_hours: 24 });
    expect(doc.catchup?.sleeps).toBeGreaterThanOrEqual(1);
    expect(doc.catchup?.lowest_energy).toEqual(expect.any(Number));
    expect(doc.catchup?.summary.length).toBeGreaterThan(0);
    expect(doc.catchup?.took_ms).toBeGreaterThanOrEqual(0);
    // The pet's world clock is now a day ahead of the wall clock.
    expect(doc.pet_time).toBe('2026-03-02T08:00:00.000Z');
    expect(doc.last_updated).toBe(new Date(T0).toISOString());
  });

  it('accepts fractions of an hour and keeps the remainder', async () => {
    const { app } = createTestApp();
    await app.request('/api/pet/p1/state');
    const first = await readJson<StateDocument>(await app.request('/api/pet/p1/catchup', jsonRequest('POST', { hours: 0.01 })));
    expect(first.catchup?.ticks).toBe(0); // 36 s: no whole minute yet
    const second = await readJson<StateDocument>(await app.request('/api/pet/p1/catchup', jsonRequest('POST', { hours: 0.01 })));
    expect(second.catchup?.ticks).toBe(1); // 72 s in total
    expect(second.pet_time).toBe('2026-03-01T08:01:12.000Z');
    const half = await readJson<StateDocument>(await app.request('/api/pet/p1/catchup', jsonRequest('POST', { hours: 0.5 })));
    expect(half.catchup?.ticks).toBe(30);
  });

  it('takes a simulated year in one request', async () => {
    const { app } = createTestApp();
    const doc = await readJson<StateDocument>(await app.request('/api/pet/p1/catchup', jsonRequest('POST', { hours: 8760 })));
    expect(doc.catchup?.ticks).toBe(525_600);
    expect(doc.catchup?.sleeps).toBeGreaterThan(300);
  });
});

describe('POST /api/pet/{device_id}/reset', () => {
  it('starts a new life, keeping name and timezone', async () => {
    const { app, clock } = createTestApp();
    await app.request('/api/pet/p1', jsonRequest('PATCH', { pet_name: 'Mochi', timezone: 'Europe/Paris' }));
    await app.request('/api/pet/p1/interact', jsonRequest('POST', { action: 'feed' }));
    clock.advance(3 * HOUR);
    const response = await app.request('/api/pet/p1/reset', { method: 'POST' });
    expect(response.status).toBe(200);
    const doc = await readJson<StateDocument>(response);
    expect(doc.stats).toEqual({ feed: 0, play: 0, greet: 0 });
    expect(doc.pet_name).toBe('Mochi');
    expect(doc.timezone).toBe('Europe/Paris');
    expect(doc.created_at).toBe(new Date(T0 + 3 * HOUR).toISOString());
    expect(doc.away).toBeUndefined();
  });
});

describe('PATCH /api/pet/{device_id}', () => {
  it('renames the pet', async () => {
    const { app } = createTestApp();
    const doc = await readJson<StateDocument>(await app.request('/api/pet/p1', jsonRequest('PATCH', { pet_name: '  团子 ' })));
    expect(doc.pet_name).toBe('团子');
    const again = await readJson<StateDocument>(await app.request('/api/pet/p1/state'));
    expect(again.pet_name).toBe('团子');
  });

  it('moves the pet to another timezone: its day shifts at once', async () => {
    const { app } = createTestApp();
    await app.request('/api/pet/p1/state');
    const doc = await readJson<StateDocument>(await app.request('/api/pet/p1', jsonRequest('PATCH', { timezone: 'America/New_York' })));
    expect(doc.timezone).toBe('America/New_York');
    expect(doc.pet_time).toBe('2026-03-01T03:00:00.000-05:00');
    expect(doc.internal_state.rhythm.external_phase).toBeCloseTo(3 / 24, 6);
  });
});

describe('GET /api/pet/{device_id}/forecast', () => {
  it('samples the next hours every 10 minutes by default', async () => {
    const { app } = createTestApp();
    const response = await app.request('/api/pet/p1/forecast?hours=3');
    expect(response.status).toBe(200);
    const forecast = await readJson<Forecast>(response);
    expect(forecast.hours).toBe(3);
    expect(forecast.step_minutes).toBe(10);
    expect(forecast.points).toHaveLength(19);
    expect(forecast.points[0]).toEqual({
      time: '2026-03-01T08:00:00.000Z',
      tick: T0 / MINUTE,
      energy: expect.any(Number),
      hunger: expect.any(Number),
      mood: expect.any(Number),
      asleep: expect.any(Boolean),
      circadian_value: expect.any(Number),
      current_state: expect.any(String),
    });
    expect(forecast.points[18]?.time).toBe('2026-03-01T11:00:00.000Z');
  });

  it('defaults to 24 hours and leaves storage untouched (one read, zero writes)', async () => {
    const { app, storage } = createTestApp();
    await app.request('/api/pet/p1/interact', jsonRequest('POST', { action: 'play' }));
    const keys = storage.keys();
    const before = keys.map((key) => storage.rawGet(key));
    const trips = storage.roundTrips();
    const forecast = await readJson<Forecast>(await app.request('/api/pet/p1/forecast'));
    expect(forecast.points).toHaveLength(24 * 6 + 1);
    expect(storage.roundTrips() - trips).toBe(1);
    expect(storage.keys()).toEqual(keys);
    expect(keys.map((key) => storage.rawGet(key))).toEqual(before);
  });

  it('does not create a pet it forecasts', async () => {
    const { app, storage } = createTestApp();
    const response = await app.request('/api/pet/ghost/forecast?hours=1&step_minutes=60');
    expect(response.status).toBe(200);
    expect((await readJson<Forecast>(response)).points).toHaveLength(2);
    expect(storage.keys()).toEqual([]);
  });

  it('refuses hours outside 1–168 and bad steps', async () => {
    const { app } = createTestApp();
    for (const query of ['hours=0', 'hours=169', 'hours=abc', 'step_minutes=0', 'step_minutes=61', 'step_minutes=1.5']) {
      const response = await app.request(`/api/pet/p1/forecast?${query}`);
      expect(response.status, query).toBe(400);
    }
  });
});
