/**
 * The input rules, in one place: the patterns, limits and refusal messages of what a client may
 * send. The HTTP schemas, the service's checks (which guard callers other than HTTP), the storage
 * keys, the configuration and the web page (bundled at build time) all use these, so a rule and
 * its message cannot drift apart between layers. Constants and pure checks only: the web page
 * imports this file, so it imports nothing but the engine's constant lists.
 */
import { ACTIONS, isAction, LANGS, TIMEZONE_MAX_LENGTH } from './engine/types.js';

/** Longest device (pet) id. */
export const DEVICE_ID_MAX_LENGTH = 64;
/**
 * Device ids: 1–64 of A–Z a–z 0–9 _ -, so never `:`, `~`, `/`, `.` or a glob character; storage
 * keys and file names are built from them safely.
 */
export const DEVICE_ID_PATTERN = new RegExp(`^[A-Za-z0-9_-]{1,${DEVICE_ID_MAX_LENGTH}}$`);
export const DEVICE_ID_MESSAGE = `device_id must be 1–${DEVICE_ID_MAX_LENGTH} of A–Z a–z 0–9 _ -`;

/** The action check (the engine's own) and its refusal message. */
export { isAction };
export const ACTION_MESSAGE = `action must be one of ${ACTIONS.join(', ')}`;

/** The languages of the texts (`lang`, `--lang`). */
export const LANG_MESSAGE = `lang must be one of ${LANGS.join(', ')}`;

/** Longest pet name, after trimming. */
export const PET_NAME_MAX_LENGTH = 64;
export const PET_NAME_MESSAGE = `pet_name must be 1–${PET_NAME_MAX_LENGTH} characters without control characters`;

/** True when `text` has a control character (C0, DEL or C1): never wanted in a name. */
export function hasControlCharacters(text: string): boolean {
  return /\p{Cc}/u.test(text);
}

/** Whether `name`, already trimmed, is a pet name the service accepts. */
export function isPetName(name: string): boolean {
  return name.length > 0 && name.length <= PET_NAME_MAX_LENGTH && !hasControlCharacters(name);
}

export { TIMEZONE_MAX_LENGTH };
/** Whether the runtime knows the zone is checked by engine canonicalTimezone; this is its message. */
export const TIMEZONE_MESSAGE = 'timezone must be an IANA timezone name such as Asia/Shanghai or UTC';

/** A change of a pet (PATCH) names at least one of its fields. */
export const UPDATE_MESSAGE = 'send pet_name and/or timezone';

/** Catch-up is bounded to ten years of simulated time. */
export const MAX_CATCHUP_HOURS = 87_600;
export const CATCHUP_HOURS_MESSAGE = `hours must be a number above 0 and at most ${MAX_CATCHUP_HOURS}`;

/** Forecasts look at most a week ahead. */
export const MAX_FORECAST_HOURS = 168;
export const FORECAST_HOURS_MESSAGE = `hours must be a number from 1 to ${MAX_FORECAST_HOURS}`;
/** Largest step between forecast points, minutes. */
export const MAX_FORECAST_STEP_MINUTES = 60;
export const STEP_MINUTES_MESSAGE = `step_minutes must be an integer from 1 to ${MAX_FORECAST_STEP_MINUTES}`;

/**
 * Defaults of the limits an operator may set (docs/configuration.md): config.ts reads the
 * environment over them; the service and the app fall back to them when built without a config.
 */
export const LIMIT_DEFAULTS = Object.freeze({
  /** Pets whose last read answer is kept (READ_CACHE_SIZE). */
  readCacheSize: 2000,
  /** Days a pet created by reads alone and never changed is kept (NEWBORN_TTL_DAYS). */
  newbornTtlDays: 30,
  /** Requests one pet may have queued or running in one process (PET_QUEUE_DEPTH). */
  petQueueDepth: 64,
  /** Pets one owner may hold (MAX_PETS_PER_OWNER). */
  maxPetsPerOwner: 20,
  /** Owners one pet may have (MAX_OWNERS_PER_PET). */
  maxOwnersPerPet: 8,
  /** Live event streams (EVENTS_*; VERCEL_MAX_DURATION_S). */
  events: Object.freeze({ maxSubscribers: 10_000, maxPerPet: 100, heartbeatMs: 15_000, vercelMaxDurationS: 60 }),
});
