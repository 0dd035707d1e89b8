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

/** `web-` + 12 random base-36 characters; getRandomValues works outside secure contexts too. */
export function randomDeviceId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `web-${Array.from(bytes, (b) => (b % 36).toString(36)).join('')}`;
}

/** `?pet=<id>` in the address wins (shareable), then the stored id, then a new random one. */
export function loadDeviceId(): string {
  const fromUrl = new URLSearchParams(location.search).get('pet');
  if (fromUrl && DEVICE_ID_PATTERN.test(fromUrl)) {
    write(ID_KEY, fromUrl);
    return fromUrl;
  }
  const stored = read(ID_KEY);
  if (stored && DEVICE_ID_PATTERN.test(stored)) return stored;
  const fresh = randomDeviceId();
  write(ID_KEY, fresh);
  return fresh;
}

export function saveDeviceId(id: string): void {
  write(ID_KEY, id);
}

/** `?lang=` in the address, then the stored choice, then Chinese. */
export function loadLang(): Lang {
  const fromUrl = new URLSearchParams(location.search).get('lang');
  const v = fromUrl ?? read(LANG_KEY);
  return v === 'en' ? 'en' : 'zh';
}

export function saveLang(lang: Lang): void {
  write(LANG_KEY, lang);
}
