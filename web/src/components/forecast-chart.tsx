/**
 * The next 24 hours from GET /forecast: energy and hunger as uPlot lines, sleep as shaded
 * bands. uPlot is loaded on first use so it never delays the pet's first paint.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import type { ForecastPoint } from '../api.ts';
import type { Texts } from '../i18n.ts';

type UPlotCtor = typeof uPlot;

let loading: Promise<UPlotCtor> | null = null;
function loadUPlot(): Promise<UPlotCtor> {
  loading ??= Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(([m]) => m.default);
  return loading;
}

const HEIGHT = 220;
const ENERGY = '#2a9d8f';
const HUNGER = '#e76f51';
const SLEEP = 'rgba(72, 92, 160, 0.16)';

export interface ForecastChartProps {
  points: ForecastPoint[];
  t: Texts;
  /** IANA zone for the time axis (the pet's local day). */
  timezone: string | null;
}

function summary(points: ForecastPoint[], t: Texts): string {
  if (points.length === 0) return '';
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last) return '';
  let asleepSeconds = 0;
  for (let k = 1; k < points.length; k++) {
    const a = points[k - 1];
    const b = points[k];
    if (a && b && a.asleep) asleepSeconds += b.t - a.t;
  }
  const r = Math.round;
  return `${t.energy} ${r(first.energy)} → ${r(last.energy)}; ${t.hunger} ${r(first.hunger)} → ${r(last.hunger)}; ${t.asleepBand} ${Math.round(asleepSeconds / 360) / 10} ${t.hoursUnit}`;
}

export function ForecastChart({ points, t, timezone }: ForecastChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const latest = useRef(points);
  latest.current = points;
  const [ctor, setCtor] = useState<UPlotCtor | null>(null);

  useEffect(() => {
    let alive = true;
    loadUPlot().then((c) => alive && setCtor(() => c));
    return () => {
      alive = false;
    };
  }, []);

  // (Re)create when the library arrives or the labels/zone change; data changes use setData.
  useEffect(() => {
    const el = host.current;
    if (!ctor || !el) return undefined;
    const tz = timezone;
    const toDate = (ts: number) => (tz ? ctor.tzDate(new Date(ts * 1000), tz) : new Date(ts * 1000));
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: HEIGHT,
      tzDate: toDate,
      scales: { x: { time: true }, y: { range: [0, 100] } },
      axes: [
        {
          stroke: '#5c677d',
          grid: { stroke: '#e9ecef' },
          ticks: { stroke: '#dee2e6' },
          values: (_u, splits) => splits.map((s) => axisLabel(toDate(s))),
        },
        { stroke: '#5c677d', grid: { stroke: '#e9ecef' }, ticks: { stroke: '#dee2e6' }, size: 36 },
      ],
      series: [
        { value: (_u, v) => (v == null ? '–' : clockLabel(toDate(v))) },
        { label: t.energy, stroke: ENERGY, width: 2.5, value: (_u, v) => (v == null ? '–' : String(Math.round(v))) },
        { label: t.hunger, stroke: HUNGER, width: 2.5, value: (_u, v) => (v == null ? '–' : String(Math.round(v))) },
      ],
      cursor: { drag: { x: false, y: false } },
      hooks: {
        // Sleep bands under the lines: one rectangle per run of asleep samples.
        drawClear: [
          (u) => {
            const pts = latest.current;
            const ctx = u.ctx;
            const { top, height } = u.bbox;
            ctx.save();
            ctx.fillStyle = SLEEP;
            let start: number | null = null;
            for (let k = 0; k <= pts.length; k++) {
              const p = pts[k];
              if (p?.asleep && start === null) start = p.t;
              if (!p?.asleep && start !== null) {
                const end = p ? p.t : (pts[pts.length - 1]?.t ?? start);
                const x0 = u.valToPos(start, 'x', true);
                const x1 = u.valToPos(end, 'x', true);
                ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
                start = null;
              }
            }
            ctx.restore();
          },
        ],
      },
    };
    const u = new ctor(opts, toData(latest.current), el);
    chart.current = u;
    const ro = new ResizeObserver(() => {
      const w = el.clientWidth;
      if (w > 0 && Math.abs(w - u.width) > 1) u.setSize({ width: w, height: HEIGHT });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      chart.current = null;
    };
  }, [ctor, t, timezone]);

  useEffect(() => {
    chart.current?.setData(toData(points));
  }, [points]);

  return (
    <section class="card forecast" aria-labelledby="forecast-h">
      <h2 id="forecast-h">{t.forecast}</h2>
      <div class="chart" ref={host} role="img" aria-label={t.forecastLabel} data-testid="forecast-chart" />
      <p class="legend-extra">
        <span class="swatch swatch-sleep" aria-hidden="true" /> {t.asleepBand}
      </p>
      <p class="sr-only">{summary(points, t)}</p>
    </section>
  );
}

const pad = (n: number) => String(n).padStart(2, '0');
/** 24-hour "HH:MM" of a zone-shifted date (its local getters read the pet's wall time). */
function clockLabel(d: Date): string {
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
/** Axis tick: the time, or "M/D" at midnight so the day change shows. */
function axisLabel(d: Date): string {
  return d.getHours() === 0 && d.getMinutes() === 0 ? `${d.getMonth() + 1}/${d.getDate()}` : clockLabel(d);
}

function toData(points: ForecastPoint[]): uPlot.AlignedData {
  return [points.map((p) => p.t), points.map((p) => p.energy), points.map((p) => p.hunger)];
}
