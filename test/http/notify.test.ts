/**
 * Notification routes and push delivery on the memory driver with a manual clock (docs/design.md
 * §13): registration rules (address rule, event names, limits, the secret shown once), the cron
 * route's authorization, Web Push through the real sender to a local push endpoint that decrypts
 * aes128gcm and checks the VAPID JWT (each event once), quiet hours, the daily cap, a stale
 * got_hungry after feeding, and a 410 that deletes the subscription.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realtimeOf } from '../../src/http/index.js';
import type { Scheduler } from '../../src/service/notify/scheduler.js';
import { type PushReceiver, startPushReceiver } from '../helpers/push-receiver.js';
import { clockedStorage, createTestApp, HOUR, jsonRequest, readJson, type ErrorJson, type TestApp } from './support.js';

const auth = (secret: string) => ({ Authorization: `Bearer ${secret}` });
type App = TestApp['app'];

async function ownerWithPet(app: App, petId: string, timezone = 'UTC'): Promise<string> {
  const owner = await readJson<{ secret: string }>(await app.request('/api/owners', { method: 'POST' }));
  const created = await app.request('/api/pets', jsonRequest('POST', { device_id: petId, timezone }, auth(owner.secret)));
  expect(created.status).toBe(201);
  return owner.secret;
}

function schedulerOf(app: App): Scheduler {
  const scheduler = realtimeOf(app).scheduler;
  if (scheduler === null) throw new Error('no scheduler');
  return scheduler;
}

describe('notification routes', () => {
  it('refuses private, http and malformed URLs, unknown events; limits endpoints; shows the secret once', async () => {
    const { app } = createTestApp();
    const secret = await ownerWithPet(app, 'nt-rules');
    const post = (body: unknown) => app.request('/api/owners/me/webhooks', jsonRequest('POST', body, auth(secret)));
    for (const url of [
      'https://127.0.0.1/hook',
      'https://10.1.2.3/x',
      'https://[::1]/x',
      'https://169.254.169.254/latest',
      'http://93.184.215.14/x',
      'not a url',
    ]) {
      const answer = await post({ url });
      expect(answer.status, url).toBe(400);
      expect((await readJson<ErrorJson>(answer)).error.code).toBe('invalid_body');
    }
    expect((await post({ url: 'https://93.184.215.14/x', events: ['nope'] })).status).toBe(400);
    expect((await post({ url: 'https://93.184.215.14/x', extra: 1 })).status).toBe(400);
    const made = await readJson<{ id: string; secret: string; events: string[] }>(await post({ url: 'https://93.184.215.14/x' }));
    expect(made.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(made.events).toEqual(['got_hungry', 'woke_up', 'visited']);
    for (let n = 1; n < 10; n++) expect((await post({ url: `https://93.184.215.14/x${n}` })).status).toBe(201);
    expect((await post({ url: 'https://93.184.215.14/x11' })).status).toBe(409);
    const listed = await readJson<{ webhooks: Record<string, unknown>[] }>(
      await app.request('/api/owners/me/webhooks', { headers: auth(secret) }),
    );
    expect(listed.webhooks).toHaveLength(10);
    expect(listed.webhooks.every((w) => !('secret' in w) && w['disabled'] === null)).toBe(true);
    expect((await app.request(`/api/owners/me/webhooks/${made.id}`, { method: 'DELETE', headers: auth(secret) })).status).toBe(204);
    expect((await app.request(`/api/owners/me/webhooks/${made.id}`, { method: 'DELETE', headers: auth(secret) })).status).toBe(404);
    expect((await app.request('/api/owners/me/webhooks', { headers: { Authorization: 'Bearer nope' } })).status).toBe(403);
    expect((await app.request('/api/owners/me/webhooks')).status).toBe(401);
  });

  it('authorizes the cron route by CRON_SECRET only', async () => {
    const { app } = createTestApp({ env: { CRON_SECRET: 'a-cron-secret-of-some-length' } });
    expect((await app.request('/api/cron/tick')).status).toBe(401);
    expect((await app.request('/api/cron/tick', { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await app.request('/api/cron/tick', { headers: { 'Upstash-Signature': 'x.y.z' } })).status).toBe(401);
    const ok = await app.request('/api/cron/tick', { headers: { Authorization: 'Bearer a-cron-secret-of-some-length' } });
    expect(ok.status).toBe(200);
    expect(await readJson(ok)).toEqual({ claimed: 0, sent: 0, failed: 0 });
  });
});

describe('Web Push delivery (a local push endpoint)', () => {
  let receiver: PushReceiver;
  beforeAll(async () => {
    receiver = await startPushReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });

  const setup = async (env: Record<string, string> = {}) => {
    const { clock, storage } = clockedStorage();
    const test = createTestApp({ storage, clock, env: { WEBHOOK_ALLOW_PRIVATE: 'true', NOTIFY_MAX_PER_DAY: '100', ...env } });
    return { ...test, scheduler: schedulerOf(test.app) };
  };
  const subscribe = async (app: App, secret: string, extra: Record<string, unknown> = {}) => {
    const sub = receiver.subscribe();
    const answer = await app.request(
      '/api/owners/me/push',
      jsonRequest(
        'POST',
        {
          subscription: { endpoint: sub.endpoint, keys: sub.keys },
          events: ['got_hungry', 'woke_up', 'fell_asleep'],
          lang: 'en',
          ...extra,
        },
        auth(secret),
      ),
    );
    expect(answer.status, await answer.clone().text()).toBe(201);
    return sub;
  };
  const pushesOf = (subscriptionId: string) =>
    receiver.received
      .filter((p) => p.subscriptionId === subscriptionId)
      .map((p) => JSON.parse(p.text) as { type: string; event_id: string; title: string; url: string });

  it('delivers each life event of the pet once, signed with the VAPID key it publishes', async () => {
    const { app, clock, scheduler, storage } = await setup();
    const secret = await ownerWithPet(app, 'nt-push');
    const { public_key: publicKey } = await readJson<{ public_key: string }>(await app.request('/api/push/key'));
    const sub = await subscribe(app, secret);
    for (let hour = 0; hour < 30; hour++) {
      clock.advance(HOUR);
      await scheduler.drain(clock.nowMs() + 1);
    }
    await scheduler.drain(clock.nowMs() + 1);
    const pushes = pushesOf(sub.id);
    const logged = (await storage.readEvents('nt-push')).filter((e) => ['got_hungry', 'woke_up', 'fell_asleep'].includes(e.type));
    expect(logged.length).toBeGreaterThan(2);
    expect(pushes.map((p) => p.event_id).sort()).toEqual(logged.map((e) => e.id).sort());
    expect(new Set(pushes.map((p) => p.event_id)).size).toBe(pushes.length);
    const mine = receiver.received.filter((p) => p.subscriptionId === sub.id);
    expect(mine.every((p) => p.vapidKey === publicKey)).toBe(true);
    expect(pushes.every((p) => p.title.length > 0 && p.url.includes('pet=nt-push'))).toBe(true);
  });

  it('holds pushes in quiet hours and sends them when the hours end', async () => {
    const { app, clock, scheduler } = await setup();
    const secret = await ownerWithPet(app, 'nt-quiet');
    // Quiet all day but one minute: nothing goes out while inside.
    const sub = await subscribe(app, secret, { quiet_hours: { from: '00:00', to: '23:59' }, timezone: 'UTC' });
    clock.set(Date.UTC(2026, 2, 2, 0, 5));
    for (let n = 0; n < 20; n++) {
      clock.advance(HOUR);
      await scheduler.drain(clock.nowMs() + 1);
    }
    expect(pushesOf(sub.id)).toEqual([]);
    clock.set(Date.UTC(2026, 2, 2, 23, 59, 30));
    await scheduler.drain(clock.nowMs() + 1);
    expect(pushesOf(sub.id).length).toBeGreaterThan(0);
  });

  it('caps pushes per pet per day (NOTIFY_MAX_PER_DAY)', async () => {
    const { app, clock, scheduler } = await setup({ NOTIFY_MAX_PER_DAY: '2' });
    const secret = await ownerWithPet(app, 'nt-cap');
    const sub = await subscribe(app, secret);
    for (let n = 0; n < 20; n++) {
      clock.advance(HOUR);
      await scheduler.drain(clock.nowMs() + 1);
    }
    expect(pushesOf(sub.id)).toHaveLength(2);
  });

  it('deletes a subscription the push service says is gone (410)', async () => {
    const { app, clock, scheduler, storage } = await setup();
    const secret = await ownerWithPet(app, 'nt-gone');
    const sub = await subscribe(app, secret);
    receiver.answerWith(410, sub.id);
    for (let n = 0; n < 20; n++) {
      clock.advance(HOUR);
      await scheduler.drain(clock.nowMs() + 1);
    }
    receiver.answerWith(null, sub.id);
    const ownerId = secret.split('.')[0] as string;
    const [record] = await storage.loadRecords([{ purpose: 'notify', subject: ownerId }]);
    expect(JSON.parse(record?.value ?? '{}').push).toEqual([]);
  });
});
