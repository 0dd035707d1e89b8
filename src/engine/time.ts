/**
 * The tick grid and the pet's external day. 1 tick = 1 simulated minute; ticks are absolute
 * minutes since the Unix epoch on the pet's world clock. UTC offsets of IANA zones come from
 * Intl.DateTimeFormat (pure and deterministic for a given ICU), cached per zone and per day.
 */
import { TIMEZONE_MAX_LENGTH } from './types.js';

/** Ticks (minutes) in one external day. */
export const TICKS_PER_DAY = 1440;
/** Ticks (minutes) in one hour. */
export const TICKS_PER_HOUR = 60;

/** Milliseconds in one tick (one simulated minute). */
export const MS_PER_TICK = 60_000;

/** The tick that contains Unix time `ms` (floor to the minute). */
export function tickFromMs(ms: number): number {
  return Math.floor(ms / MS_PER_TICK);
}

/** Unix time in ms at the start of `tick`. */
export function msFromTick(tick: number): number {
  return tick * MS_PER_TICK;
}

/** `x mod m` in [0, m) for any sign of x. */
export function modulo(x: number, m: number): number {
  const r = x % m;
  return r < 0 ? r + m : r;
}

/**
 * Formatters and day caches are keyed by canonical zone names only (what
 * `resolvedOptions().timeZone` answers), so that the many spellings one zone accepts
 * (`asia/shanghai`, `ASIA/SHANGHAI`, …) cannot each buy a formatter and a cache: there are a
 * few hundred canonical zones, and the spelling map is bounded.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
/**
 * Lower-cased name → canonical name (null: not a zone). Zone names are matched without regard to
 * case, so every spelling of one zone shares one entry; seeded with the runtime's canonical zones,
 * and aliases (`Asia/Calcutta`) or non-zones found later are kept up to a bound, then start over.
 */
const canonicalByLowerCase = new Map<string, string | null>();
const KNOWN_ZONES: ReadonlySet<string> = new Set(
  typeof Intl.supportedValuesOf === 'function' ? [...Intl.supportedValuesOf('timeZone'), 'UTC'] : ['UTC'],
);
for (const zone of KNOWN_ZONES) canonicalByLowerCase.set(zone.toLowerCase(), zone);
const MAX_LOOKED_UP_NAMES = KNOWN_ZONES.size + 1_000;
/** What a zone name is made of (`Etc/GMT+5`, `America/Port-au-Prince`, `UTC`). */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]*$/;

function newFormatter(timezone: string): Intl.DateTimeFormat {
  // Throws RangeError for an unknown zone.
  return new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
}

/**
 * The canonical IANA name of `timezone` (`asia/shanghai` → `Asia/Shanghai`, `utc` → `UTC`), or
 * null when it names no zone this runtime knows. Callers store and compare canonical names.
 */
export function canonicalTimezone(timezone: string): string | null {
  if (typeof timezone !== 'string' || timezone.length === 0 || timezone.length > TIMEZONE_MAX_LENGTH) return null;
  if (formatters.has(timezone)) return timezone;
  const key = timezone.toLowerCase();
  const known = canonicalByLowerCase.get(key);
  if (known !== undefined) return known;
  let canonical: string | null = null;
  if (ZONE_NAME.test(timezone)) {
    try {
      canonical = newFormatter(timezone).resolvedOptions().timeZone;
    } catch {
      canonical = null;
    }
  }
  if (canonicalByLowerCase.size >= MAX_LOOKED_UP_NAMES) {
    canonicalByLowerCase.clear();
    for (const zone of KNOWN_ZONES) canonicalByLowerCase.set(zone.toLowerCase(), zone);
  }
  canonicalByLowerCase.set(key, canonical);
  return canonical;
}

function formatterFor(timezone: string): Intl.DateTimeFormat {
  const canonical = canonicalTimezone(timezone);
  if (canonical === null) throw new RangeError(`unknown timezone: ${String(timezone)}`);
  let formatter = formatters.get(canonical);
  if (formatter === undefined) {
    formatter = newFormatter(canonical);
    formatters.set(canonical, formatter);
  }
  return formatter;
}

/** Whether `timezone` is an IANA zone name this runtime knows (e.g. 'Asia/Shanghai', 'UTC'), in any spelling. */
export function isValidTimezone(timezone: string): boolean {
  return canonicalTimezone(timezone) !== null;
}

/** Throws a RangeError unless `timezone` is a known IANA zone. */
export function assertTimezone(timezone: string): void {
  if (!isValidTimezone(timezone)) throw new RangeError(`unknown timezone: ${String(timezone)}`);
}

function offsetFromIntl(timezone: string, tick: number): number {
  // UTC (the default zone) needs no formatter: the first Intl.DateTimeFormat of a process loads
  // ICU's zone data, a cost paid on the first request of a cold serverless function.
  if (timezone === 'UTC') return 0;
  const ms = tick * MS_PER_TICK;
  let year = 0;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const part of formatterFor(timezone).formatToParts(ms)) {
    switch (part.type) {
      case 'year':
        year = Number(part.value);
        break;
      case 'month':
        month = Number(part.value);
        break;
      case 'day':
        day = Number(part.value);
        break;
      case 'hour':
        hour = Number(part.value);
        break;
      case 'minute':
        minute = Number(part.value);
        break;
      case 'second':
        second = Number(part.value);
        break;
      default:
        break;
    }
  }
  const wall = new Date(0);
  wall.setUTCFullYear(year, month - 1, day);
  wall.setUTCHours(hour, minute, second, 0);
  // Historical local-mean-time offsets have seconds; the tick grid keeps whole minutes.
  return Math.round((wall.getTime() - ms) / MS_PER_TICK);
}

/**
 * Offsets over one UTC day bucket [day·1440, day·1440 + 1440): `before` until tick `change`,
 * `after` from it (change = Infinity when constant). Assumes at most one offset change per
 * 24 h, which holds for every zone in the tz database.
 */
interface DayOffsets {
  readonly before: number;
  readonly change: number;
  readonly after: number;
}

/** Day entries kept over all zones together (a bound on the cache's memory). */
const MAX_CACHED_DAYS = 200_000;
let cachedDays = 0;
/** Per canonical zone name (see canonicalTimezone). */
const dayCaches = new Map<string, Map<number, DayOffsets>>();

function dayOffsets(timezone: string, day: number): DayOffsets {
  let cache = dayCaches.get(timezone);
  if (!cache) {
    const canonical = canonicalTimezone(timezone);
    if (canonical === null) throw new RangeError(`unknown timezone: ${String(timezone)}`);
    cache = dayCaches.get(canonical);
    if (!cache) {
      cache = new Map();
      dayCaches.set(canonical, cache);
    }
  }
  let entry = cache.get(day);
  if (entry) return entry;
  const first = day * TICKS_PER_DAY;
  const last = first + TICKS_PER_DAY - 1;
  const before = offsetFromIntl(timezone, first);
  const after = offsetFromIntl(timezone, last);
  if (before === after) {
    entry = { before, change: Infinity, after };
  } else {
    // Binary search of the first tick with the new offset.
    let lo = first;
    let hi = last;
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (offsetFromIntl(timezone, mid) === before) lo = mid;
      else hi = mid;
    }
    entry = { before, change: hi, after };
  }
  if (cachedDays >= MAX_CACHED_DAYS) {
    // Rare (200,000 distinct zone-days): start over rather than track recency on the hot path.
    for (const zone of dayCaches.values()) zone.clear();
    cachedDays = 0;
  }
  cache.set(day, entry);
  cachedDays += 1;
  return entry;
}

/** UTC offset of `timezone` at `tick`, in minutes (e.g. 480 for Asia/Shanghai). */
export function utcOffsetMinutes(timezone: string, tick: number): number {
  const entry = dayOffsets(timezone, Math.floor(tick / TICKS_PER_DAY));
  return tick < entry.change ? entry.before : entry.after;
}

/** Minutes since local midnight in `timezone` at `tick`, 0–1439. */
export function localMinute(timezone: string, tick: number): number {
  return modulo(tick + utcOffsetMinutes(timezone, tick), TICKS_PER_DAY);
}

/**
 * The first tick c in (afterTick, untilTick] whose UTC offset differs from that of tick c − 1,
 * or null when the offset stays the same over the whole range.
 */
export function nextOffsetChange(timezone: string, afterTick: number, untilTick: number): number | null {
  let previous = utcOffsetMinutes(timezone, afterTick);
  let day = Math.floor((afterTick + 1) / TICKS_PER_DAY);
  const lastDay = Math.floor(untilTick / TICKS_PER_DAY);
  for (; day <= lastDay; day++) {
    const entry = dayOffsets(timezone, day);
    const first = Math.max(afterTick + 1, day * TICKS_PER_DAY);
    const atFirst = first < entry.change ? entry.before : entry.after;
    if (atFirst !== previous) return first <= untilTick ? first : null;
    if (entry.change > first && entry.change <= untilTick && entry.after !== atFirst) return entry.change;
    previous = entry.after;
  }
  return null;
}
