/** Friends' events as they happen (docs/web.md): the last few `visited`, `befriended`, `unfriended` lines. */
import type { Lang } from '../api.ts';
import type { Texts } from '../i18n.ts';

export interface RecentLine {
  /** The event id (a replayed event is not listed twice). */
  id: string;
  type: string;
  line: string;
  /** When the page saw it (ms). */
  at: number;
}

export function RecentList({ t, lines, lang }: { t: Texts; lines: RecentLine[]; lang: Lang }) {
  if (lines.length === 0) return null;
  const time = (ms: number) => new Date(ms).toLocaleTimeString(lang === 'zh' ? 'zh-CN' : 'en', { hour: '2-digit', minute: '2-digit' });
  return (
    <section class="card recent" aria-labelledby="recent-h" data-testid="recent">
      <h2 id="recent-h">{t.recent}</h2>
      <ul>
        {lines.map((l) => (
          <li key={l.id} data-type={l.type}>
            <span class="muted small">{time(l.at)}</span> {l.line}
          </li>
        ))}
      </ul>
    </section>
  );
}
