/** Feed / play / greet buttons and the catch-up form (hours, 0 < h ≤ 87600). */
import { useState } from 'preact/hooks';
import type { Action } from '../api.ts';
import { MAX_CATCHUP_HOURS } from '../../../src/rules.ts';
import type { Texts } from '../i18n.ts';

export interface CareProps {
  t: Texts;
  /** The action in flight, if any (its button shows progress; all are disabled). */
  pending: Action | 'catchup' | 'reset' | 'update' | 'create' | 'social' | null;
  onAction: (action: Action) => void;
  onCatchup: (hours: number) => void;
}

export function Care({ t, pending, onAction, onCatchup }: CareProps) {
  const [hours, setHours] = useState('8');
  const [invalid, setInvalid] = useState(false);
  const busy = pending !== null;
  const submit = (e: Event) => {
    e.preventDefault();
    const h = Number(hours);
    const ok = hours.trim() !== '' && Number.isFinite(h) && h > 0 && h <= MAX_CATCHUP_HOURS;
    setInvalid(!ok);
    if (ok) onCatchup(h);
  };
  return (
    <section class="card care" aria-labelledby="care-h">
      <h2 id="care-h">{t.actions}</h2>
      <div class="care-buttons">
        {(['feed', 'play', 'greet'] as const).map((a) => (
          <button
            key={a}
            type="button"
            class={`action action-${a}`}
            data-testid={`action-${a}`}
            onClick={() => onAction(a)}
            disabled={busy}
            aria-busy={pending === a}
          >
            <span class="dot" aria-hidden="true" />
            {pending === a ? t.working : t[a]}
          </button>
        ))}
      </div>
      <form class="catchup" onSubmit={submit}>
        <label for="catchup-hours">{t.catchupHours}</label>
        <input
          id="catchup-hours"
          data-testid="catchup-hours"
          type="number"
          inputMode="decimal"
          min="0"
          max={MAX_CATCHUP_HOURS}
          step="any"
          value={hours}
          aria-invalid={invalid}
          aria-describedby={invalid ? 'catchup-error' : undefined}
          onInput={(e) => setHours(e.currentTarget.value)}
        />
        <button type="submit" data-testid="catchup-go" disabled={busy} aria-busy={pending === 'catchup'}>
          {pending === 'catchup' ? t.working : t.catchupGo}
        </button>
        {invalid && (
          <p id="catchup-error" class="field-error" role="alert">
            {t.catchupInvalid}
          </p>
        )}
      </form>
    </section>
  );
}
