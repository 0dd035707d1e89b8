/** What the browser remembers: the pet id (random the first time) and the language. */
import { DEVICE_ID_PATTERN, type Lang } from './api.ts';

const ID_KEY = 'pet-life.device-id';
const LANG_KEY = 'pet-life.lang';

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage disabled (private mode, sandboxed frame)
  }
}
function write(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Not remembered; the page still works for this visit.
  }
}

/** `web-` + 128 random bits in base64url; getRandomValues works outside secure contexts too. */
export function randomDeviceId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const base64 = btoa(String.fromCharCode(...bytes));
  return `web-${base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}

/** This browser's IANA timezone (what a pet made here is born in), or null when it has none. */
export function browserTimezone(): string | null {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
  } catch {
    return null;
  }
}

/**
 * `?pet=<id>` in the address wins (shareable), then the stored id, then a new random one —
 * `fresh`: nobody has used it yet, so the page creates the pet (POST /api/pets).
 */
export function loadDeviceId(): { id: string; fresh: boolean } {
  const fromUrl = new URLSearchParams(location.search).get('pet');
  if (fromUrl && DEVICE_ID_PATTERN.test(fromUrl)) {
    write(ID_KEY, fromUrl);
    return { id: fromUrl, fresh: false };
  }
  const stored = read(ID_KEY);
  if (stored && DEVICE_ID_PATTERN.test(stored)) return { id: stored, fresh: false };
  const fresh = randomDeviceId();
  write(ID_KEY, fresh);
  return { id: fresh, fresh: true };
}

export function saveDeviceId(id: string): void {
  write(ID_KEY, id);
}

/** The page's language for the browser's preferred languages: Chinese for any zh*, else English. */
export function langOfBrowser(languages: readonly string[]): Lang {
  const first = languages.find((tag) => tag.trim() !== '');
  return first !== undefined && /^zh\b/i.test(first.trim()) ? 'zh' : 'en';
}

/** `?lang=` in the address, then the choice saved by the toggle, then the browser's language. */
export function loadLang(): Lang {
  for (const chosen of [new URLSearchParams(location.search).get('lang'), read(LANG_KEY)]) {
    if (chosen === 'en' || chosen === 'zh') return chosen;
  }
  return langOfBrowser(navigator.languages?.length ? navigator.languages : [navigator.language ?? '']);
}

export function saveLang(lang: Lang): void {
  write(LANG_KEY, lang);
}

const OWNER_ID_KEY = 'pet-life.owner-id';
const OWNER_SECRET_KEY = 'pet-life.owner-secret';

export interface StoredOwner {
  ownerId: string;
  secret: string;
}

/** Also kept in memory, so that a browser refusing storage still acts as the owner for this visit. */
let remembered: StoredOwner | null | undefined;

/** The owner this browser acts as (docs/web.md): its id and secret, or null when none was made here. */
export function loadOwner(): StoredOwner | null {
  if (remembered !== undefined) return remembered;
  const ownerId = read(OWNER_ID_KEY);
  const secret = read(OWNER_SECRET_KEY);
  remembered = ownerId && secret ? { ownerId, secret } : null;
  return remembered;
}

export function saveOwner(owner: StoredOwner): void {
  remembered = owner;
  write(OWNER_ID_KEY, owner.ownerId);
  write(OWNER_SECRET_KEY, owner.secret);
}

/** Forgets the owner on this browser (the owner and its pets stay on the server). */
export function forgetOwner(): void {
  remembered = null;
  try {
    localStorage.removeItem(OWNER_ID_KEY);
    localStorage.removeItem(OWNER_SECRET_KEY);
  } catch {
    // storage disabled: nothing was kept
  }
}

/** The push subscription this browser registered for an owner (docs/web.md): enough to show and turn it off. */
export interface StoredPush {
  id: string;
  events: string[];
  quietHours: { from: string; to: string } | null;
}

const pushKey = (ownerId: string) => `pet-life.push.${ownerId}`;

export function loadPush(ownerId: string): StoredPush | null {
  const raw = read(pushKey(ownerId));
  if (raw === null) return null;
  try {
    const stored = JSON.parse(raw) as Partial<StoredPush>;
    if (typeof stored.id !== 'string' || !Array.isArray(stored.events)) return null;
    return { id: stored.id, events: stored.events.filter((e) => typeof e === 'string'), quietHours: stored.quietHours ?? null };
  } catch {
    return null;
  }
}

export function savePush(ownerId: string, push: StoredPush | null): void {
  if (push !== null) {
    write(pushKey(ownerId), JSON.stringify(push));
    return;
  }
  try {
    localStorage.removeItem(pushKey(ownerId));
  } catch {
    // storage disabled: nothing was kept
  }
}
