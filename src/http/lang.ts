/**
 * Language of the generated texts: `?lang=` wins, then the best supported entry of
 * Accept-Language (by q-value), then Chinese, the seed's language.
 */
import type { Context } from 'hono';
import type { Lang } from '../engine/index.js';
import type { AppEnv } from './env.js';

const SUPPORTED: readonly Lang[] = ['zh', 'en'];

function primary(tag: string): Lang | null {
  const base = tag.trim().toLowerCase().split('-')[0] ?? '';
  return (SUPPORTED as readonly string[]).includes(base) ? (base as Lang) : null;
}

/** Picks the language from an already validated `lang` query value and the Accept-Language header. */
export function pickLang(query: Lang | undefined, acceptLanguage: string | undefined): Lang {
  if (query) return query;
  if (!acceptLanguage) return 'zh';
  let best: { lang: Lang; q: number } | null = null;
  for (const entry of acceptLanguage.split(',').slice(0, 32)) {
    const [tag = '', ...params] = entry.split(';');
    const lang = primary(tag);
    if (!lang) continue;
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split('=');
      if (key?.trim() === 'q' && value !== undefined) {
        const parsed = Number(value.trim());
        q = Number.isFinite(parsed) ? parsed : 0;
      }
    }
    if (q > 0 && (!best || q > best.q)) best = { lang, q };
  }
  return best?.lang ?? 'zh';
}

/** The language of a request's texts: its validated `lang` query value, else its Accept-Language. */
export function langOf(c: Context<AppEnv>, query: Lang | undefined): Lang {
  return pickLang(query, c.req.header('accept-language'));
}
