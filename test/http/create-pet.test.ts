/**
 * docs/design.md §8: `POST /api/pets`, `?timezone=` on a first GET, and newborns (created, first seen,
 * reset, moved in their first hour) born entrained to their local time of birth.
 */
import { describe, expect, it } from 'vitest';
import type { Forecast, StateDocument } from '../../src/service/index.js';
import { createTestApp, type ErrorJson, HOUR, jsonRequest, MINUTE, readJson } from './support.js';

/** 2026-03-01 20:00 in Tokyo (11:00 UTC). */
const TOKYO_20 = Date.UTC(2026, 2, 1, 11, 0);

/** Local time (HH:MM of the ISO string) of the first forecast minute the pet is asleep, and of its waking. */
async function firstNight(app: ReturnType<typeof createTestApp>['app'], id: string): Promise<{ onset: string; wake: string }> {
  const forecast = await readJson<Forecast>(await app.request(`/api/pet/${id}/forecast?hours=33&step_minutes=1`));
  const onsetIndex = forecast.points.findIndex((p, k) => p.asleep && k > 0 && !forecast.points[k - 1]?.asleep);
  const wakeIndex = forecast.points.findIndex((p, k) => k > onsetIndex && !p.asleep);
  const hhmm = (k: number) => forecast.points[k]?.time.slice(11, 16) ?? '';
  return { onset: hhmm(onsetIndex), wake: hhmm(wakeIndex) };
}

describe('POST /api/pets', () => {
  it('creates a pet with a generated id (pet_ + 128 random bits), the default name and zone: 201 with the state document', async () => {
    const { app } = createTestApp();
    const response = await app.request('/api/pets', { method: 'POST' });
    expect(response.status).toBe(201);
    const doc = await readJson<StateDocument>(response);
    expect(doc.device_id).toMatch(/^pet_[A-Za-z0-9_-]{22}$/);
    expect(doc).toMatchObject({ pet_name: '小糖', timezone: 'UTC', version: 1, stats: { feed: 0, play: 0, greet: 0 } });
    const again = await readJson<StateDocument>(await app.request(`/api/pet/${doc.device_id}/state`));
    expect(again.version).toBe(1);
    const other = await readJson<StateDocument>(await app.request('/api/pets', jsonRequest('POST', {})));
    expect(other.device_id).not.toBe(doc.device_id);
  });

  it('takes device_id, pet_name and timezone; born at 20:00 in Tokyo it sleeps at 22:49 Tokyo time', async () => {
    const { app } = createTestApp({ startMs: TOKYO_20 });
    const response = await app.request(
      '/api/pets',
      jsonRequest('POST', { device_id: 'mochi', pet_name: ' Mochi ', timezone: 'Asia/Tokyo' }),
    );
    expect(response.status).toBe(201);
    const doc = await readJson<StateDocument>(response);
    expect(doc).toMatchObject({ device_id: 'mochi', pet_name: 'Mochi', timezone: 'Asia/Tokyo', pet_time: '2026-03-01T20:00:00.000+09:00' });
    expect(doc.internal_state.energy['asleep']).toBe(false);
    // The body clock runs 17–23 min behind local time, as an entrained pet's does (not on it).
    expect(doc.internal_state.rhythm['phase_difference']).toBeGreaterThan(0.011);
    expect(doc.internal_state.rhythm['phase_difference']).toBeLessThan(0.017);
    expect(await firstNight(app, 'mochi')).toEqual({ onset: '22:49', wake: '06:46' });
  });

  it('answers 409 already_exists for a taken id, however it was created, claimed or not', async () => {
    const { app } = createTestApp();
    await app.request('/api/pet/seen/state');
    await app.request('/api/pets', jsonRequest('POST', { device_id: 'made' }));
    const claimed = await app.request('/api/pets', jsonRequest('POST', { device_id: 'owned' }));
    expect(claimed.status).toBe(201);
    expect((await app.request('/api/pet/owned/claim', { method: 'POST' })).status).toBe(201);
    for (const id of ['seen', 'made', 'owned']) {
      const response = await app.request('/api/pets', jsonRequest('POST', { device_id: id, timezone: 'Asia/Tokyo' }));
      expect(response.status, id).toBe(409);
      expect((await readJson<ErrorJson>(response)).error.code).toBe('already_exists');
    }
    // Nothing was changed by the refusals.
    expect((await readJson<StateDocument>(await app.request('/api/pet/made/state'))).timezone).toBe('UTC');
  });

  it('lets one of two concurrent creations of one id win; the other gets 409', async () => {
    const { app } = createTestApp();
    const statuses = await Promise.all(
      [0, 1, 2].map(async () => (await app.request('/api/pets', jsonRequest('POST', { device_id: 'race' }))).status),
    );
    expect(statuses.sort()).toEqual([201, 409, 409]);
  });

  it.each([
    ['a bad device_id', { device_id: 'no spaces' }, 'invalid_device_id'],
    ['a numeric device_id', { device_id: 7 }, 'invalid_device_id'],
    ['an unknown timezone', { timezone: 'Mars/Olympus' }, 'invalid_timezone'],
    ['a numeric timezone', { timezone: 9 }, 'invalid_timezone'],
    ['an empty pet_name', { pet_name: '  ' }, 'invalid_body'],
    ['a body that is not an object', [1], 'invalid_body'],
  ])('refuses %s with 400', async (_, body, code) => {
    const { app, storage } = createTestApp();
    const response = await app.request('/api/pets', jsonRequest('POST', body));
    expect(response.status).toBe(400);
    expect((await readJson<ErrorJson>(response)).error.code).toBe(code);
    expect(storage.keys()).toEqual([]);
  });

  it('refuses a body that is not JSON (415) or not valid JSON (400)', async () => {
    const { app } = createTestApp();
    expect((await app.request('/api/pets', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })).status).toBe(415);
    const broken = await app.request('/api/pets', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(broken.status).toBe(400);
  });

  it('with its own id and an Idempotency-Key, answers a retry with the first 201', async () => {
    const { app, clock } = createTestApp();
    const init = jsonRequest('POST', { device_id: 'retry', timezone: 'Europe/Paris' }, { 'Idempotency-Key': 'k-1' });
    const first = await app.request('/api/pets', init);
    clock.advance(5 * MINUTE);
    const second = await app.request('/api/pets', init);
    expect(second.status).toBe(201);
    expect(second.headers.get('Idempotent-Replayed')).toBe('true');
    expect(await second.json()).toEqual(await first.json());
  });

  it('is in the OpenAPI document', async () => {
    const { app } = createTestApp();
    const doc = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>>;
    };
    const create = doc.paths['/api/pets']?.['post'];
    expect(Object.keys(create?.responses ?? {})).toEqual(expect.arrayContaining(['201', '400', '409']));
    expect(JSON.stringify(create?.requestBody)).toMatch(/PetCreateRequest/);
    expect(JSON.stringify(doc.paths['/api/pet/{device_id}/state'])).toMatch(/"timezone"/);
  });
});

describe('GET /api/pet/{device_id}/state?timezone=', () => {
  it('creates a never-seen pet in that zone and ignores it afterwards', async () => {
    const { app } = createTestApp({ startMs: TOKYO_20 });
    const first = await readJson<StateDocument>(await app.request('/api/pet/t1/state?timezone=Asia/Tokyo'));
    expect(first.timezone).toBe('Asia/Tokyo');
    const later = await readJson<StateDocument>(await app.request('/api/pet/t1/state?timezone=Europe/Paris'));
    expect(later.timezone).toBe('Asia/Tokyo');
    expect(await firstNight(app, 't1')).toEqual({ onset: '22:49', wake: '06:46' });
  });

  it('refuses an unknown zone with 400 invalid_timezone', async () => {
    const { app } = createTestApp();
    const response = await app.request('/api/pet/t2/state?timezone=Mars/Olympus');
    expect(response.status).toBe(400);
    expect((await readJson<ErrorJson>(response)).error.code).toBe('invalid_timezone');
  });

  it('without it, creates the pet entrained in the default zone (PET_TZ)', async () => {
    const { app } = createTestApp({ env: { PET_TZ: 'Asia/Tokyo' }, startMs: TOKYO_20 + 7 * HOUR });
    const doc = await readJson<StateDocument>(await app.request('/api/pet/t3/state'));
    // 03:00 in Tokyo: a newborn is asleep and wakes at its usual hour.
    expect(doc.simplified_state.current_state).toBe('sleep');
    const forecast = await readJson<Forecast>(await app.request('/api/pet/t3/forecast?hours=6&step_minutes=1'));
    expect(forecast.points.find((p) => !p.asleep)?.time).toBe('2026-03-02T06:46:00.000+09:00');
  });
});

describe('newborns elsewhere in the service', () => {
  it('with TIME_SCALE=0, a pet born at 20:00 sleeps that night at its usual hour (by catch-up)', async () => {
    const { app } = createTestApp({ env: { TIME_SCALE: '0' }, startMs: TOKYO_20 });
    await app.request('/api/pets', jsonRequest('POST', { device_id: 'frozen', timezone: 'Asia/Tokyo' }));
    expect(await firstNight(app, 'frozen')).toEqual({ onset: '22:49', wake: '06:46' });
    const caught = await readJson<StateDocument>(await app.request('/api/pet/frozen/catchup', jsonRequest('POST', { hours: 3 })));
    expect(caught.pet_time).toBe('2026-03-01T23:00:00.000+09:00');
    expect(caught.simplified_state.current_state).toBe('sleep');
  });

  it('reset makes the same entrained newborn as a creation in that zone at that moment', async () => {
    const { app, clock } = createTestApp({ startMs: TOKYO_20 });
    await app.request('/api/pets', jsonRequest('POST', { device_id: 'old', timezone: 'Asia/Tokyo' }));
    clock.advance(9 * HOUR);
    await app.request('/api/pet/old/interact', jsonRequest('POST', { action: 'play' }));
    clock.advance(HOUR);
    const reset = await readJson<StateDocument>(await app.request('/api/pet/old/reset', { method: 'POST' }));
    const fresh = await readJson<StateDocument>(
      await app.request('/api/pets', jsonRequest('POST', { device_id: 'new', timezone: 'Asia/Tokyo' })),
    );
    expect(reset.internal_state.rhythm).toEqual(fresh.internal_state.rhythm);
    expect(reset.internal_state.energy).toEqual(fresh.internal_state.energy);
    expect(reset.simplified_state).toEqual(fresh.simplified_state);
  });

  it('a newborn moved in its first hour, before any interaction, is born again in the new zone: no jet lag', async () => {
    const { app, clock } = createTestApp({ startMs: TOKYO_20 });
    await app.request('/api/pet/moved/state');
    clock.advance(30 * MINUTE);
    const moved = await readJson<StateDocument>(await app.request('/api/pet/moved', jsonRequest('PATCH', { timezone: 'Asia/Tokyo' })));
    expect(moved.internal_state.rhythm['phase_difference']).toBeLessThan(0.017);
    expect(await firstNight(app, 'moved')).toEqual({ onset: '22:49', wake: '06:46' });

    // Once greeted, the same move is jet lag: the body clock stays on UTC, 9 h behind Tokyo.
    await app.request('/api/pet/greeted/state');
    await app.request('/api/pet/greeted/interact', jsonRequest('POST', { action: 'greet' }));
    const lagged = await readJson<StateDocument>(await app.request('/api/pet/greeted', jsonRequest('PATCH', { timezone: 'Asia/Tokyo' })));
    expect(lagged.internal_state.rhythm['phase_difference']).toBeGreaterThan(0.3);
  });
});
