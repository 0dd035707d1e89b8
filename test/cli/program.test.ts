/**
 * The CLI's one argument parser (src/cli/program.ts, commander): help, usage errors (exit 2, the
 * usage on stderr) and the value checks of every command, without a storage (a command line
 * refused by the parser never opens one).
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  // A bad configuration: a command that got past the parser would exit 78, not 2.
  return {
    out,
    err,
    io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), errIsTty: false, outIsTty: false, env: { TIME_SCALE: 'fast' } },
  };
}

describe('pet-life command line', () => {
  it.each([[[]], [['--help']], [['help']], [['help', 'simulate']]])('%j prints help on stdout, exit 0', async (argv) => {
    const run = io();
    expect(await runCli(argv, run.io)).toBe(0);
    expect(run.out.join('')).toMatch(/Usage: pet-life/);
  });

  it('lists every command in the help', async () => {
    const run = io();
    await runCli(['--help'], run.io);
    for (const command of [
      'state',
      'interact',
      'catchup',
      'reset',
      'update',
      'forecast',
      'serve',
      'pets',
      'inspect',
      'simulate',
      'doctor',
      'migrate-keys',
    ])
      expect(run.out.join('')).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it.each([
    [['dance', 'x'], /unknown command/],
    [['state'], /missing required argument/],
    [['interact', 'x', 'fly'], /feed, play, greet/],
    [['catchup', 'x', 'soon'], /must be a number/],
    [['catchup', 'x'], /catchup needs the hours/],
    [['update', 'x'], /--name and\/or --timezone/],
    [['state', 'x', '--lang', 'fr'], /lang must be one of zh, en/],
    [['forecast', 'x', '--hours', 'many'], /must be a number/],
    [['pets', '--limit', 'many'], /--limit/],
    [['simulate', 'x'], /--days/],
    [['simulate', 'x', '--days', '4000'], /from 1 to 3650/],
  ])('%j is a usage error: exit 2, the message and the usage on stderr', async (argv, message) => {
    const run = io();
    expect(await runCli(argv, run.io)).toBe(2);
    expect(run.err.join('')).toMatch(message);
    expect(run.err.join('')).toMatch(/Usage: pet-life/);
    expect(run.out).toEqual([]);
  });

  it('a valid command line reaches the configuration (exit 78 on a bad one)', async () => {
    const run = io();
    expect(await runCli(['catchup', 'x', '--hours', '2', '--lang', 'en'], run.io)).toBe(78);
    expect(run.err.join('')).toMatch(/TIME_SCALE/);
  });
});
