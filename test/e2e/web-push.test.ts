/**
 * The page as a PWA and its Notifications card (docs/web.md, docs/design.md §13) in real headless
 * Chromium (playwright-core) against the built server and its push routes. What is proven:
 * - the manifest is linked and served, its icons are real PNGs of the sizes it says, and the
 *   service worker (/sw.js) registers and activates at scope `/`;
 * - the card's flow up to the subscription: it needs an owner; "turn on" asks the permission
 *   (granted through the browser context), registers the worker, subscribes with the key from
 *   GET /api/push/key, and POSTs /api/owners/me/push with the subscription, the events chosen,
 *   the language and quiet hours, as the owner; "turn off" DELETEs it. A refused permission says so.
 * - a push reaches the worker and shows a notification: CDP `ServiceWorker.deliverPushMessage`
 *   hands the worker a payload and `registration.getNotifications()` lists what it showed;
 * - the whole chain with a fast world (TIME_SCALE): the server's schedule brings the page's pet to
 *   a life event, encrypts and signs the push for the subscription the page registered, the local
 *   push endpoint verifies and decrypts it (as a push service would before handing it to the
 *   browser), and those bytes, delivered to the worker, show the pet's notification.
 * Not provable here: a real push service subscription (headless Chromium has no FCM connection
 * offline, and none at all in an incognito context; `pushManager.subscribe` is replaced by one
 * that answers the local push endpoint's subscription and records the key it was given), and a
 * click on a system notification (the worker's notificationclick is not reachable headless).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushMessage } from '../../src/service/notify/push-sender.js';
import { pushText } from '../../src/service/notify/push-text.js';
import { type PushReceiver, startPushReceiver, type TestSubscription } from '../helpers/push-receiver.js';
import { ensureServerBuilt, PROJECT_ROOT, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/browser.js';

const ARTIFACTS = resolve(PROJECT_ROOT, process.env['TEST_ARTIFACTS_DIR'] ?? 'test-results');

const eventually = <T>(probe: () => Promise<T> | T) => expect.poll(probe, { timeout: 10_000, interval: 100 });
const text = async (page: Page, testId: string) => ((await page.getByTestId(testId).textContent()) ?? '').trim();

/** Replaces pushManager.subscribe / getSubscription with ones answering `sub`; records the key given. */
function fakePushManager(sub: TestSubscription): string {
  return `(() => {
    const sub = ${JSON.stringify({ endpoint: sub.endpoint, keys: sub.keys })};
    let current = null;
    const b64 = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
    PushManager.prototype.subscribe = async function (options) {
      const key = options.applicationServerKey;
      const buffer = key instanceof ArrayBuffer ? key : key.buffer.slice(key.byteOffset, key.byteOffset + key.byteLength);
      window.__subscribedWith = b64(buffer);
      window.__subscribeOptions = { userVisibleOnly: options.userVisibleOnly };
      current = {
        endpoint: sub.endpoint,
        expirationTime: null,
        options: { applicationServerKey: buffer, userVisibleOnly: true },
        toJSON: () => ({ endpoint: sub.endpoint, expirationTime: null, keys: sub.keys }),
        unsubscribe: async () => { current = null; return true; },
      };
      return current;
    };
    PushManager.prototype.getSubscription = async function () { return current; };
  })();`;
}

describe('web page: PWA and notifications', () => {
  let server: ServerProcess | undefined;
  let browser: Browser | undefined;
  let receiver: PushReceiver | undefined;
  /** The server's VAPID public key (GET /api/push/key). */
  let publicKey = '';

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    ensureServerBuilt();
    if (!existsSync(join(PROJECT_ROOT, 'dist/web/sw.js'))) throw new Error('dist/web is not built with the PWA: run npm run build');
    receiver = await startPushReceiver();
    // The server may send pushes to the local (http, loopback) push endpoint.
    server = await startServerProcess({ env: { STORAGE: 'memory', WEBHOOK_ALLOW_PRIVATE: 'true' } });
    const key = await fetch(`${server.url}/api/push/key`);
    expect(key.status).toBe(200);
    publicKey = ((await key.json()) as { public_key: string }).public_key;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
  }, 240_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await receiver?.close();
  });

  it('manifest, icons and service worker; the card subscribes and unsubscribes; a push shows a notification', async () => {
    if (!browser || !server || !receiver) throw new Error('not started');
    const baseUrl = server.url;
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    context.setDefaultTimeout(10_000);
    await context.grantPermissions(['notifications'], { origin: baseUrl });
    const sub = receiver.subscribe();
    await context.addInitScript(fakePushManager(sub));
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${baseUrl}/?lang=en`);
    await eventually(() => text(page, 'feeling')).not.toBe('');

    // The manifest, linked from the page, and its icons.
    const manifestHref = await page.locator('link[rel="manifest"]').getAttribute('href');
    expect(manifestHref).toBe('/manifest.webmanifest');
    const manifestRes = await fetch(`${baseUrl}/manifest.webmanifest`);
    expect(manifestRes.headers.get('content-type')).toContain('application/manifest+json');
    const manifest = (await manifestRes.json()) as {
      name: string;
      start_url: string;
      display: string;
      icons: Array<{ src: string; sizes: string; purpose?: string }>;
    };
    expect(manifest).toMatchObject({ name: 'pet-life', start_url: '/', display: 'standalone' });
    expect(manifest.icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
    for (const icon of manifest.icons) {
      const res = await fetch(new URL(icon.src, baseUrl));
      expect(res.status, icon.src).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      const png = Buffer.from(await res.arrayBuffer());
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
      expect(`${png.readUInt32BE(16)}x${png.readUInt32BE(20)}`).toBe(icon.sizes);
    }
    expect((await fetch(`${baseUrl}/icons/nope.png`)).status).toBe(404);

    // The card needs an owner.
    expect(await text(page, 'notify-panel')).toContain('Become an owner');
    await page.getByTestId('owner-create').click();
    const secret = await page.getByTestId('owner-secret').inputValue();
    await page.getByTestId('owner-secret-done').click();
    const ownerId = secret.split('.')[0] as string;

    // Choose: not visits, but falling asleep; quiet hours 21:30–07:00.
    await page.getByTestId('notify-event-visited').uncheck();
    await page.getByTestId('notify-event-fell_asleep').check();
    await page.getByTestId('notify-quiet').check();
    await page.getByTestId('notify-quiet-from').fill('21:30');
    await page.getByTestId('notify-quiet-to').fill('07:00');
    const posted = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/api/owners/me/push'));
    await page.getByTestId('notify-on-button').click();
    const request = await posted;
    expect(request.postDataJSON()).toEqual({
      subscription: { endpoint: sub.endpoint, keys: sub.keys },
      events: ['got_hungry', 'woke_up', 'fell_asleep'],
      lang: 'en',
      quiet_hours: { from: '21:30', to: '07:00' },
    });
    expect((await request.allHeaders())['authorization']).toBe(`Bearer ${secret}`);
    await eventually(() => text(page, 'notify-on')).toContain('Notifications are on: hungry · woke up · fell asleep');
    expect(await text(page, 'notify-on')).toContain('Quiet hours 21:30–07:00');
    // Subscribed with the server's VAPID key, user-visible only, through the worker at /sw.js.
    expect(await page.evaluate('window.__subscribedWith')).toBe(publicKey);
    expect(await page.evaluate('window.__subscribeOptions')).toEqual({ userVisibleOnly: true });
    expect(
      await page.evaluate(`navigator.serviceWorker.ready.then((r) => ({ scope: r.scope, script: r.active && r.active.scriptURL }))`),
    ).toEqual({ scope: `${baseUrl}/`, script: `${baseUrl}/sw.js` });
    const stored = JSON.parse((await page.evaluate<string | null>(`localStorage.getItem('pet-life.push.${ownerId}')`)) ?? 'null') as {
      id: string;
    };
    expect(stored.id).toMatch(/\S/);
    await page.screenshot({ path: join(ARTIFACTS, 'web-push-card-on.png'), fullPage: true });

    // A push as the server words it, handed to the worker.
    const deviceId = (await page.evaluate<string | null>(`localStorage.getItem('pet-life.device-id')`)) ?? '';
    const petName = 'Mochi';
    const event = { id: '1765152000000-0', device_id: deviceId, type: 'got_hungry', pet_time: '', at: '', data: {} };
    const message: PushMessage = {
      ...pushText(event, petName, 'en'),
      device_id: deviceId,
      type: 'got_hungry',
      event_id: event.id,
      url: `/?pet=${deviceId}`,
    };
    const bytes = JSON.stringify(message);

    const cdp = await context.newCDPSession(page);
    const registrations: Array<{ registrationId: string; scopeURL: string; isDeleted: boolean }> = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => registrations.push(...e.registrations));
    await cdp.send('ServiceWorker.enable');
    await eventually(() => registrations.some((r) => r.scopeURL === `${baseUrl}/` && !r.isDeleted)).toBe(true);
    const registrationId = registrations.find((r) => r.scopeURL === `${baseUrl}/` && !r.isDeleted)?.registrationId ?? '';
    const notifications = () =>
      page.evaluate<Array<{ title: string; body: string; tag: string; data: { url: string } }>>(
        `navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((list) => list.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data })))`,
      );
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: baseUrl, registrationId, data: bytes });
    await eventually(async () => (await notifications()).length).toBe(1);
    expect((await notifications())[0]).toEqual({
      title: 'Mochi is hungry',
      body: message.body,
      tag: `${deviceId}:got_hungry`,
      data: { url: `${baseUrl}/?pet=${deviceId}`, event_id: event.id },
    });
    // A second "hungry" replaces the first (same tag); a URL of another origin opens the pet's page instead.
    await cdp.send('ServiceWorker.deliverPushMessage', {
      origin: baseUrl,
      registrationId,
      data: JSON.stringify({ ...message, event_id: '1765152000001-0', url: 'https://elsewhere.example/phish' }),
    });
    await eventually(async () => (await notifications())[0]?.data).toEqual({
      url: `${baseUrl}/?pet=${deviceId}`,
      event_id: '1765152000001-0',
    });
    expect(await notifications()).toHaveLength(1);

    // Turn off: DELETE the subscription the card registered.
    const deleted = page.waitForRequest((r) => r.method() === 'DELETE');
    await page.getByTestId('notify-off').click();
    expect((await deleted).url()).toBe(`${baseUrl}/api/owners/me/push/${encodeURIComponent(stored.id)}`);
    await page.getByTestId('notify-on-button').waitFor();
    expect(await page.evaluate(`localStorage.getItem('pet-life.push.${ownerId}')`)).toBeNull();
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);

  it('a refused permission says so and registers nothing', async () => {
    if (!browser || !server || !receiver) throw new Error('not started');
    const context = await browser.newContext();
    context.setDefaultTimeout(10_000);
    await context.addInitScript(fakePushManager(receiver.subscribe()));
    // No grant: headless Chromium answers the permission prompt with a refusal.
    const page = await context.newPage();
    const posts: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/owners/me/push')) posts.push(r.url());
    });
    await page.goto(`${server.url}/?lang=en`);
    await eventually(() => text(page, 'feeling')).not.toBe('');
    await page.getByTestId('owner-create').click();
    await page.getByTestId('owner-secret-done').click();
    await page.getByTestId('notify-on-button').click();
    await eventually(() => text(page, 'notify-denied')).toContain('refused the permission');
    expect(posts).toEqual([]);
    expect(await page.evaluate('window.__subscribedWith ?? null')).toBeNull();
    await context.close();
  }, 60_000);

  it('the server schedule pushes a life event of the page pet to the subscription the page made, and the worker shows it', async () => {
    if (!browser || !receiver) throw new Error('not started');
    // A fast world: an hour of the pet's life each second, so a life event comes within seconds.
    const fast = await startServerProcess({ env: { STORAGE: 'memory', WEBHOOK_ALLOW_PRIVATE: 'true', TIME_SCALE: '3600' } });
    let context: BrowserContext | undefined;
    try {
      const baseUrl = fast.url;
      context = await browser.newContext();
      context.setDefaultTimeout(10_000);
      await context.grantPermissions(['notifications'], { origin: baseUrl });
      const sub = receiver.subscribe();
      await context.addInitScript(fakePushManager(sub));
      const page = await context.newPage();
      await page.goto(`${baseUrl}/?lang=en`);
      await eventually(() => text(page, 'feeling')).not.toBe('');
      const deviceId = (await page.evaluate<string | null>(`localStorage.getItem('pet-life.device-id')`)) ?? '';
      await page.getByTestId('owner-create').click();
      await page.getByTestId('owner-secret-done').click();
      await page.getByTestId('adopt').click();
      await page.getByTestId(`owned-pet-${deviceId}`).waitFor();
      await page.getByTestId('notify-event-fell_asleep').check();
      await page.getByTestId('notify-on-button').click();
      await eventually(() => text(page, 'notify-on')).toContain('Notifications are on:');

      // The schedule does the rest: no request from here on.
      await expect
        .poll(() => receiver?.received.filter((p) => p.subscriptionId === sub.id).length, { timeout: 60_000, interval: 250 })
        .toBeGreaterThan(0);
      const push = receiver.received.find((p) => p.subscriptionId === sub.id);
      const fastKey = ((await (await fetch(`${baseUrl}/api/push/key`)).json()) as { public_key: string }).public_key;
      expect(push?.vapidKey).toBe(fastKey);
      const payload = JSON.parse(push?.text ?? '{}') as PushMessage;
      expect(payload.device_id).toBe(deviceId);
      expect(['got_hungry', 'woke_up', 'fell_asleep', 'visited']).toContain(payload.type);
      expect(payload.event_id).toMatch(/^\d+-\d+$/);

      const cdp = await context.newCDPSession(page);
      const registrations: Array<{ registrationId: string; scopeURL: string; isDeleted: boolean }> = [];
      cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => registrations.push(...e.registrations));
      await cdp.send('ServiceWorker.enable');
      await eventually(() => registrations.some((r) => r.scopeURL === `${baseUrl}/` && !r.isDeleted)).toBe(true);
      const registrationId = registrations.find((r) => r.scopeURL === `${baseUrl}/` && !r.isDeleted)?.registrationId ?? '';
      await cdp.send('ServiceWorker.deliverPushMessage', { origin: baseUrl, registrationId, data: push?.text ?? '' });
      await eventually(() =>
        page.evaluate(
          `navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((list) => list.map((n) => ({ title: n.title, body: n.body, tag: n.tag })))`,
        ),
      ).toEqual([{ title: payload.title, body: payload.body, tag: `${deviceId}:${payload.type}` }]);
      expect(payload.title.length).toBeGreaterThan(0);
    } finally {
      await context?.close();
      await fast.stop();
    }
  }, 120_000);
});
