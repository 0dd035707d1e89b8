/** The "while you were away" report: the server's sentence plus a few numbers. */
import type { Report } from '../api.ts';
import type { Texts } from '../i18n.ts';

function hours(h: number, t: Texts): string {
  const rounded = h >= 10 ? Math.round(h) : Math.round(h * 10) / 10;
  return `${rounded} ${t.hoursUnit}`;
}

export function ReportPanel({ report, t, onClose }: { report: Report; t: Texts; onClose: () => void }) {
  const items: [string, string][] = [[t.reportHours, hours(report.hours, t)]];
  if (report.sleeps !== null) items.push([t.reportSleeps, String(report.sleeps)]);
  if (report.minutesAsleep !== null) items.push([t.reportAsleep, hours(report.minutesAsleep / 60, t)]);
  if (report.lowestEnergy !== null) items.push([t.reportLowEnergy, String(Math.round(report.lowestEnergy))]);
  if (report.highestHunger !== null) items.push([t.reportHighHunger, String(Math.round(report.highestHunger))]);
  return (
    <section class="card report" role="status" aria-labelledby="report-h" data-testid="report">
      <div class="report-head">
        <h2 id="report-h">{t.awayTitle}</h2>
        <button type="button" class="icon-button" onClick={onClose} aria-label={t.close}>
          ×
        </button>
      </div>
      {report.sentence && <p data-testid="report-sentence">{report.sentence}</p>}
      <dl>
        {items.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
