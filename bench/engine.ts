/**
 * Engine benchmark (docs/design.md §7): advancing a pet over 1, 30 and 365 days in one `advance` call
 * against the same interval in single `tick(s, 1)` calls, measured in the same run. Target: a
 * year in one call ≥ 100× faster than 525,600 single ticks. Run alone: `npx tsx bench/engine.ts`.
 */
import { pathToFileURL } from 'node:url';
import { advanceMeasured } from '../src/engine/advance.js';
import { advance, createLifeState, DEFAULT_PARAMS, interact, tick, type LifeState } from '../src/engine/index.js';

const DAY = 1440;
const TIMEZONE = 'Europe/Berlin';

interface Case {
  days: number;
  /** Repetitions of the one-call advance and of the single-tick loop. */
  advanceRuns: number;
  tickRuns: number;
}

const CASES: Case[] = [
  { days: 1, advanceRuns: 400, tickRuns: 40 },
  { days: 30, advanceRuns: 100, tickRuns: 5 },
  { days: 365, advanceRuns: 30, tickRuns: 2 },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const [low = Number.NaN, high = Number.NaN] = sorted.slice(sorted.length % 2 === 1 ? mid : mid - 1, mid + 1);
  return sorted.length % 2 === 1 ? low : (low + high) / 2;
}

/** Median wall time of `runs` calls of `run`, in ms. */
function measure(runs: number, run: () => LifeState): { ms: number; state: LifeState } {
  const times: number[] = [];
  let state: LifeState | undefined;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    state = run();
    times.push(performance.now() - started);
  }
  if (!state) throw new Error('no runs');
  return { ms: median(times), state };
}

function singleTicks(start: LifeState, ticks: number): LifeState {
  let state = start;
  for (let i = 0; i < ticks; i++) state = tick(state, 1).state;
  return state;
}

function format(ms: number): string {
  return ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(0)} µs`;
}

/** Runs the engine benchmark and returns its markdown section. */
export default async function bench(): Promise<{ title: string; markdown: string }> {
  // An entrained, recently fed pet in a zone with DST: the ordinary case of a catch-up.
  const born = createLifeState({ tick: Math.floor(Date.UTC(2024, 0, 1, 12) / 60_000), timezone: TIMEZONE });
  const start = interact(advance(born, born.tick + 30 * DAY).state, 'feed').state;

  // Warm up both paths so that the JIT and the timezone cache are not measured.
  for (let i = 0; i < 20; i++) advance(start, start.tick + 365 * DAY);
  singleTicks(start, 30 * DAY);

  const rows: string[] = [];
  let yearRatio = 0;
  for (const { days, advanceRuns, tickRuns } of CASES) {
    const ticks = days * DAY;
    const cost = { segments: 0, probes: 0 };
    advanceMeasured(start, start.tick + ticks, DEFAULT_PARAMS, cost);
    const one = measure(advanceRuns, () => advance(start, start.tick + ticks).state);
    const many = measure(tickRuns, () => singleTicks(start, ticks));
    const ratio = many.ms / one.ms;
    if (days === 365) yearRatio = ratio;
    const drift = Math.abs(one.state.mood - many.state.mood);
    rows.push(
      `| ${days} d | ${ticks.toLocaleString('en-US')} | ${format(one.ms)} | ${format(many.ms)} | **${ratio.toFixed(0)}×** | ${(cost.segments / days).toFixed(1)} | ${(cost.probes / days).toFixed(1)} | ${drift.toExponential(1)} |`,
    );
  }

  const markdown = [
    `A pet in ${TIMEZONE} (DST included), entrained and just fed, advanced over the interval in one`,
    '`advance` call and in single `tick(s, 1)` calls; medians of repeated runs, same process.',
    '',
    '| interval | ticks | one `advance` | `tick(s, 1)` × ticks | ratio | segments / day | sleep-test probes / day | Δ mood at the end |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Target (docs/design.md §7): a year in one call ≥ 100× faster than 525,600 single ticks — ${yearRatio >= 100 ? 'met' : 'NOT met'} (${yearRatio.toFixed(0)}×).`,
    'Cost grows with events (dawn, dusk, sleep onset, waking), not ticks: see docs/life-model.md.',
  ].join('\n');
  return { title: 'Life engine: catch-up vs single ticks', markdown };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { title, markdown } = await bench();
  console.log(`## ${title}\n\n${markdown}`);
}
