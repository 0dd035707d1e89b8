import { describe, expect, it } from 'vitest';
import type { StateDocument } from '../../src/service/index.js';
import { createTestApp, HOUR, jsonRequest, MINUTE, readJson, T0 } from './support.js';

const state = async (app: ReturnType<typeof createTestApp>['app'], query = '') =>
  readJson<StateDocument>(await app.request(`/api/pet/p1/state${query}`));

describe('time model (docs/design.md §2)', () => {
  it('TIME_SCALE=1: the pet lives as long as the wall clock moves', async () => {
    const { app, clock } = createTestApp();
    await state(app);
    clock.advance(90 * MINUTE);
    const doc = await state(app);
    expect(doc.pet_time).toBe('2026-03-01T09:30:00.000Z');
    expect(doc.last_updated).toBe(new Date(T0 + 90 * MINUTE).toISOString());
    expect(doc.away?.ticks).toBe(90);
  });

  it('TIME_SCALE=60: one real minute is one simulated hour', async () => {
    const { app, clock } = createTestApp({ env: { TIME_SCALE: '60' } });
    await state(app);
    clock.advance(MINUTE);
    const doc = await state(app);
    expect(doc.pet_time).toBe('2026-03-01T09:00:00.000Z');
    clock.advance(24 * MINUTE);
    const day = await state(app);
    expect(day.pet_time).toBe('2026-03-02T09:00:00.000Z');
    expect(day.away?.ticks).toBe(1440);
  });

  it('TIME_SCALE=0: only catch-up moves time', async () => {
    const { app, clock, storage } = createTestApp({ env: { TIME_SCALE: '0' } });
    const first = await state(app);
    clock.advance(48 * HOUR);
    const trips = storage.roundTrips();
    const later = await state(app);
    expect(later.pet_time).toBe(first.pet_time);
    expect(later.internal_state).toEqual(first.internal_state);
    expect(later.away).toBeUndefined();
    expect(storage.roundTrips() - trips).toBe(1); // nothing advanced: nothing written
    const caught = await readJson<StateDocument>(await app.request('/api/pet/p1/catchup', jsonRequest('POST', { hours: 24 })));
    expect(caught.catchup?.ticks).toBe(1440);
    expect(caught.pet_time).toBe('2026-03-02T08:00:00.000Z');
  });

  it('keeps sub-minute remainders instead of rounding them away', async () => {
    const { app, clock } = createTestApp();
    await state(app);
    // 40 s at a time: a request that does not complete a minute writes nothing (and answers the
    // stored instant, never one ahead of it: issue #5), and the next one still counts those seconds.
    clock.advance(40_000);
    expect((await state(app)).pet_time).toBe('2026-03-01T08:00:00.000Z');
    clock.advance(40_000);
    expect((await state(app)).pet_time).toBe('2026-03-01T08:01:20.000Z');
    clock.advance(40_000);
    expect((await state(app)).pet_time).toBe('2026-03-01T08:02:00.000Z');
  });

  it('never moves a pet back when the wall clock goes backwards', async () => {
    const { app, clock } = createTestApp();
    await state(app);
    clock.advance(2 * HOUR);
    const ahead = await state(app);
    clock.advance(-3 * HOUR);
    const skewed = await state(app);
    expect(skewed.pet_time).toBe(ahead.pet_time);
    expect(skewed.last_updated).toBe(ahead.last_updated);
    expect(skewed.internal_state).toEqual(ahead.internal_state);
    // Time resumes only once the wall clock passes the last instant seen.
    clock.advance(3 * HOUR + 10 * MINUTE);
    const resumed = await state(app);
    expect(resumed.pet_time).toBe('2026-03-01T10:10:00.000Z');
  });

  it('reports "while you were away" after more than an hour, once, in the request language', async () => {
    const { app, clock } = createTestApp();
    await state(app);
    clock.advance(60 * MINUTE);
    expect((await state(app)).away).toBeUndefined(); // exactly an hour: not "more than"
    clock.advance(26 * HOUR);
    const back = await state(app, '?lang=en');
    expect(back.away).toMatchObject({ ticks: 1560, hours: 26 });
    expect(back.away?.sleeps).toBeGreaterThanOrEqual(1);
    expect(back.away?.summary).toMatch(/[a-z]/i);
    expect(back.away?.summary).not.toMatch(/[\u4e00-\u9fff]/);
    expect((await state(app)).away).toBeUndefined(); // told once
  });

  it('carries the away report on interactions too', async () => {
    const { app, clock } = createTestApp();
    await state(app);
    clock.advance(5 * HOUR);
    const doc = await readJson<StateDocument>(await app.request('/api/pet/p1/interact', jsonRequest('POST', { action: 'greet' })));
    expect(doc.away?.ticks).toBe(300);
    expect(doc.interaction?.action).toBe('greet');
  });

  it('keeps the catch-up lead: the world clock stays ahead of the wall clock', async () => {
    const { app, clock } = createTestApp();
    await readJson<StateDocument>(await app.request('/api/pet/p1/catchup', jsonRequest('POST', { hours: 6 })));
    clock.advance(30 * MINUTE);
    const doc = await state(app);
    expect(doc.pet_time).toBe('2026-03-01T14:30:00.000Z');
  });
});

describe('storage round trips per request', () => {
  it('is 2 for every change (one read, one compare-and-set), whatever the ticks', async () => {
    const { app, clock, storage, logs } = createTestApp();
    const cases: Array<[string, RequestInit | undefined]> = [
      ['/api/pet/p1/state', undefined], // creates the pet
      ['/api/pet/p1/interact', jsonRequest('POST', { action: 'feed' })],
      ['/api/pet/p1/catchup', jsonRequest('POST', { hours: 24 })],
      ['/api/pet/p1/catchup', jsonRequest('POST', { hours: 8760 })],
      ['/api/pet/p1', jsonRequest('PATCH', { pet_name: 'x' })],
      ['/api/pet/p1/reset', { method: 'POST' }],
      ['/api/pet/status?device_id=p1&lang=en', undefined],
    ];
    for (const [path, init] of cases) {
      clock.advance(2 * HOUR); // so that every GET advances too
      const trips = storage.roundTrips();
      const response = await app.request(path, init);
      expect(response.status, path).toBe(200);
      expect(storage.roundTrips() - trips, path).toBe(2);
      expect(logs.at(-1)?.['round_trips'], path).toBe(2);
    }
  });

  it('is 1 for a GET that advanced no whole tick, and for a forecast', async () => {
    const { app, clock, storage, logs } = createTestApp();
    await state(app);
    clock.advance(30_000);
    let trips = storage.roundTrips();
    await state(app);
    expect(storage.roundTrips() - trips).toBe(1);
    expect(logs.at(-1)?.['round_trips']).toBe(1);
    trips = storage.roundTrips();
    await app.request('/api/pet/p1/forecast?hours=168');
    expect(storage.roundTrips() - trips).toBe(1);
  });
});

describe('the request log', () => {
  it('writes one JSON line per request with route, device, status, duration, backend and round trips', async () => {
    const { app, logs } = createTestApp();
    await app.request('/api/pet/p1/interact', jsonRequest('POST', { action: 'play' }));
    await app.request('/api/pet/x.y/state');
    const requests = logs.filter((line) => line['msg'] === 'request');
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({
      level: 'info',
      method: 'POST',
      path: '/api/pet/p1/interact',
      route: '/api/pet/:device_id/interact',
      device: 'p1',
      status: 200,
      backend: 'MemoryStorage',
      round_trips: 2,
      duration_ms: expect.any(Number),
      request_id: expect.any(String),
    });
    expect(requests[1]).toMatchObject({ status: 400, round_trips: 0 });
  });
});
