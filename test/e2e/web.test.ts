/**
 * docs/web.md: the pet page in real headless Chromium (Debian's, driven by playwright-core)
 * against the real built server on a loopback port with file storage in a temp folder.
 * Screenshots at desktop and phone width and the measured load time go to TEST_ARTIFACTS_DIR.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/browser.js';

const ROOT = resolve(import.meta.dirname, '../..');
const ARTIFACTS = resolve(ROOT, process.env['TEST_ARTIFACTS_DIR'] ?? 'test-results');
/** Set to test a server that is already running (e.g. a Vercel preview) instead of starting one. */
const EXTERNAL_URL = process.env['WEB_E2E_BASE_URL'];

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

interface RunningServer {
  baseUrl: string;
  stop(): Promise<void>;
}

/** Runs `node dist/src/main.js` on a free loopback port with files in a fresh temp folder. */
async function startServer(): Promise<RunningServer> {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'pet-life-web-'));
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'dist/src/main.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      STORAGE: 'file',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`server exited with ${child.exitCode}:\n${output}`);
    }
    try {
      const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return { baseUrl, stop };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`server did not answer /health within 15 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A pet id of its own for each test, so tests never see each other's feeding. */
const petId = (label: string) => `e2e-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

/** In-page probes, as expression strings: the root tsconfig has no DOM lib, the page does. */
const PROBE = {
  timing: `(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return {
      domContentLoadedMs: nav ? nav.domContentLoadedEventEnd - nav.startTime : -1,
      loadMs: nav ? nav.loadEventEnd - nav.startTime : -1,
      petShownMs: performance.getEntriesByName('pet-life:pet-shown')[0]?.startTime ?? -1,
    };
  })()`,
  breath: `(() => {
    const body = document.querySelector('.creature-body');
    const pulse = document.querySelector('.pulse')?.textContent ?? '';
    return { duration: body ? getComputedStyle(body).animationDuration : '', bpm: Number(/(\\d+)\\s*(?:次|bpm)/.exec(pulse)?.[1]) };
  })()`,
  activeTestId: `document.activeElement?.getAttribute('data-testid') ?? null`,
  activeOutline: `document.activeElement ? getComputedStyle(document.activeElement).outlineStyle : 'none'`,
  htmlLang: `document.documentElement.lang`,
  overflowX: `document.documentElement.scrollWidth - window.innerWidth`,
  paintedPixels: `(() => {
    const c = document.querySelector('[data-testid="forecast-chart"] canvas');
    const data = c?.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? [];
    let painted = 0;
    for (let k = 3; k < data.length; k += 4) if (data[k] > 0) painted++;
    return painted;
  })()`,
};

/** expect.poll with room for a busy machine (its default is 1 s). */
const eventually = <T>(probe: () => Promise<T> | T) => expect.poll(probe, { timeout: 10_000, interval: 100 });

async function numberIn(page: Page, testId: string): Promise<number> {
  const text = (await page.getByTestId(testId).textContent()) ?? '';
  return Number(text.trim());
}

describe('web page (issue #6)', () => {
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    if (EXTERNAL_URL) {
      server = { baseUrl: EXTERNAL_URL.replace(/\/$/, ''), stop: async () => undefined };
    } else {
      if (!existsSync(join(ROOT, 'dist/src/main.js')) || !existsSync(join(ROOT, 'dist/web/index.html'))) {
        execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit', timeout: 170_000 });
      }
      server = await startServer();
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(10_000);
  }, 240_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  async function open(id: string, query = ''): Promise<Page> {
    if (!context || !server) throw new Error('not started');
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
    await page.goto(`${server.baseUrl}/?pet=${id}${query}`);
    await eventually(async () => (await page.getByTestId('feeling').textContent())?.trim() ?? '').not.toBe('');
    return page;
  }

  async function api(path: string, init?: RequestInit): Promise<Record<string, unknown>> {
    if (!server) throw new Error('not started');
    const res = await fetch(`${server.baseUrl}${path}`, init);
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  }

  it('loads fast and shows the pet, its name and its feeling', async () => {
    const page = await open(petId('load'));
    type Timing = { domContentLoadedMs: number; loadMs: number; petShownMs: number };
    const timing = await page.evaluate<Timing>(PROBE.timing);
    // A second visit, with the assets in the browser cache (they are immutable, hashed).
    await page.reload();
    await eventually(() => page.evaluate<Timing>(PROBE.timing).then((t) => t.petShownMs)).toBeGreaterThan(0);
    const repeat = await page.evaluate<Timing>(PROBE.timing);
    console.log(`web page timing on loopback (ms): first ${JSON.stringify(timing)}, repeat ${JSON.stringify(repeat)}`);
    await writeFile(join(ARTIFACTS, 'web-timing.json'), `${JSON.stringify({ first: timing, repeat }, null, 2)}\n`);
    expect(timing.loadMs).toBeGreaterThan(0);
    // The target is < 1 s; assert loosely so a loaded CI machine does not flake.
    expect(timing.loadMs).toBeLessThan(5_000);
    expect(timing.petShownMs).toBeGreaterThan(0);
    expect(timing.petShownMs).toBeLessThan(5_000);

    expect((await page.getByTestId('pet-name').textContent())?.trim()).not.toBe('');
    expect(await page.getByTestId('creature').isVisible()).toBe(true);
    // The creature takes the colour the API expresses and breathes once per heartbeat.
    const fill = await page.getByTestId('creature-fill').getAttribute('fill');
    expect(fill).toMatch(/^#[0-9a-fA-F]{6}$/);
    const breath = await page.evaluate<{ duration: string; bpm: number }>(PROBE.breath);
    expect(breath.bpm).toBeGreaterThanOrEqual(60);
    expect(Number.parseFloat(breath.duration)).toBeCloseTo(60 / breath.bpm, 1);
    for (const gauge of ['energy', 'hunger', 'mood']) {
      const value = await numberIn(page, `value-${gauge}`);
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(100);
    }
    expect(await page.getByTestId('clock-dial').getAttribute('aria-label')).toMatch(/\S/);
    await page.close();
  });

  it('lowers hunger on screen when the pet is fed', async () => {
    const id = petId('feed');
    // Let it get hungry first (12 simulated hours), so feeding has something to lower.
    await api(`/api/pet/${id}/catchup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hours: 12 }),
    });
    const page = await open(id);
    const before = await numberIn(page, 'value-hunger');
    const fedBefore = await numberIn(page, 'stat-feed');
    expect(before).toBeGreaterThan(10);
    await page.getByTestId('action-feed').click();
    await eventually(() => numberIn(page, 'value-hunger')).toBeLessThan(before);
    await eventually(() => numberIn(page, 'stat-feed')).toBe(fedBefore + 1);
    expect(await page.getByTestId('notice').textContent()).toMatch(/\S/);
    await page.close();
  });

  it('shows the catch-up report', async () => {
    const page = await open(petId('catchup'));
    await page.getByTestId('catchup-hours').fill('30');
    await page.getByTestId('catchup-go').click();
    const report = page.getByTestId('report');
    await report.waitFor();
    expect((await page.getByTestId('report-sentence').textContent())?.trim()).not.toBe('');
    expect(await report.textContent()).toMatch(/30/);
    // An out-of-range value is refused in the page, with a message.
    await page.getByTestId('catchup-hours').fill('0');
    await page.getByTestId('catchup-go').click();
    await page.locator('#catchup-error').waitFor();
    await page.close();
  });

  it('draws the forecast chart', async () => {
    const page = await open(petId('chart'));
    const canvas = page.locator('[data-testid="forecast-chart"] canvas').first();
    await canvas.waitFor();
    const box = await canvas.boundingBox();
    expect(box?.width ?? 0).toBeGreaterThan(100);
    expect(box?.height ?? 0).toBeGreaterThan(100);
    // Something is painted: count non-transparent pixels.
    await eventually(() => page.evaluate<number>(PROBE.paintedPixels)).toBeGreaterThan(1_000);
    await page.close();
  });

  it('switches to English and back, asking the API in that language', async () => {
    const page = await open(petId('lang'), '&lang=zh');
    expect(await page.getByTestId('action-feed').textContent()).toContain('喂食');
    const asked = page.waitForRequest((req) => req.url().includes('/state') && req.url().includes('lang=en'));
    await page.getByTestId('lang-toggle').click();
    await asked;
    await eventually(async () => (await page.getByTestId('action-feed').textContent())?.trim()).toBe('Feed');
    expect(await page.evaluate<string>(PROBE.htmlLang)).toBe('en');
    await eventually(async () => (await page.getByTestId('feeling').textContent()) ?? '').toMatch(/[A-Za-z]{3,}/);
    await page.getByTestId('lang-toggle').click();
    await eventually(async () => (await page.getByTestId('action-feed').textContent())?.trim()).toBe('喂食');
    await page.close();
  });

  it('reaches the feed button with Tab and feeds with Enter, with a visible focus ring', async () => {
    const page = await open(petId('keys'));
    const fedBefore = await numberIn(page, 'stat-feed');
    let reached = false;
    for (let k = 0; k < 25 && !reached; k++) {
      await page.keyboard.press('Tab');
      reached = (await page.evaluate<string | null>(PROBE.activeTestId)) === 'action-feed';
    }
    expect(reached).toBe(true);
    expect(await page.evaluate<string>(PROBE.activeOutline)).not.toBe('none');
    await page.keyboard.press('Enter');
    await eventually(() => numberIn(page, 'stat-feed')).toBe(fedBefore + 1);
    await page.close();
  });

  it('resets only after confirming in the dialog', async () => {
    const id = petId('reset');
    const page = await open(id, '&lang=en');
    await page.getByTestId('action-greet').click();
    await eventually(() => numberIn(page, 'stat-greet')).toBe(1);
    await page.getByText('Settings').click();
    await page.getByTestId('reset-open').click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await numberIn(page, 'stat-greet')).toBe(1);
    await page.getByTestId('reset-open').click();
    await dialog.getByRole('button', { name: 'Reset', exact: true }).click();
    await eventually(() => numberIn(page, 'stat-total')).toBe(0);
    await page.close();
  });

  it('follows the pet on its event stream and updates without a reload when another client feeds (issue #12)', async () => {
    const id = petId('live');
    const page = await open(id);
    await eventually(() => page.evaluate<string | undefined>('document.documentElement.dataset.stream')).toBe('open');
    const fedBefore = await numberIn(page, 'stat-feed');
    const states: string[] = [];
    page.on('request', (req) => {
      if (req.url().includes('/state')) states.push(req.url());
    });
    const started = Date.now();
    await api(`/api/pet/${id}/interact`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'feed' }),
    });
    await eventually(() => numberIn(page, 'stat-feed')).toBe(fedBefore + 1);
    // Pushed, not polled: the page refetched once the event came, well before any poll.
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(states.length).toBeGreaterThanOrEqual(1);
    expect(await page.evaluate<number>("performance.getEntriesByType('navigation').length")).toBe(1);
    await page.close();
  });

  it('fits desktop and phone widths (screenshots)', async () => {
    if (!browser || !server) throw new Error('not started');
    const id = petId('shot');
    await api(`/api/pet/${id}/catchup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hours: 9 }),
    });
    for (const [width, height, name] of [
      [1280, 800, 'desktop'],
      [375, 812, 'phone'],
    ] as const) {
      const ctx = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
      const page = await ctx.newPage();
      page.on('pageerror', (err) => pageErrors.push(err.message));
      await page.goto(`${server.baseUrl}/?pet=${id}&lang=en`);
      await page.getByTestId('feeling').waitFor();
      await page.getByTestId('catchup-hours').fill('3');
      await page.getByTestId('catchup-go').click();
      await page.getByTestId('report').waitFor();
      await page.locator('[data-testid="forecast-chart"] canvas').first().waitFor();
      // Let the action toast fade so it does not cover the page in the picture.
      await eventually(async () => (await page.getByTestId('notice').textContent()) ?? '').toBe('');
      expect(await page.evaluate<number>(PROBE.overflowX)).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(ARTIFACTS, `web-${name}-${width}x${height}.png`), fullPage: true });
      await ctx.close();
    }
  }, 45_000);

  it("creates a new visitor's pet in the browser's timezone (Asia/Tokyo), its first night at Tokyo night (issue #17)", async () => {
    if (!browser || !server) throw new Error('not started');
    const ctx = await browser.newContext({ timezoneId: 'Asia/Tokyo', viewport: { width: 1280, height: 800 } });
    ctx.setDefaultTimeout(10_000);
    const page = await ctx.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const created = page.waitForResponse((res) => res.url().includes('/api/pets') && res.request().method() === 'POST');
    await page.goto(`${server.baseUrl}/?lang=en`);
    expect((await created).status()).toBe(201);
    await eventually(async () => (await page.getByTestId('feeling').textContent())?.trim() ?? '').not.toBe('');
    const id = await page.getByTestId('pet-id').inputValue();
    expect(id).toMatch(/^web-[A-Za-z0-9_-]{22}$/);
    const doc = await api(`/api/pet/${id}/state`);
    expect(doc['timezone']).toBe('Asia/Tokyo');
    expect(String(doc['pet_time'])).toMatch(/\+09:00$/);
    // Born entrained: every asleep minute of the next day lies in the Tokyo night (22:49–06:46).
    const forecast = await api(`/api/pet/${id}/forecast?hours=24&step_minutes=5`);
    const asleep = (forecast['points'] as Array<{ time: string; asleep: boolean }>).filter((p) => p.asleep);
    expect(asleep.length).toBeGreaterThan(0);
    for (const point of asleep) {
      const minute = Number(point.time.slice(11, 13)) * 60 + Number(point.time.slice(14, 16));
      expect(minute >= 22 * 60 + 45 || minute <= 6 * 60 + 50, point.time).toBe(true);
    }
    // The settings offer the IANA zones as a searchable list, and "New pet" makes one in Tokyo too.
    await page.getByText('Settings').click();
    expect(await page.getByTestId('pet-tz').getAttribute('list')).toBe('pet-tz-zones');
    expect(await page.locator('#pet-tz-zones option').count()).toBeGreaterThan(300);
    expect(await page.getByTestId('pet-tz').inputValue()).toBe('Asia/Tokyo');
    await page.getByTestId('new-pet').click();
    await eventually(() => page.getByTestId('pet-id').inputValue()).toMatch(/^pet_/);
    const second = await api(`/api/pet/${await page.getByTestId('pet-id').inputValue()}/state`);
    expect(second['timezone']).toBe('Asia/Tokyo');
    await ctx.close();
  });

  it('logs no errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
