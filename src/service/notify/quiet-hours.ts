/**
 * Quiet hours for pushes (docs/design.md §13), in a timezone: `from`–`to` as HH:MM, wrapping
 * past midnight when `from` > `to` ("22:00"–"07:30"). A push due inside them waits for their end.
 */
import type { QuietHours } from './targets.js';

export const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;

const minutesOf = (hhmm: string): number => {
  const match = HH_MM.exec(hhmm);
  if (match === null) throw new TypeError(`not HH:MM: ${hhmm}`);
  return Number(match[1]) * 60 + Number(match[2]);
};

/** Minutes since local midnight at `ms` in `timeZone`. */
function localMinutes(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(ms);
  const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const minute = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return hour * 60 + minute;
}

/** When the quiet hours around `nowMs` end (wall ms), or null when `nowMs` is outside them. */
export function quietUntilMs(quiet: QuietHours | null, timeZone: string, nowMs: number): number | null {
  if (quiet === null) return null;
  const from = minutesOf(quiet.from);
  const to = minutesOf(quiet.to);
  if (from === to) return null;
  const now = localMinutes(nowMs, timeZone);
  const inside = from < to ? now >= from && now < to : now >= from || now < to;
  if (!inside) return null;
  const left = (to - now + 24 * 60) % (24 * 60);
  // To the start of the minute the hours end at (seconds of the current minute taken off).
  return nowMs + left * 60_000 - (nowMs % 60_000);
}
