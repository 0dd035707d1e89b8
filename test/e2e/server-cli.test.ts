/** The built `pet-life` CLI (dist/src/cli/main.js) against file storage. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Forecast, StateDocument } from '../../src/service/index.js';
import { runCli } from '../helpers/server-process.js';

describe('pet-life CLI', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pet-life-cli-'));
  const env = { DATA_DIR: dataDir };
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('state, interact, catchup, update, forecast and reset print JSON', async () => {
    const state = await runCli(['state', 'cli-pet', '--lang', 'en'], env);
    expect(state.code).toBe(0);
    expect((JSON.parse(state.stdout) as StateDocument).device_id).toBe('cli-pet');

    const fed = await runCli(['interact', 'cli-pet', 'feed'], env);
    expect((JSON.parse(fed.stdout) as StateDocument).stats.feed).toBe(1);

    const caught = await runCli(['catchup', 'cli-pet', '24'], env);
    expect((JSON.parse(caught.stdout) as StateDocument).catchup?.ticks).toBe(1440);

    const updated = await runCli(['update', 'cli-pet', '--name', 'Mochi', '--timezone', 'Asia/Tokyo'], env);
    expect(JSON.parse(updated.stdout)).toMatchObject({ pet_name: 'Mochi', timezone: 'Asia/Tokyo' });

    const forecast = await runCli(['forecast', 'cli-pet', '--hours', '1', '--step', '30'], env);
    expect((JSON.parse(forecast.stdout) as Forecast).points).toHaveLength(3);

    const reset = await runCli(['reset', 'cli-pet'], env);
    expect((JSON.parse(reset.stdout) as StateDocument).stats).toEqual({ feed: 0, play: 0, greet: 0 });
  });

  it('prints usage with --help and exits 2 on a bad command line', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: pet-life/);
    for (const args of [['dance', 'x'], ['interact', 'x', 'fly'], ['catchup', 'x', 'soon'], ['state']]) {
      const result = await runCli(args, env);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/Usage: pet-life/);
    }
  });

  it('exits 1 with a coded error for refused input, 78 for bad configuration', async () => {
    const refused = await runCli(['state', 'bad.id'], env);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr)).toMatchObject({ error: { code: 'invalid_device_id' } });
    const misconfigured = await runCli(['state', 'x'], { TIME_SCALE: 'fast' });
    expect(misconfigured.code).toBe(78);
    expect(misconfigured.stderr).toMatch(/TIME_SCALE/);
  });
});
