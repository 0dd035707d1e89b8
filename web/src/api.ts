/**
 * The page's view of the pet-life HTTP API (docs/design.md §5). Every field the page reads is optional
 * here and normalised by `parseX`, so an older or newer server never breaks the page.
 */
import type { Action, Lang } from '../../src/engine/types.ts';
import { DEVICE_ID_PATTERN } from '../../src/rules.ts';
import { createPetLifeClient, ok, PetLifeError as ApiError, type PetEvent, type WatchOptions } from '../../src/client/index.ts';

export type { PetEvent };
import { errorFromResponse } from '../../src/client/errors.ts';

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
  /** `visits`: visits made or received (docs/design.md §8; 0 before the first). */
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

/** A refused request: HTTP `status` and the server's stable error `code` (`bad_request`…), or `http_<status>`. */
export { ApiError };

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

/**
 * The page's calls, over pet-life/client (src/client, docs/api.md): it sends the Bearer secret, an
 * Idempotency-Key on every change with jittered retries that reuse it, and throws refusals as
 * ApiError (PetLifeError) with the wire code. The answers are normalised by the parseX above.
 */
export function createApiClient({ baseUrl = '', secret = () => null }: ApiClientOptions = {}) {
  // An owner's secret opens every pet it holds and is harmless on an open pet (docs/design.md §8).
  const client = createPetLifeClient({ baseUrl, secret });
  /** A call by method and path through the client's fetch, for routes without a typed helper here. */
  async function call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    if (signal) init.signal = signal;
    const res = await client.fetch(new Request(new URL(baseUrl + path, location.href), init));
    if (!res.ok) throw await errorFromResponse(res);
    const text = await res.text();
    try {
      return text ? (JSON.parse(text) as unknown) : null;
    } catch {
      throw new ApiError(502, 'bad_answer', 'the server answered something other than JSON');
    }
  }
  const path = (id: string) => ({ path: { device_id: id } });
  const aborts = (signal: AbortSignal | undefined) => (signal ? { signal } : {});
  return {
    /** `timezone`: the zone the pet is born in if this read is the first the server sees of it. */
    state: (id: string, lang: Lang, signal?: AbortSignal, timezone?: string) =>
      client.state(id, timezone ? { lang, timezone } : { lang }, signal).then(parseState),
    /** A new pet (POST /api/pets): the server makes the id when none is given; 409 when it is taken. */
    create: (birth: { device_id?: string; pet_name?: string; timezone?: string }, lang: Lang) =>
      client.createPet(birth, lang).then(parseState),
    interact: (id: string, action: Action, lang: Lang) => client.interact(id, action, { lang }).then(parseState),
    catchup: async (id: string, hours: number, lang: Lang) => {
      const raw = await ok(client.POST('/api/pet/{device_id}/catchup', { params: { ...path(id), query: { lang } }, body: { hours } }));
      const doc = obj(raw);
      // The server puts the report in `catchup`; accept `report` or the `away` block too.
      const state = parseState(doc['state'] ?? raw);
      const report = parseReport(doc['catchup'] ?? doc['report']) ?? state.away;
      return { state: { ...state, away: null }, report };
    },
    reset: (id: string, lang: Lang) =>
      ok(client.POST('/api/pet/{device_id}/reset', { params: { ...path(id), query: { lang } } })).then(parseState),
    update: (id: string, patch: { pet_name?: string; timezone?: string }, lang: Lang) =>
      ok(client.PATCH('/api/pet/{device_id}', { params: { ...path(id), query: { lang } }, body: patch })).then(parseState),
    forecast: (id: string, hours: number, signal?: AbortSignal) => client.forecast(id, hours, signal).then(parseForecast),
    // Owners, friends and visits (docs/design.md §8). The Bearer is the stored owner secret.
    /** A new owner: its secret is answered only this once. */
    createOwner: () => ok(client.POST('/api/owners')).then(parseOwner),
    ownedPets: (signal?: AbortSignal) =>
      ok(client.GET('/api/owners/me/pets', aborts(signal))).then((raw) => listOf(obj(raw)['pets'], parsePetSummary)),
    /** Adopts a claimed pet with its claim secret. */
    adopt: (id: string, claimSecret: string) => ok(client.POST('/api/owners/me/pets', { body: { device_id: id, secret: claimSecret } })),
    /** Offers a pet to an owner, by whoever may change it (an open pet: anyone); nothing changes until it accepts. */
    offerOwner: (id: string, ownerId: string) =>
      call('POST', `/api/pet/${encodeURIComponent(id)}/owners`, { owner_id: ownerId }).then((raw) => ({
        code: str(obj(raw)['code']) ?? '',
      })),
    /** Accepts an offer with the stored owner secret: the owner holds the pet from now on. */
    acceptOffer: (code: string) => call('POST', '/api/owners/me/offers', { code }),
    friends: (id: string, signal?: AbortSignal) =>
      ok(client.GET('/api/pet/{device_id}/friends', { params: path(id), ...aborts(signal) })).then((raw) =>
        listOf(obj(raw)['friends'], parseFriend),
      ),
    invite: (id: string) => ok(client.POST('/api/pet/{device_id}/friends/invite', { params: path(id) })).then(parseInvite),
    accept: (id: string, code: string) =>
      ok(client.POST('/api/pet/{device_id}/friends', { params: path(id), body: { code } })).then(parseFriend),
    unfriend: (id: string, friendId: string) =>
      ok(client.DELETE('/api/pet/{device_id}/friends/{friend_id}', { params: { path: { device_id: id, friend_id: friendId } } })),
    visit: (id: string, friendId: string) =>
      ok(client.POST('/api/pet/{device_id}/visit', { params: path(id), body: { friend_id: friendId } })).then(parseVisit),
    /** Follows the pet's events: the stream, or polling when it keeps failing (pet-life/client's watch). */
    watch: (id: string, options: WatchOptions) => client.watch(id, options),
    /** Any route by method and path (one this page's typed calls do not cover yet). */
    call,
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

/** Types of events the server sends on GET /api/pet/{id}/events (docs/design.md §9): the client's list. */
export { EVENT_TYPES } from '../../src/client/index.ts';

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
