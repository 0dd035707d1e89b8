/**
 * The body clock as a 24-hour dial (noon at the top, daylight half shaded): one hand for local
 * time (external phase), one for the pet's own clock (internal phase).
 */
import type { PetView } from '../api.ts';
import type { Texts } from '../i18n.ts';

/** Phase in cycles → "HH:MM" (0.5 = 12:00). */
function phaseToClock(phase: number): string {
  const minutes = Math.round((((phase % 1) + 1) % 1) * 1440) % 1440;
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

function hand(phase: number, length: number): { x: number; y: number } {
  const a = (phase - 0.5) * 2 * Math.PI; // 0 rad = up (noon), clockwise
  return { x: 60 + Math.sin(a) * length, y: 60 - Math.cos(a) * length };
}

const TICKS = Array.from({ length: 24 }, (_, k) => k);

export function describeDifference(t: Texts, diff: number | null): string {
  if (diff === null) return t.clock;
  const minutes = Math.round(Math.abs(diff) * 1440);
  if (minutes < 1) return t.clockAligned;
  return diff > 0 ? t.clockBehind(minutes) : t.clockAhead(minutes);
}

export function ClockDial({ pet, t }: { pet: PetView; t: Texts }) {
  const ext = pet.externalPhase;
  const int = pet.internalPhase;
  const label = describeDifference(t, pet.phaseDifference);
  const e = ext === null ? null : hand(ext, 36);
  const i = int === null ? null : hand(int, 27);
  return (
    <section class="card clock" aria-labelledby="clock-h">
      <h2 id="clock-h">{t.clock}</h2>
      <div class="clock-body">
        <svg viewBox="-6 -6 132 132" role="img" aria-label={label} data-testid="clock-dial">
          <circle cx="60" cy="60" r="46" fill="#23395b" />
          <path d="M14 60 A46 46 0 0 1 106 60 Z" fill="#ffe8a3" />
          <circle cx="60" cy="60" r="46" fill="none" stroke="#8d99ae" stroke-width="2" />
          <g stroke="#8d99ae" stroke-width="1.5">
            {TICKS.map((k) => {
              const a = hand(k / 24, 46);
              const b = hand(k / 24, k % 6 === 0 ? 38 : 42);
              return <line key={k} x1={a.x} y1={a.y} x2={b.x} y2={b.y} />;
            })}
          </g>
          <g font-size="10" text-anchor="middle" dominant-baseline="central" fill="#5c677d">
            <text x="60" y="3">
              12
            </text>
            <text x="60" y="118">
              0
            </text>
            <text x="1" y="60">
              6
            </text>
            <text x="119" y="60">
              18
            </text>
          </g>
          {e && (
            <g stroke-linecap="round">
              <line x1="60" y1="60" x2={e.x} y2={e.y} stroke="#fff" stroke-width="7" />
              <line x1="60" y1="60" x2={e.x} y2={e.y} stroke="#2b2d42" stroke-width="4" />
            </g>
          )}
          {i && (
            <g stroke-linecap="round">
              <line x1="60" y1="60" x2={i.x} y2={i.y} stroke="#fff" stroke-width="7" />
              <line x1="60" y1="60" x2={i.x} y2={i.y} stroke={pet.colorHex} stroke-width="4" />
              <circle cx={i.x} cy={i.y} r="5" fill={pet.colorHex} stroke="#2b2d42" stroke-width="1.5" />
            </g>
          )}
          <circle cx="60" cy="60" r="4" fill="#2b2d42" />
        </svg>
        <div class="clock-text">
          <dl class="clock-legend">
            <div>
              <dt>
                <span class="swatch swatch-ext" aria-hidden="true" />
                {t.clockExternal}
              </dt>
              <dd>{ext === null ? '–' : phaseToClock(ext)}</dd>
            </div>
            <div>
              <dt>
                <span class="swatch" style={{ background: pet.colorHex }} aria-hidden="true" />
                {t.clockInternal}
              </dt>
              <dd>{int === null ? '–' : phaseToClock(int)}</dd>
            </div>
          </dl>
          <p class="clock-diff" data-testid="clock-diff">
            {label}
          </p>
        </div>
      </div>
    </section>
  );
}
