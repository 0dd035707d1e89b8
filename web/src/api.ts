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

/** The state document, reduced to what the page shows (a pet summary and the rest). */
export interface PetView extends PetSummary {
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
  /** `visits`: visits made or received (issue #13; 0 before the first). */
  stats: { feed: number; play: number; greet: number; visits: number };
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
      visits: pick(stats['visits']) ?? 0,
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

/** An owner as POST /api/owners answers it (the secret is shown once). */
export interface OwnerView {
  ownerId: string;
  secret: string;
}

/** A pet in an owner's or a friend list: its id, name and simplified state. */
export interface PetSummary {
  deviceId: string;
  name: string;
  energy: number;
  hunger: number;
  mood: number;
  currentState: string;
}

export interface FriendView extends PetSummary {
  since: string | null;
  /** 0–1. */
  familiarity: number;
  lastVisit: string | null;
}

export interface InviteView {
  code: string;
  expiresAt: string | null;
}

export interface VisitView {
  visitId: string;
  friendId: string;
  /** `enjoyed`, `friend_asleep` or `visitor_asleep`. */
  outcome: string;
  visitorMoodDelta: number;
  friendMoodDelta: number;
  familiarity: number;
  visits: number;
}

function listOf<T>(raw: unknown, parse: (item: unknown) => T | null): T[] {
  if (!Array.isArray(raw)) return [];
  return raw.map(parse).filter((item): item is T => item !== null);
}

export function parseOwner(raw: unknown): OwnerView {
  const doc = obj(raw);
  const ownerId = str(doc['owner_id']);
  const secret = str(doc['secret']);
  if (ownerId === null || secret === null) throw new ApiError(502, 'bad_answer', 'the server answered no owner id or secret');
  return { ownerId, secret };
}

export function parsePetSummary(raw: unknown): PetSummary | null {
  const doc = obj(raw);
  const deviceId = str(doc['device_id']);
  if (deviceId === null) return null;
  const simple = obj(doc['simplified_state']);
  return {
    deviceId,
    name: str(doc['pet_name']) ?? '',
    energy: clamp100(pick(simple['energy']) ?? 0),
    hunger: clamp100(pick(simple['hunger']) ?? 0),
    mood: clamp100(pick(simple['mood']) ?? 0),
    currentState: str(simple['current_state']) ?? 'idle',
  };
}

export function parseFriend(raw: unknown): FriendView | null {
  const summary = parsePetSummary(raw);
  if (summary === null) return null;
  const doc = obj(raw);
  return {
    ...summary,
    since: str(doc['since']),
    familiarity: Math.min(1, Math.max(0, pick(doc['familiarity']) ?? 0)),
    lastVisit: str(doc['last_visit']),
  };
}

export function parseInvite(raw: unknown): InviteView {
  const doc = obj(raw);
  const code = str(doc['code']);
  if (code === null) throw new ApiError(502, 'bad_answer', 'the server answered no invite code');
  return { code, expiresAt: str(doc['expires_at']) };
}

export function parseVisit(raw: unknown): VisitView {
  const doc = obj(raw);
  return {
    visitId: str(doc['visit_id']) ?? '',
    friendId: str(doc['friend_id']) ?? '',
    outcome: str(doc['outcome']) ?? '',
    visitorMoodDelta: pick(doc['visitor_mood_delta']) ?? 0,
    friendMoodDelta: pick(doc['friend_mood_delta']) ?? 0,
    familiarity: pick(doc['familiarity']) ?? 0,
    visits: pick(doc['visits']) ?? 0,
  };
}

export interface ApiClientOptions {
  /** @default '' (same origin) */
  baseUrl?: string;
  /** The owner secret to send as `Authorization: Bearer` (read at each call), or null for none. */
  secret?: () => string | null;
}

/** Tries of a change that got a 503 or no answer, with one Idempotency-Key. */
const CHANGE_TRIES = 3;

/** 128 random bits, hex (crypto.randomUUID needs a secure context; a LAN address over http is not). */
function idempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** A thin fetch wrapper: JSON in and out, `{error:{code,message}}` turned into ApiError. */
export function createApiClient({ baseUrl = '', secret = () => null }: ApiClientOptions = {}) {
  async function call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    // An owner's secret opens every pet it holds and is harmless on an open pet (issue #13).
    const bearer = secret();
    if (bearer) headers['authorization'] = `Bearer ${bearer}`;
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
    // Owners, friends and visits (issue #13; docs/design.md §8). The Bearer is the stored owner secret.
    /** A new owner: its secret is answered only this once. */
    createOwner: () => call('POST', '/api/owners', {}).then(parseOwner),
    ownedPets: (signal?: AbortSignal) =>
      call('GET', '/api/owners/me/pets', undefined, signal).then((raw) => listOf(obj(raw)['pets'], parsePetSummary)),
    /** Adopts a claimed pet with its claim secret. */
    adopt: (id: string, claimSecret: string) => call('POST', '/api/owners/me/pets', { device_id: id, secret: claimSecret }),
    /** Adds an owner to a pet whoever may change it (an open pet: anyone). */
    addOwner: (id: string, ownerId: string) => call('POST', `${pet(id)}/owners`, { owner_id: ownerId }),
    friends: (id: string, signal?: AbortSignal) =>
      call('GET', `${pet(id)}/friends`, undefined, signal).then((raw) => listOf(obj(raw)['friends'], parseFriend)),
    invite: (id: string) => call('POST', `${pet(id)}/friends/invite`, {}).then(parseInvite),
    accept: (id: string, code: string) => call('POST', `${pet(id)}/friends`, { code }).then(parseFriend),
    unfriend: (id: string, friendId: string) => call('DELETE', `${pet(id)}/friends/${encodeURIComponent(friendId)}`),
    visit: (id: string, friendId: string) => call('POST', `${pet(id)}/visit`, { friend_id: friendId }).then(parseVisit),
    // Web Push (docs/design.md §13): the VAPID key to subscribe with, and the owner's subscriptions.
    pushKey: () =>
      call('GET', '/api/push/key').then((raw) => {
        const key = str(obj(raw)['public_key']);
        if (key === null) throw new ApiError(502, 'bad_answer', 'the server answered no push key');
        return key;
      }),
    /** Registers this browser's push subscription for the owner; answers its id. */
    addPush: (request: PushRequest) =>
      call('POST', '/api/owners/me/push', request).then((raw) => {
        const id = str(obj(raw)['id']);
        if (id === null) throw new ApiError(502, 'bad_answer', 'the server answered no subscription id');
        return id;
      }),
    removePush: (id: string) => call('DELETE', `/api/owners/me/push/${encodeURIComponent(id)}`),
  };
}

/** POST /api/owners/me/push: a browser's PushSubscription and what it wants to hear about. */
export interface PushRequest {
  subscription: { endpoint: string; keys: { p256dh: string; auth: string } };
  events?: string[];
  lang?: Lang;
  /** Local times "HH:MM" in the owner's timezone; pushes wait until `to`. */
  quiet_hours?: { from: string; to: string };
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** Types of events the server sends on GET /api/pet/{id}/events (issue #12). */
export const EVENT_TYPES = [
  'interacted',
  'fell_asleep',
  'woke_up',
  'got_hungry',
  'reset',
  'updated',
  'claimed',
  'created',
  // Issue #13: friends and visits, shown in the page's "recent" list.
  'visited',
  'befriended',
  'unfriended',
  'owner_added',
  'owner_left',
] as const;

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
