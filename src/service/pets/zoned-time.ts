// Request path: ISO 8601 times in a pet's timezone.
/**
 * ISO 8601 in a given IANA timezone, with its UTC offset (e.g. `2026-03-01T08:00:00.000+08:00`),
 * for `pet_time`. The offset comes from the engine's per-day cache (Intl is slow: formatting
 * through it showed in a GET's CPU profile), then the local time is plain UTC arithmetic.
 */
import { utcOffsetMinutes } from '../../engine/index.js';

const MS_PER_MINUTE = 60_000;

function pad(value: number): string {
  return String(Math.abs(value)).padStart(2, '0');
}

/** Formats Unix ms `ms` as ISO 8601 local time in `timeZone`, with its offset ("Z" for UTC itself). */
export function formatZoned(ms: number, timeZone: string): string {
  const whole = Math.floor(ms);
  const offsetMinutes = utcOffsetMinutes(timeZone, Math.floor(whole / MS_PER_MINUTE));
  // toISOString of the shifted instant is the local wall time, ending in "Z": swap in the offset.
  const local = new Date(whole + offsetMinutes * MS_PER_MINUTE).toISOString().slice(0, -1);
  if (offsetMinutes === 0 && (timeZone === 'UTC' || timeZone === 'Etc/UTC')) return `${local}Z`;
  const sign = offsetMinutes < 0 ? '-' : '+';
  return `${local}${sign}${pad(Math.trunc(offsetMinutes / 60))}:${pad(offsetMinutes % 60)}`;
}
