/**
 * `pet-life simulate <id> --days N`: the stored pet run forward N days in memory, as a chart and a
 * summary (or JSON); nothing is written unless `--save` (then one catch-up through the service).
 */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { advance, vitalsOf } from '../engine/index.js';
import { MAX_CATCHUP_HOURS } from '../rules.js';
import { bringPetToNow, hydratePet } from '../service/pets/live-pet.js';
import { type CliIo, errorLine, Exit, type Opened, withStorage } from './context.js';
import { renderChart, round1, type SimulationSummary } from './format.js';
import { positiveInt } from './parse.js';
import { cliPetService, runCommand } from './pet-commands.js';

/** Longest simulation: the catch-up limit. */
export const MAX_SIMULATE_DAYS = MAX_CATCHUP_HOURS / 24;

interface SimulateOptions {
  days: number;
  save?: boolean;
  progress?: boolean;
  width: number;
  json?: boolean;
}

export function registerSimulate(program: Command, io: CliIo): void {
  program
    .command('simulate')
    .description('run the stored pet forward N days in memory: chart and summary; nothing written without --save')
    .argument('<id>', 'device id')
    .requiredOption('--days <n>', `days to simulate (1–${MAX_SIMULATE_DAYS})`, positiveInt(MAX_SIMULATE_DAYS))
    .option('--save', 'then catch the stored pet up by N days through the service (written)')
    .option('--progress', 'show the progress bar even when stderr is not a terminal')
    .option('--width <n>', 'chart columns', positiveInt(400), 100)
    .option('--json', 'the summary and the sampled points as JSON instead of the chart')
    .action(async (id: string, options: SimulateOptions) => {
      await withStorage(io, (opened) => simulate(io, opened, id, options));
    });
}

async function simulate(io: CliIo, { config, storage }: Opened, id: string, options: SimulateOptions): Promise<void> {
  const record = await storage.load(id);
  if (record === null) {
    io.err(errorLine('not_found', `no pet ${id} stored in ${storage.name} (${storage.target})`));
    throw new Exit(1);
  }
  // The stored pet brought to now, as a read would see it — in memory only.
  const pet = hydratePet(id, record, Date.now(), { petName: config.petName, timezone: config.petTimezone });
  bringPetToNow(pet, Date.now(), config.timeScale);
  const totalTicks = options.days * 1440;
  const columns = Math.min(options.width, totalTicks);
  const step = Math.ceil(totalTicks / columns);
  const showBar = options.progress === true || (io.errIsTty && options.days >= 30);
  const bar = showBar
    ? new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: 'simulating [{bar}] {percentage}% | day {value}/{total}',
          noTTYOutput: !io.errIsTty,
          notTTYSchedule: 1000,
          hideCursor: io.errIsTty,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(options.days, 0);

  let state = pet.state;
  const startTick = state.tick;
  const endTick = startTick + totalTicks;
  const energy: number[] = [];
  const hunger: number[] = [];
  const mood: number[] = [];
  const asleep: number[] = [];
  const summary = { sleeps: 0, wakes: 0, minutesAsleep: 0, lowestEnergy: 100, highestHunger: 0, lowestMood: 100 };
  const first = vitalsOf(state);
  energy.push(first.energy);
  hunger.push(first.hunger);
  mood.push(first.mood);
  asleep.push(first.asleep ? 1 : 0);
  for (let tick = startTick; tick < endTick; ) {
    const to = Math.min(endTick, tick + step);
    const { state: next, report } = advance(state, to);
    state = next;
    summary.sleeps += report.sleeps;
    summary.wakes += report.wakes;
    summary.minutesAsleep += report.minutesAsleep;
    summary.lowestEnergy = Math.min(summary.lowestEnergy, report.lowestEnergy);
    summary.highestHunger = Math.max(summary.highestHunger, report.highestHunger);
    summary.lowestMood = Math.min(summary.lowestMood, report.lowestMood);
    const vitals = vitalsOf(state);
    energy.push(vitals.energy);
    hunger.push(vitals.hunger);
    mood.push(vitals.mood);
    asleep.push(report.minutesAsleep / (to - tick));
    tick = to;
    if (bar) {
      bar.update(Math.floor((tick - startTick) / 1440));
      await new Promise((resolve) => setImmediate(resolve)); // lets the bar redraw
    }
  }
  bar?.update(options.days);
  bar?.stop();

  const end = vitalsOf(state);
  const result: SimulationSummary = {
    days: options.days,
    from: new Date(startTick * 60_000).toISOString(),
    to: new Date(endTick * 60_000).toISOString(),
    sleeps: summary.sleeps,
    wakes: summary.wakes,
    hours_asleep: round1(summary.minutesAsleep / 60),
    lowest_energy: round1(summary.lowestEnergy),
    highest_hunger: round1(summary.highestHunger),
    lowest_mood: round1(summary.lowestMood),
    end: { energy: round1(end.energy), hunger: round1(end.hunger), mood: round1(end.mood) },
  };

  if (options.json) {
    const points = energy.map((_, index) => ({
      tick: Math.min(endTick, startTick + index * step),
      energy: round1(energy[index] ?? 0),
      hunger: round1(hunger[index] ?? 0),
      mood: round1(mood[index] ?? 0),
      asleep_fraction: round1(asleep[index] ?? 0),
    }));
    io.out(`${JSON.stringify({ id, summary: result, step_minutes: step, points, saved: options.save === true }, null, 2)}\n`);
  } else {
    io.out(`${renderChart(id, result, step, { energy, hunger, mood, asleep }, io.outIsTty)}\n`);
  }

  if (options.save) {
    const service = cliPetService(config, storage);
    await runCommand(service, { kind: 'catchup', deviceId: id, hours: options.days * 24, lang: 'en' });
    io.out(`saved: pet ${id} caught up by ${options.days} day(s) (${options.days * 24} hours)\n`);
  } else if (!options.json) {
    io.out('nothing written (add --save to catch the stored pet up by these days)\n');
  }
}
