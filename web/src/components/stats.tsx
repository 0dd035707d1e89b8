/** Lifetime interaction and visit counts, bond and the pet's own clock. */
import type { Lang, PetView } from '../api.ts';
import type { Texts } from '../i18n.ts';

function formatPetTime(iso: string | null, lang: Lang): string {
  if (!iso) return '–';
  // Show the wall time written in the ISO text (the pet's zone), not the browser's zone.
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
  if (!m) return iso;
  const [, y, mo, d, h, mi] = m;
  return lang === 'zh' ? `${y}年${Number(mo)}月${Number(d)}日 ${h}:${mi}` : `${y}-${mo}-${d} ${h}:${mi}`;
}

/** A wall-clock instant as a date in the reader's own zone. */
function formatDate(iso: string, lang: Lang): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString(lang === 'zh' ? 'zh-CN' : 'en');
}

export function Stats({ pet, t, lang }: { pet: PetView; t: Texts; lang: Lang }) {
  const { feed, play, greet, visits } = pet.stats;
  const rows: [string, string, string][] = [
    ['feed', t.statFeed, String(feed)],
    ['play', t.statPlay, String(play)],
    ['greet', t.statGreet, String(greet)],
    ['total', t.statTotal, String(feed + play + greet)],
    ['visits', t.statVisits, String(visits)],
  ];
  if (pet.bond !== null) rows.push(['bond', t.bond, `${Math.round(pet.bond * 100)}%`]);
  rows.push(['time', t.petTime, formatPetTime(pet.petTime, lang)]);
  if (pet.createdAt) rows.push(['born', t.born, formatDate(pet.createdAt, lang)]);
  return (
    <section class="card stats" aria-labelledby="stats-h">
      <h2 id="stats-h">{t.stats}</h2>
      <dl>
        {rows.map(([key, label, value]) => (
          <div key={key}>
            <dt>{label}</dt>
            <dd data-testid={`stat-${key}`}>{value}</dd>
          </div>
        ))}
      </dl>
      {pet.timezone && <p class="muted tz">{pet.timezone}</p>}
    </section>
  );
}
