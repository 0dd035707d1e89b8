/**
 * docs/web.md: the page's owners, friends and visits in real headless Chromium (Debian's,
 * driven by playwright-core) against the real built server on a loopback port with file storage
 * in a temp folder. One flow: become an owner (secret shown once, copied) → add the open pet →
 * two new pets → adopt a claimed one with its claim secret → invite / accept on two pages → a visit, seen on the visitor's page (outcome,
 * stats) and on the host's page as it happens → refusals shown → switching pets. Screenshots go
 * to TEST_ARTIFACTS_DIR.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess } from '../helpers/server-process.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/browser.js';

const ROOT = resolve(import.meta.dirname, '../..');
const ARTIFACTS = resolve(ROOT, process.env['TEST_ARTIFACTS_DIR'] ?? 'test-results');
/** 08:00-ish in Shanghai while UTC is at midnight: pets born there are more likely awake (the test accepts any outcome). */
const TIMEZONE = 'Asia/Shanghai';

/** The built server (test/helpers/server-process.ts) on a free loopback port with files in a fresh temp folder. */
async function startServer(): Promise<{ baseUrl: string; stop(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pet-life-web-social-'));
  const server = await startServerProcess({ env: { DATA_DIR: dataDir, STORAGE: 'file' } });
  return {
    baseUrl: server.url,
    stop: async () => {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const eventually = <T>(probe: () => Promise<T> | T) => expect.poll(probe, { timeout: 10_000, interval: 100 });
/** The page's current pet id, as it keeps it (the Settings field may be folded away). */
const currentPet = (page: Page) => page.evaluate<string | null>(`localStorage.getItem('pet-life.device-id')`);
const text = async (page: Page, testId: string) => ((await page.getByTestId(testId).textContent()) ?? '').trim();

describe('web page: owners, friends and visits (issue #13)', () => {
  let server: { baseUrl: string; stop(): Promise<void> } | undefined;
  let browser: Browser | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    if (!existsSync(join(ROOT, 'dist/src/main.js')) || !existsSync(join(ROOT, 'dist/web/index.html'))) {
      execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit', timeout: 170_000 });
    }
    server = await startServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
  }, 240_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  /** Records page errors; the refusals this test provokes on purpose are logged by Chromium and allowed. */
  function watch(page: Page, allowedStatuses: number[]): Page {
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() !== 'error' || msg.text().includes('ERR_FAILED')) return; // a stream this test cuts
      const status = /status of (\d{3})/.exec(msg.text())?.[1];
      if (status === undefined || !allowedStatuses.includes(Number(status))) pageErrors.push(msg.text());
    });
    return page;
  }

  async function api(path: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    if (!server) throw new Error('not started');
    const res = await fetch(`${server.baseUrl}${path}`, init);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('owner → pets (new, added, adopted) → invite/accept → visit shown on both pages → refusals → switching', async () => {
    if (!browser || !server) throw new Error('not started');
    const started = Date.now();
    const { baseUrl } = server;
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: TIMEZONE });
    context.setDefaultTimeout(10_000);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
    const page = watch(await context.newPage(), [404, 409]);
    await page.goto(`${baseUrl}/?lang=en`);
    await eventually(() => text(page, 'feeling')).not.toBe('');
    const firstPet = await currentPet(page);
    expect(firstPet).toMatch(/^web-/);

    // Become an owner: the secret shows once, with a note and a copy button; the browser keeps it.
    await page.getByTestId('owner-create').click();
    const secret = await page.getByTestId('owner-secret').inputValue();
    expect(secret).toMatch(/^own_[A-Za-z0-9_-]{22}\./);
    expect(await page.getByTestId('owner-secret-box').textContent()).toContain('shown only this once');
    await page.getByTestId('owner-secret-copy').click();
    expect(await text(page, 'owner-secret-copied')).toBe('Copied');
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(secret);
    expect(await page.evaluate<string | null>(`localStorage.getItem('pet-life.owner-secret')`)).toBe(secret);
    await page.screenshot({ path: join(ARTIFACTS, 'web-social-owner-secret.png'), fullPage: true });
    await page.getByTestId('owner-secret-done').click();
    await expect.poll(() => page.getByTestId('owner-secret-box').count()).toBe(0);
    const auth = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' };

    // The browser's open pet joins the owner's pets.
    await page.getByTestId('adopt').click();
    await page.getByTestId(`owned-pet-${firstPet}`).waitFor();

    // Two new pets, each the owner's from birth (no secret: 401).
    const newPet = async (): Promise<string> => {
      const before = await currentPet(page);
      await page.getByTestId('owner-new-pet').click();
      await eventually(() => currentPet(page)).not.toBe(before);
      const id = (await currentPet(page)) ?? '';
      await page.getByTestId(`owned-pet-${id}`).waitFor();
      return id;
    };
    const a = await newPet();
    const b = await newPet();
    expect(
      (await api(`/api/pet/${a}/interact`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"action":"greet"}' }))
        .status,
    ).toBe(401);
    for (const [id, name] of [
      [a, 'Mochi'],
      [b, 'Tofu'],
    ] as const) {
      expect((await api(`/api/pet/${id}`, { method: 'PATCH', headers: auth, body: JSON.stringify({ pet_name: name }) })).status).toBe(200);
    }
    await eventually(() => page.getByTestId('owned-pets').locator('li').count()).toBe(3);

    // A pet claimed elsewhere is adopted with its claim secret typed in.
    const claimed = `e2e-claimed-${process.pid}`;
    const json = { 'content-type': 'application/json' };
    expect((await api('/api/pets', { method: 'POST', headers: json, body: JSON.stringify({ device_id: claimed }) })).status).toBe(201);
    const claim = await api(`/api/pet/${claimed}/claim`, { method: 'POST', headers: json, body: '{}' });
    expect(claim.status).toBe(201);
    await page.goto(`${baseUrl}/?pet=${claimed}&lang=en`);
    await eventually(() => currentPet(page)).toBe(claimed);
    await page.getByTestId('adopt-secret').fill(String(claim.body['secret']));
    await page.getByTestId('adopt').click();
    await page.getByTestId(`owned-pet-${claimed}`).waitFor();
    expect(await page.getByTestId(`owned-pet-${claimed}`).getAttribute('aria-current')).toBe('true');
    await eventually(() => page.getByTestId('owned-pets').locator('li').count()).toBe(4);

    // Switch to Mochi from the list.
    await page.getByTestId(`owned-pet-${a}`).click();
    await eventually(() => text(page, 'pet-name')).toBe('Mochi');
    expect(await page.getByTestId(`owned-pet-${a}`).getAttribute('aria-current')).toBe('true');
    await eventually(() => page.evaluate<string | undefined>(`document.documentElement.dataset.stream`)).toBe('open');

    // Mochi's invite code, entered on Tofu's page.
    await page.getByTestId('invite').click();
    const code = await page.getByTestId('invite-code').inputValue();
    expect(code).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const host = watch(await context.newPage(), [404, 409]);
    await host.goto(`${baseUrl}/?pet=${b}&lang=en`);
    await eventually(() => text(host, 'pet-name')).toBe('Tofu');
    await eventually(() => host.evaluate<string | undefined>(`document.documentElement.dataset.stream`)).toBe('open');
    await host.getByTestId('friend-code').fill(code);
    await host.getByTestId('friend-accept').click();
    await host.getByTestId(`friend-${a}`).waitFor();
    expect(await host.getByTestId(`friend-${a}`).textContent()).toContain('Mochi');
    // Mochi's page learns of it from its event stream, without a reload.
    await page.getByTestId(`friend-${b}`).waitFor();
    await eventually(() => page.getByTestId('recent').textContent()).toContain('Mochi and Tofu are friends now');
    // The used code is no longer offered.
    await eventually(() => page.getByTestId('invite-box').count()).toBe(0);

    // The visit: its outcome and the visitor's stats on its page, the host's page as it happens.
    expect(await text(page, 'stat-visits')).toBe('0');
    await page.getByTestId(`visit-${b}`).click();
    const outcome = page.getByTestId('visit-outcome');
    await outcome.waitFor();
    expect(['enjoyed', 'friend_asleep', 'visitor_asleep']).toContain(await outcome.getAttribute('data-outcome'));
    expect(await outcome.textContent()).toMatch(/Mochi .*Tofu/);
    await eventually(() => text(page, 'stat-visits')).toBe('1');
    await eventually(() => page.locator('[data-testid="recent"] li[data-type="visited"]').count()).toBe(1);
    await eventually(() => host.getByTestId('recent').textContent()).toContain('Mochi came to visit Tofu');
    await eventually(() => text(host, 'stat-visits')).toBe('1');
    for (const id of [a, b]) {
      const state = await api(`/api/pet/${id}/state`);
      expect((state.body['stats'] as Record<string, unknown>)['visits']).toBe(1);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'web-social-visitor.png'), fullPage: true });
    await host.screenshot({ path: join(ARTIFACTS, 'web-social-host.png'), fullPage: true });

    // Refusals in plain words: a used code (404), friends already (409).
    await host.getByTestId('friend-code').fill(code);
    await host.getByTestId('friend-accept').click();
    await eventually(() => host.getByTestId('error').textContent()).toContain('Not found');
    const again = await page
      .getByTestId('invite')
      .click()
      .then(() => page.getByTestId('invite-code').inputValue());
    expect(again).not.toBe(code);
    await host.getByTestId('friend-code').fill(again);
    await host.getByTestId('friend-accept').click();
    await eventually(() => host.getByTestId('error').textContent()).toContain('friends already');

    // Ended on both sides. A page of Tofu without its event stream still lists Mochi: its visit is
    // refused (403 not_friends) in plain words.
    const blind = watch(await context.newPage(), [403]);
    await blind.route('**/events*', (route) => route.abort());
    await blind.goto(`${baseUrl}/?pet=${b}&lang=en`);
    await blind.getByTestId(`friend-${a}`).waitFor();
    await page.getByTestId(`unfriend-${b}`).click();
    await eventually(() => page.getByTestId(`friend-${b}`).count()).toBe(0);
    await eventually(() => host.getByTestId(`friend-${a}`).count()).toBe(0);
    await eventually(() => host.getByTestId('recent').textContent()).toContain('no longer friends');
    await blind.getByTestId(`visit-${a}`).click();
    await eventually(() => blind.getByTestId('error').textContent()).toContain('not friends');
    await blind.close();

    // Another browser without the owner's secret: Mochi is protected (401), said in plain words.
    const stranger = await browser.newContext({ viewport: { width: 375, height: 800 }, timezoneId: TIMEZONE });
    const outsider = watch(await stranger.newPage(), [401, 403]);
    await outsider.goto(`${baseUrl}/?pet=${a}&lang=en`);
    await eventually(() => text(outsider, 'pet-name')).toBe('Mochi');
    await outsider.getByTestId('action-feed').click();
    await eventually(() => outsider.getByTestId('error').textContent()).toContain('protected');
    expect(await outsider.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')).toBeLessThanOrEqual(0);
    await outsider.screenshot({ path: join(ARTIFACTS, 'web-social-stranger-phone.png'), fullPage: true });
    // A secret the server does not know: said so in the owner's card, a change is a 403, and the
    // browser can forget it.
    await outsider.evaluate(`localStorage.setItem('pet-life.owner-id', 'own_AAAAAAAAAAAAAAAAAAAAAA');
      localStorage.setItem('pet-life.owner-secret', 'own_AAAAAAAAAAAAAAAAAAAAAA.not-a-secret')`);
    await outsider.reload();
    await eventually(() => text(outsider, 'owner-error')).toContain('does not know');
    await outsider.getByTestId('action-feed').click();
    await eventually(() => outsider.getByTestId('error').textContent()).toContain('does not open this pet');
    outsider.once('dialog', (dialog) => void dialog.accept());
    await outsider.getByTestId('owner-forget').click();
    await outsider.getByTestId('owner-create').waitFor();
    expect(await outsider.evaluate<string | null>(`localStorage.getItem('pet-life.owner-secret')`)).toBeNull();
    await stranger.close();

    // Switching back to the first pet: its own (empty) friends, then to Mochi again; then in Chinese.
    await page.getByTestId(`owned-pet-${firstPet}`).click();
    await eventually(() => currentPet(page)).toBe(firstPet);
    await eventually(() => page.getByTestId('friends').locator('li').count()).toBe(0);
    expect(await page.getByTestId('visit-outcome').count()).toBe(0);
    await page.getByTestId(`owned-pet-${a}`).click();
    await eventually(() => text(page, 'pet-name')).toBe('Mochi');
    await eventually(() => text(page, 'stat-visits')).toBe('1');
    await page.goto(`${baseUrl}/?pet=${a}&lang=zh`);
    await eventually(() => text(page, 'pet-name')).toBe('Mochi');
    expect(await page.getByTestId('owner-panel').textContent()).toContain('我的宠物们');
    await page.screenshot({ path: join(ARTIFACTS, 'web-social-zh.png'), fullPage: true });

    await context.close();
    expect(pageErrors).toEqual([]);
    console.log(`web social flow took ${Date.now() - started} ms`);
  }, 60_000);
});
