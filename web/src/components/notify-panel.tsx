/**
 * The Notifications card (docs/web.md, docs/design.md §13): turns Web Push on for the owner on
 * this browser — the permission, the service worker, a subscription made with the server's VAPID
 * key (GET /api/push/key), POST /api/owners/me/push with the events chosen and quiet hours — and
 * off again (DELETE /api/owners/me/push/{id}). What was registered is remembered per owner in
 * this browser (prefs.ts), so the card shows it and can turn it off.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ApiClient, Lang } from '../api.ts';
import type { Texts } from '../i18n.ts';
import { loadPush, type StoredPush, savePush, type StoredOwner } from '../prefs.ts';
import { askPermission, pushSupport, subscribe } from '../push.ts';
import type { RunChange } from './owner-panel.tsx';

/** The events a push can be about, and the server's defaults among them. */
const PUSH_EVENTS = ['got_hungry', 'woke_up', 'fell_asleep', 'visited'] as const;
const DEFAULT_EVENTS: readonly string[] = ['got_hungry', 'woke_up', 'visited'];

export interface NotifyPanelProps {
  t: Texts;
  lang: Lang;
  api: ApiClient;
  owner: StoredOwner | null;
  busy: boolean;
  run: RunChange;
  onChanged: (notice: string) => void;
}

export function NotifyPanel(props: NotifyPanelProps) {
  const { t, lang, api, owner, busy, run } = props;
  const ownerId = owner?.ownerId ?? null;
  const [stored, setStored] = useState<StoredPush | null>(null);
  const [events, setEvents] = useState<string[]>([...DEFAULT_EVENTS]);
  const [quiet, setQuiet] = useState(false);
  const [from, setFrom] = useState('22:00');
  const [to, setTo] = useState('07:30');
  const [denied, setDenied] = useState(false);
  const support = pushSupport();

  useEffect(() => {
    setStored(ownerId === null ? null : loadPush(ownerId));
  }, [ownerId]);

  const toggleEvent = (type: string, on: boolean) =>
    setEvents((list) => (on ? [...list.filter((e) => e !== type), type] : list.filter((e) => e !== type)));

  const turnOn = (e: Event) => {
    e.preventDefault();
    if (ownerId === null) return;
    void run(async () => {
      // The permission prompt first, while the click still counts as the user's gesture.
      const allowed = await askPermission();
      setDenied(!allowed);
      if (!allowed) return;
      const subscription = await subscribe(await api.pushKey());
      const quietHours = quiet ? { from, to } : null;
      const chosen = PUSH_EVENTS.filter((type) => events.includes(type));
      const id = await api.addPush({ subscription, events: chosen, lang, ...(quietHours === null ? {} : { quiet_hours: quietHours }) });
      const next: StoredPush = { id, events: chosen, quietHours };
      savePush(ownerId, next);
      setStored(next);
      props.onChanged(t.notifyOnDone);
    });
  };

  const turnOff = () => {
    if (ownerId === null || stored === null) return;
    void run(async () => {
      await api.removePush(stored.id);
      savePush(ownerId, null);
      setStored(null);
      props.onChanged(t.notifyOffDone);
    });
  };

  let body: preact.JSX.Element;
  if (support !== 'supported') {
    body = <p class="muted">{support === 'insecure' ? t.notifyInsecure : t.notifyUnsupported}</p>;
  } else if (owner === null) {
    body = <p class="muted">{t.notifyNeedsOwner}</p>;
  } else if (stored !== null) {
    body = (
      <>
        <p data-testid="notify-on">
          {t.notifyIsOn} {stored.events.map((type) => t.notifyEventNames[type] ?? type).join(' · ')}
          {stored.quietHours !== null && ` · ${t.notifyQuiet} ${stored.quietHours.from}–${stored.quietHours.to}`}
        </p>
        <button type="button" data-testid="notify-off" disabled={busy} onClick={turnOff}>
          {t.notifyTurnOff}
        </button>
      </>
    );
  } else {
    body = (
      <form onSubmit={turnOn}>
        <fieldset class="notify-events">
          <legend>{t.notifyEvents}</legend>
          {PUSH_EVENTS.map((type) => (
            <label key={type}>
              <input
                type="checkbox"
                data-testid={`notify-event-${type}`}
                checked={events.includes(type)}
                onChange={(e) => toggleEvent(type, e.currentTarget.checked)}
              />
              {t.notifyEventNames[type] ?? type}
            </label>
          ))}
        </fieldset>
        <div class="row">
          <label>
            <input type="checkbox" data-testid="notify-quiet" checked={quiet} onChange={(e) => setQuiet(e.currentTarget.checked)} />
            {t.notifyQuiet}
          </label>
          <label>
            {t.notifyQuietFrom}{' '}
            <input
              type="time"
              data-testid="notify-quiet-from"
              value={from}
              disabled={!quiet}
              onInput={(e) => setFrom(e.currentTarget.value)}
            />
          </label>
          <label>
            {t.notifyQuietTo}{' '}
            <input type="time" data-testid="notify-quiet-to" value={to} disabled={!quiet} onInput={(e) => setTo(e.currentTarget.value)} />
          </label>
        </div>
        {denied && (
          <p class="field-error" role="alert" data-testid="notify-denied">
            {t.notifyDenied}
          </p>
        )}
        <button type="submit" data-testid="notify-on-button" disabled={busy || events.length === 0}>
          {t.notifyTurnOn}
        </button>
      </form>
    );
  }

  return (
    <section class="card notify" aria-labelledby="notify-h" data-testid="notify-panel">
      <h2 id="notify-h">{t.notifyTitle}</h2>
      <p class="muted small">{t.notifyIntro}</p>
      {body}
    </section>
  );
}
