/** The CLI's text output helpers: durations, aligned tables and the simulation chart. */
import asciichart from 'asciichart';

/** 3d 4h, 5h 12m, 42s. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

/** Columns a cell takes on a terminal: wide (CJK, fullwidth) characters take two. */
function displayWidth(text: string): number {
  let width = 0;
  for (const char of text)
    width += /[\u1100-\u115F\u2E80-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]/u.test(char) ? 2 : 1;
  return width;
}

/** Rows as columns padded to their widest cell, two spaces apart. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => displayWidth(row[column] ?? '')))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell + ' '.repeat((widths[column] ?? 0) - displayWidth(cell)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** One decimal. */
export const round1 = (value: number) => Math.round(value * 10) / 10;

/** What `simulate` reports of a run. */
export interface SimulationSummary {
  days: number;
  from: string;
  to: string;
  sleeps: number;
  wakes: number;
  hours_asleep: number;
  lowest_energy: number;
  highest_hunger: number;
  lowest_mood: number;
  end: { energy: number; hunger: number; mood: number };
}

/** The chart (energy, hunger, mood on 0–100, asciichart) with a sleep row under it, then the summary. */
export function renderChart(
  id: string,
  summary: SimulationSummary,
  step: number,
  series: { energy: number[]; hunger: number[]; mood: number[]; asleep: number[] },
  colour: boolean,
): string {
  const labelWidth = 5;
  const colours = colour ? [asciichart.green, asciichart.red, asciichart.blue] : undefined;
  const chart = asciichart.plot([series.energy, series.hunger, series.mood], {
    height: 12,
    min: 0,
    max: 100,
    format: (value: number) => value.toFixed(0).padStart(labelWidth),
    ...(colours === undefined ? {} : { colors: colours }),
  });
  // The first point sits on the axis column: label + one space.
  const sleepRow = `${'sleep'.padStart(labelWidth)} ${series.asleep.map((f) => (f >= 0.5 ? 'z' : f > 0 ? '.' : ' ')).join('')}`.trimEnd();
  const legend = colour
    ? `${asciichart.green}── energy${asciichart.reset}  ${asciichart.red}── hunger${asciichart.reset}  ${asciichart.blue}── mood${asciichart.reset}  z asleep most of a column, . partly`
    : 'energy, hunger, mood (0–100; uncoloured: the three lines overlap)  z asleep most of a column, . partly';
  return [
    `pet ${id}: ${summary.days} day(s) from ${summary.from} to ${summary.to}, one column = ${formatDuration(step * 60_000)}`,
    chart,
    sleepRow,
    legend,
    '',
    `sleeps ${summary.sleeps}, wakes ${summary.wakes}, hours asleep ${summary.hours_asleep} (${round1(summary.hours_asleep / summary.days)} a day)`,
    `lowest energy ${summary.lowest_energy}, highest hunger ${summary.highest_hunger}, lowest mood ${summary.lowest_mood}`,
    `at the end: energy ${summary.end.energy}, hunger ${summary.end.hunger}, mood ${summary.end.mood}`,
  ].join('\n');
}
