/**
 * The page speaks the browser's language (docs/web.md): real headless Chromium with its locale set
 * (which sets navigator.languages and Accept-Language) opens in English for en-US and in Chinese
 * for zh-CN; `?lang=` and the choice saved by the toggle still win over the browser.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/browser.js';

const petId = (label: string) => `e2e-lang-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const eventually = <T>(probe: () => Promise<T> | T) => expect.poll(probe, { timeout: 10_000, interval: 100 });

describe('the page language follows the browser', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pet-life-web-lang-'));
  let server: ServerProcess | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!existsSync(path.join(PROJECT_ROOT, 'dist/web/index.html'))) {
      execFileSync('npm', ['run', '-s', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit', timeout: 170_000 });
    }
    server = await startServerProcess({ env: { STORAGE: 'file', DATA_DIR: dataDir, RATE_LIMIT_PER_PET: '0', RATE_LIMIT_PER_CLIENT: '0' } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
  }, 240_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A page in a fresh context (nothing saved) with `locale`; resolves once the pet is shown. */
  async function open(locale: string, query = ''): Promise<{ page: Page; close: () => Promise<void> }> {
    if (!browser || !server) throw new Error('not started');
    const context = await browser.newContext({ locale });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    await page.goto(`${server.url}/?pet=${petId(locale)}${query}`);
    await eventually(async () => (await page.getByTestId('feeling').textContent())?.trim() ?? '').not.toBe('');
    return { page, close: () => context.close() };
  }

  const texts = async (page: Page) => ({
    htmlLang: await page.evaluate<string>('document.documentElement.lang'),
    languages: await page.evaluate<string[]>('[...navigator.languages]'),
    toggle: (await page.getByTestId('lang-toggle').textContent())?.trim(),
    title: await page.title(),
  });

  it('opens in English for en-US', async () => {
    const { page, close } = await open('en-US');
    const seen = await texts(page);
    expect(seen.languages[0]).toBe('en-US');
    // The toggle offers the other language: 中文 on an English page.
    expect(seen).toMatchObject({ htmlLang: 'en', toggle: '中文' });
    await expect(page.getByText('Energy', { exact: true }).first().isVisible()).resolves.toBe(true);
    await close();
  });

  it('opens in Chinese for zh-CN', async () => {
    const { page, close } = await open('zh-CN');
    const seen = await texts(page);
    expect(seen.languages[0]).toBe('zh-CN');
    expect(seen).toMatchObject({ htmlLang: 'zh-CN', toggle: 'English' });
    await expect(page.getByText('精力', { exact: true }).first().isVisible()).resolves.toBe(true);
    await close();
  });

  it('keeps ?lang= and the saved choice over the browser', async () => {
    const fromUrl = await open('en-US', '&lang=zh');
    expect((await texts(fromUrl.page)).htmlLang).toBe('zh-CN');
    await fromUrl.close();

    const saved = await open('zh-CN');
    await saved.page.getByTestId('lang-toggle').click();
    await eventually(() => saved.page.evaluate<string>('document.documentElement.lang')).toBe('en');
    await saved.page.reload();
    await eventually(async () => (await saved.page.getByTestId('feeling').textContent())?.trim() ?? '').not.toBe('');
    expect((await texts(saved.page)).htmlLang).toBe('en');
    await saved.close();
  });
});
