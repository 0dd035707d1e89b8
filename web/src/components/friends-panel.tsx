/**
 * The current pet's friends (docs/web.md): their states (GET /api/pet/{id}/friends), an invite code
 * to copy, a friend's code to enter, and per friend a visit (its outcome shown) and removal.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ApiClient, FriendView, InviteView, Lang, VisitView } from '../api.ts';
import type { Texts } from '../i18n.ts';
import { CopyField } from './copy-field.tsx';
import { type RunChange, vitalsLine } from './owner-panel.tsx';

export interface FriendsPanelProps {
  t: Texts;
  lang: Lang;
  api: ApiClient;
  deviceId: string;
  petName: string;
  busy: boolean;
  refreshKey: number;
  run: RunChange;
  describeError: (err: unknown) => string;
  /** The list as loaded, so the page can name the friends in its "recent" lines. */
  onFriends: (friends: FriendView[]) => void;
  /** A change to this pet's state or friendships that the page should show. */
  onChanged: (notice: string) => void;
}

function when(iso: string | null, lang: Lang): string | null {
  if (iso === null) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(lang === 'zh' ? 'zh-CN' : 'en', { dateStyle: 'short', timeStyle: 'short' });
}

export function FriendsPanel(props: FriendsPanelProps) {
  const { t, lang, api, deviceId, petName, busy, refreshKey, run } = props;
  const [friends, setFriends] = useState<FriendView[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  // The friends when the code was made: a new one among them has most likely used it up.
  const [invite, setInvite] = useState<{ view: InviteView; friendsThen: Set<string> } | null>(null);
  const [code, setCode] = useState('');
  const [visit, setVisit] = useState<{ view: VisitView; friendName: string } | null>(null);

  // Another pet: its own invite and last visit, nothing of the previous one.
  useEffect(() => {
    setInvite(null);
    setVisit(null);
    setFriends(null);
  }, [deviceId]);

  useEffect(() => {
    const abort = new AbortController();
    api
      .friends(deviceId, abort.signal)
      .then((list) => {
        setFriends(list);
        setListError(null);
        setInvite((shown) => (shown && list.some((f) => !shown.friendsThen.has(f.deviceId)) ? null : shown));
        props.onFriends(list);
      })
      .catch((err: unknown) => {
        if (!abort.signal.aborted) setListError(props.describeError(err));
      });
    return () => abort.abort();
  }, [api, deviceId, refreshKey]);

  const makeInvite = () =>
    void run(async () => {
      const view = await api.invite(deviceId);
      setInvite({ view, friendsThen: new Set((friends ?? []).map((f) => f.deviceId)) });
    });

  const accept = (e: Event) => {
    e.preventDefault();
    const entered = code.trim();
    if (!entered) return;
    void run(async () => {
      const friend = await api.accept(deviceId, entered);
      setCode('');
      props.onChanged(t.acceptDone(friend?.name ?? ''));
    });
  };

  const doVisit = (friend: FriendView) =>
    void run(async () => {
      const view = await api.visit(deviceId, friend.deviceId);
      setVisit({ view, friendName: friend.name });
      props.onChanged(t.socialLine['visited_visitor']?.(petName, friend.name) ?? '');
    });

  const remove = (friend: FriendView) =>
    void run(async () => {
      await api.unfriend(deviceId, friend.deviceId);
      props.onChanged(t.unfriendDone(friend.name));
    });

  const outcome = visit && (t.visitOutcome[visit.view.outcome]?.(petName, visit.friendName) ?? visit.view.outcome);

  return (
    <section class="card friends" aria-labelledby="friends-h" data-testid="friends-panel">
      <h2 id="friends-h">{t.friendsTitle}</h2>
      {listError !== null && (
        <p class="field-error" role="alert" data-testid="friends-error">
          {listError}
        </p>
      )}
      {visit && (
        <p class="visit-outcome" role="status" data-testid="visit-outcome" data-outcome={visit.view.outcome}>
          {outcome} · {t.moodDelta(petName, visit.view.visitorMoodDelta)} · {t.moodDelta(visit.friendName, visit.view.friendMoodDelta)} ·{' '}
          {t.familiarity} {Math.round(visit.view.familiarity * 100)}%
        </p>
      )}
      {friends !== null && friends.length === 0 && <p class="muted">{t.friendsNone}</p>}
      <ul class="pet-list" data-testid="friends">
        {(friends ?? []).map((f) => (
          <li key={f.deviceId} class="friend" data-testid={`friend-${f.deviceId}`}>
            <div class="friend-head">
              <span class="pet-item-name">{f.name}</span>
              <span class={`chip state-${f.currentState}`}>{t.states[f.currentState] ?? f.currentState}</span>
            </div>
            <p class="muted small">{vitalsLine(t, f)}</p>
            <p class="muted small">
              {t.familiarity} {Math.round(f.familiarity * 100)}% · {t.lastVisit} {when(f.lastVisit, lang) ?? t.never}
            </p>
            <div class="row">
              <button type="button" data-testid={`visit-${f.deviceId}`} disabled={busy} onClick={() => doVisit(f)}>
                {t.visit}
              </button>
              <button type="button" class="danger" data-testid={`unfriend-${f.deviceId}`} disabled={busy} onClick={() => remove(f)}>
                {t.unfriend}
              </button>
            </div>
          </li>
        ))}
      </ul>
      <div class="row">
        <button type="button" data-testid="invite" disabled={busy} onClick={makeInvite}>
          {t.invite}
        </button>
      </div>
      {invite && (
        <div data-testid="invite-box">
          <CopyField t={t} label={t.invite} value={invite.view.code} testId="invite-code" />
          {invite.view.expiresAt && <p class="muted small">{t.inviteHint(when(invite.view.expiresAt, lang) ?? invite.view.expiresAt)}</p>}
        </div>
      )}
      <form class="row" onSubmit={accept}>
        <div class="field">
          <label for="friend-code">{t.acceptCode}</label>
          <input
            id="friend-code"
            data-testid="friend-code"
            value={code}
            maxLength={64}
            autoComplete="off"
            spellcheck={false}
            onInput={(e) => setCode(e.currentTarget.value)}
          />
        </div>
        <button type="submit" data-testid="friend-accept" disabled={busy || !code.trim()}>
          {t.acceptGo}
        </button>
      </form>
    </section>
  );
}
