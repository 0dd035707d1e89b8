/**
 * The Web Push sender against a local push endpoint that decrypts aes128gcm with the
 * subscription's keys and checks the VAPID JWT (test/helpers/push-receiver.ts), and the outcome
 * mapping the schedule acts on: 404/410 → gone, 429/5xx/network/timeout → retry (docs/design.md §13).
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPushSender, type PushMessage } from '../../../src/service/notify/push-sender.js';
import { pushText } from '../../../src/service/notify/push-text.js';
import { loadVapidKeys, type VapidKeys } from '../../../src/service/notify/vapid-keys.js';
import { createMemoryStorage } from '../../../src/storage/index.js';
import type { PetEvent } from '../../../src/storage/types.js';
import { type PushReceiver, startPushReceiver } from '../../helpers/push-receiver.js';

const message: PushMessage = {
  title: '小糖饿了',
  body: '肚子咕咕叫了……喂喂我吧？',
  device_id: 'pet-1',
  type: 'got_hungry',
  event_id: '1700000000000-0',
  url: '/?pet=pet-1',
};

let receiver: PushReceiver;
let vapid: VapidKeys;

beforeAll(async () => {
  receiver = await startPushReceiver();
  vapid = await loadVapidKeys(createMemoryStorage(), { subject: 'mailto:ops@example.com' });
});
afterAll(async () => {
  await receiver.close();
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('push sender → local push endpoint', () => {
  it('delivers a payload that decrypts with the subscription keys, signed by the VAPID key', async () => {
    const sub = receiver.subscribe();
    const before = Math.floor(Date.now() / 1000);
    const outcome = await createPushSender({ vapid }).send(sub, message, { ttlSeconds: 600, urgency: 'high' });
    expect(outcome).toEqual({ status: 201, ok: true, gone: false, retry: false });
    const got = receiver.received.filter((push) => push.subscriptionId === sub.id);
    expect(got).toHaveLength(1);
    const push = got[0];
    expect(JSON.parse(push?.text ?? '')).toEqual(message);
    expect(push?.ttl).toBe(600);
    expect(push?.urgency).toBe('high');
    expect(push?.vapidKey).toBe(vapid.publicKey);
    expect(push?.claims.aud).toBe(receiver.origin);
    expect(push?.claims.sub).toBe('mailto:ops@example.com');
    expect(push?.claims.exp).toBeGreaterThan(before);
    expect(push?.claims.exp).toBeLessThanOrEqual(before + 24 * 3600 + 5);
  });

  it('the receiver refuses a push signed with another key pair than the one announced', async () => {
    const sub = receiver.subscribe();
    const other = await loadVapidKeys(createMemoryStorage());
    // The JWT signed by `other`, the header claiming `vapid.publicKey`.
    const lying: typeof fetch = (input, init) => {
      const headers = { ...(init?.headers as Record<string, string>) };
      const auth = headers['Authorization'] ?? headers['authorization'] ?? '';
      headers['Authorization'] = auth.replace(/k=[A-Za-z0-9_-]+/, `k=${vapid.publicKey}`);
      return fetch(input, { ...init, headers });
    };
    const outcome = await createPushSender({ vapid: other, fetch: lying }).send(sub, message);
    expect(outcome.ok).toBe(false);
    expect(outcome.status).toBe(403);
    expect(outcome.retry).toBe(false);
    expect(receiver.rejected.find((r) => r.subscriptionId === sub.id)?.reason).toMatch(/signature/);
  });

  it('the receiver refuses a body encrypted for other subscription keys', async () => {
    const sub = receiver.subscribe();
    const stranger = receiver.subscribe();
    const outcome = await createPushSender({ vapid }).send({ endpoint: sub.endpoint, keys: stranger.keys }, message);
    expect(outcome.status).toBe(400);
    expect(receiver.rejected.find((r) => r.subscriptionId === sub.id)?.reason).toMatch(/decrypt/);
  });

  it.each([
    [404, { gone: true, retry: false }],
    [410, { gone: true, retry: false }],
    [429, { gone: false, retry: true }],
    [500, { gone: false, retry: true }],
    [503, { gone: false, retry: true }],
    [400, { gone: false, retry: false }],
    [413, { gone: false, retry: false }],
  ])('an answer %i maps to %o', async (status, expected) => {
    const sub = receiver.subscribe();
    receiver.answerWith(status, sub.id);
    const outcome = await createPushSender({ vapid }).send(sub, message);
    expect(outcome).toMatchObject({ status, ok: false, ...expected });
    expect(outcome.error).toContain(String(status));
  });

  it('a push service that is down is a retry, with no status', async () => {
    const port = await closedPort();
    const sub = receiver.subscribe();
    const outcome = await createPushSender({ vapid }).send({ ...sub, endpoint: `http://127.0.0.1:${port}/push/x` }, message);
    expect(outcome).toMatchObject({ status: null, ok: false, gone: false, retry: true });
  });

  it('a push service that does not answer in time is a retry', async () => {
    const sub = receiver.subscribe();
    receiver.delayAnswers(1000);
    try {
      const started = Date.now();
      const outcome = await createPushSender({ vapid, timeoutMs: 150 }).send(sub, message);
      expect(outcome).toMatchObject({ status: null, ok: false, gone: false, retry: true });
      expect(outcome.error).toMatch(/150 ms/);
      expect(Date.now() - started).toBeLessThan(900);
    } finally {
      receiver.delayAnswers(0);
    }
  });

  it('subscription keys that cannot encrypt are neither gone nor a retry, and send nothing', async () => {
    const sub = receiver.subscribe();
    const outcome = await createPushSender({ vapid }).send({ endpoint: sub.endpoint, keys: { p256dh: 'AAAA', auth: 'AAAA' } }, message);
    expect(outcome).toMatchObject({ status: null, ok: false, gone: false, retry: false });
    expect(receiver.received.concat().filter((p) => p.subscriptionId === sub.id)).toHaveLength(0);
    expect(receiver.rejected.filter((r) => r.subscriptionId === sub.id)).toHaveLength(0);
  });
});

describe('push texts', () => {
  const event = (type: string, data: Record<string, string> = {}): PetEvent => ({
    id: '1-0',
    device_id: 'pet-1',
    type,
    pet_time: '2026-01-01T08:00:00+08:00',
    at: '2026-01-01T00:00:00.000Z',
    data,
  });

  it('speak in the pet voice, zh and en', () => {
    expect(pushText(event('got_hungry'), '小糖', 'zh').title).toBe('小糖饿了');
    expect(pushText(event('got_hungry'), 'Mochi', 'en').title).toBe('Mochi is hungry');
    expect(pushText(event('woke_up'), 'Mochi', 'en').title).toBe('Mochi woke up');
    expect(pushText(event('fell_asleep'), '小糖', 'zh').title).toBe('小糖睡着了');
    expect(pushText(event('visited', { role: 'visitor' }), 'Mochi', 'en').title).toBe('Mochi went visiting');
    expect(pushText(event('visited', { role: 'host' }), 'Mochi', 'en').title).toBe('A friend came to see Mochi');
    expect(pushText(event('ping'), '小糖', 'zh').title).toBe('小糖向你打招呼');
  });

  it('say something generic for any other event, never nothing', () => {
    for (const lang of ['zh', 'en'] as const) {
      for (const type of ['interacted', 'befriended', 'constructor', 'toString']) {
        const text = pushText(event(type), 'Mochi', lang);
        expect(text.title).toContain('Mochi');
        expect(text.body.length).toBeGreaterThan(0);
      }
    }
  });
});
