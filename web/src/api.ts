/**
 * The page's view of the pet-life HTTP API (docs/design.md §5). Every field the page reads is optional
 * here and normalised by `parseX`, so an older or newer server never breaks the page.
 */
import type { Action, Lang } from '../../src/engine/types.ts';
import { DEVICE_ID_PATTERN } from '../../src/rules.ts';

// The server's own lists and rule (src/, bundled at build time): it refuses anything else.
export type { Action, Lang };
export { DEVICE_ID_PATTERN };

/** What happened over an interval ("while you were away" / catch-up). */
export interface Report {
  hours: number;
  sleeps: number | null;
  wakes: number | null;
  minutesAsleep: number | null;
  lowestEnergy: number | null;
  highestHunger: number | null;
  lowestMood: number | null;
  sentence: string;
}

/** The state document, reduced to what the page shows. */
export interface PetView {
  deviceId: string;
  name: string;
  energy: number;
  hunger: number;
  mood: number;
  currentState: string;
  asleep: boolean;
  pulseRate: number;
  pulseSymbol: string;
  pulseIntensity: string;
  colorHex: string;
  colorName: string;
  feeling: string;
  internalPhase: number | null;
  externalPhase: number | null;
  /** Signed, cycles in [-0.5, 0.5); > 0 means the body clock is behind local time. */
  phaseDifference: number | null;
  sleepPressure: number | null;
  bond: number | null;
  stats: { feed: number; play: number; greet: number };
  petTime: string | null;
  /** When this life began (ISO 8601), if the server says. */
  createdAt: string | null;
  lastUpdated: string | null;
  timezone: string | null;
  away: Report | null;
}

export interface ForecastPoint {
  /** Unix seconds. */
  t: number;
  energy: number;
  hunger: number;
  mood: number | null;
  asleep: boolean;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** HTTP status. */
  readonly status: number;
  /** The server's stable error code (`bad_request`…), or `http_<status>`. */
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
/** First finite number among the candidates. */
function pick(...vs: unknown[]): number | null {
  for (const v of vs) {
    const n = num(v);
    if (n !== null) return n;
  }
  return null;
}
const clamp100 = (n: number): number => Math.min(100, Math.max(0, n));

/** Reads a report in either the wire's snake_case or the engine's camelCase. */
export function parseReport(raw: unknown): Report | null {
  const r = obj(raw);
  if (Object.keys(r).length === 0) return null;
  const ticks = pick(r['ticks'], r['minutes']);
  const hours = pick(r['hours'], ticks === null ? null : ticks / 60) ?? 0;
  return {
    hours,
    sleeps: pick(r['sleeps']),
    wakes: pick(r['wakes']),
    minutesAsleep: pick(r['minutes_asleep'], r['minutesAsleep']),
    lowestEnergy: pick(r['lowest_energy'], r['lowestEnergy']),
    highestHunger: pick(r['highest_hunger'], r['highestHunger']),
    lowestMood: pick(r['lowest_mood'], r['lowestMood']),
    sentence: str(r['sentence']) ?? str(r['summary']) ?? '',
  };
}

export function parseState(raw: unknown): PetView {
  const doc = obj(raw);
  const inner = obj(doc['internal_state']);
  const rhythm = obj(inner['rhythm']);
  const energySys = obj(inner['energy']);
  const satiety = obj(inner['satiety']);
  const moodSys = obj(inner['mood']);
  const simple = obj(doc['simplified_state']);
  const expr = obj(doc['expression']);
  const stats = obj(doc['stats'] ?? inner['stats']);
  const energy = pick(simple['energy'], energySys['energy']) ?? 0;
  const hunger = pick(simple['hunger'], satiety['hunger']) ?? 0;
  const mood = pick(simple['mood'], moodSys['mood']) ?? 0;
  const currentState = str(simple['current_state']) ?? 'idle';
  const asleep = energySys['asleep'] === true || currentState === 'sleep';
  return {
    deviceId: str(doc['device_id']) ?? '',
    name: str(doc['pet_name']) ?? '',
    energy: clamp100(energy),
    hunger: clamp100(hunger),
    mood: clamp100(mood),
    currentState,
    asleep,
    pulseRate: Math.min(200, Math.max(20, pick(expr['pulse_rate']) ?? 72)),
    pulseSymbol: str(expr['pulse_symbol']) ?? '',
    pulseIntensity: str(expr['pulse_intensity']) ?? '',
    colorHex: /^#[0-9a-fA-F]{6}$/.test(str(expr['color_hex']) ?? '') ? (expr['color_hex'] as string) : '#f4a261',
    colorName: str(expr['color_name']) ?? '',
    feeling: str(expr['feeling']) ?? '',
    internalPhase: pick(rhythm['internal_phase']),
    externalPhase: pick(rhythm['external_phase']),
    phaseDifference: pick(rhythm['phase_difference']),
    sleepPressure: pick(energySys['sleep_pressure']),
    bond: pick(moodSys['bond']),
    stats: {
      feed: pick(stats['feed']) ?? 0,
      play: pick(stats['play']) ?? 0,
      greet: pick(stats['greet']) ?? 0,
    },
    petTime: str(doc['pet_time']),
    createdAt: str(doc['created_at']),
    lastUpdated: str(doc['last_updated']),
    timezone: str(doc['timezone']),
    away: parseReport(doc['away']),
  };
}

/** Accepts `[...]`, `{points: [...]}` or `{forecast: [...]}`; times as Unix s/ms or ISO text. */
export function parseForecast(raw: unknown): ForecastPoint[] {
  const doc = obj(raw);
  const list = Array.isArray(raw) ? raw : Array.isArray(doc['points']) ? doc['points'] : doc['forecast'];
  if (!Array.isArray(list)) return [];
  const out: ForecastPoint[] = [];
  for (const item of list) {
    const p = obj(item);
    const simple = obj(p['simplified_state']);
    const t = toUnixSeconds(p['time'] ?? p['t'] ?? p['at'] ?? p['pet_time'] ?? p['timestamp']);
    const energy = pick(p['energy'], simple['energy']);
    const hunger = pick(p['hunger'], simple['hunger']);
    if (t === null || energy === null || hunger === null) continue;
    out.push({
      t,
      energy,
      hunger,
      mood: pick(p['mood'], simple['mood']),
      asleep: p['asleep'] === true || simple['current_state'] === 'sleep' || p['current_state'] === 'sleep',
    });
  }
  return out.sort((a, b) => a.t - b.t);
}

function toUnixSeconds(v: unknown): number | null {
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? null : ms / 1000;
  }
  const n = num(v);
  if (n === null) return null;
  return n > 1e11 ? n / 1000 : n;
}

export interface ApiClientOptions {
  /** @default '' (same origin) */
  baseUrl?: string;
}

/** Tries of a change that got a 503 or no answer, with one Idempotency-Key. */
const CHANGE_TRIES = 3;

/** 128 random bits, hex (crypto.randomUUID needs a secure context; a LAN address over http is not). */
function idempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** A thin fetch wrapper: JSON in and out, `{error:{code,message}}` turned into ApiError. */
export function createApiClient({ baseUrl = '' }: ApiClientOptions = {}) {
  async function call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const init: RequestInit = { method, headers, cache: 'no-store' };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    // A change answered 503, or whose answer never came, may or may not have been applied: it is
    // sent again with the same Idempotency-Key, which the server applies at most once.
    if (method === 'POST') headers['idempotency-key'] = idempotencyKey();
    if (signal) init.signal = signal;
    let res: Response;
    for (let attempt = 1; ; attempt += 1) {
      try {
        res = await fetch(baseUrl + path, init);
        if (res.status !== 503 || method !== 'POST' || attempt >= CHANGE_TRIES) break;
      } catch (error) {
        if (method !== 'POST' || attempt >= CHANGE_TRIES || signal?.aborted) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 300 * attempt));
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON (a proxy's error page, say): fall through to the status check.
    }
    if (!res.ok) {
      const err = obj(obj(json)['error']);
      throw new ApiError(res.status, str(err['code']) ?? `http_${res.status}`, str(err['message']) ?? res.statusText);
    }
    return json;
  }
  const pet = (id: string) => `/api/pet/${encodeURIComponent(id)}`;
  return {
    /** `timezone`: the zone the pet is born in if this read is the first the server sees of it. */
    state: (id: string, lang: Lang, signal?: AbortSignal, timezone?: string) =>
      call('GET', `${pet(id)}/state?lang=${lang}${timezone ? `&timezone=${encodeURIComponent(timezone)}` : ''}`, undefined, signal).then(
        parseState,
      ),
    /** A new pet (POST /api/pets): the server makes the id when none is given; 409 when it is taken. */
    create: (birth: { device_id?: string; pet_name?: string; timezone?: string }, lang: Lang) =>
      call('POST', `/api/pets?lang=${lang}`, birth).then(parseState),
    interact: (id: string, action: Action, lang: Lang) => call('POST', `${pet(id)}/interact?lang=${lang}`, { action }).then(parseState),
    catchup: async (id: string, hours: number, lang: Lang) => {
      const raw = await call('POST', `${pet(id)}/catchup?lang=${lang}`, { hours });
      const doc = obj(raw);
      // The server puts the report in `catchup`; accept `report` or the `away` block too.
      const state = parseState(doc['state'] ?? raw);
      const report = parseReport(doc['catchup'] ?? doc['report']) ?? state.away;
      return { state: { ...state, away: null }, report };
    },
    reset: (id: string, lang: Lang) => call('POST', `${pet(id)}/reset?lang=${lang}`, {}).then(parseState),
    update: (id: string, patch: { pet_name?: string; timezone?: string }, lang: Lang) =>
      call('PATCH', `${pet(id)}?lang=${lang}`, patch).then(parseState),
    forecast: (id: string, hours: number, signal?: AbortSignal) =>
      call('GET', `${pet(id)}/forecast?hours=${hours}`, undefined, signal).then(parseForecast),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** Types of events the server sends on GET /api/pet/{id}/events (issue #12). */
export const EVENT_TYPES = ['interacted', 'fell_asleep', 'woke_up', 'got_hungry', 'reset', 'updated', 'claimed', 'created'] as const;

/** One event of the stream, reduced to what the page uses. */
export interface PetEventView {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

export function parseEvent(raw: string): PetEventView | null {
  try {
    const event = obj(JSON.parse(raw));
    const id = str(event['id']);
    const type = str(event['type']);
    return id === null || type === null ? null : { id, type, data: obj(event['data']) };
  } catch {
    return null;
  }
}

/** The URL of the pet's event stream (Server-Sent Events). */
export function eventsUrl(id: string, baseUrl = ''): string {
  return `${baseUrl}/api/pet/${encodeURIComponent(id)}/events`;
}
