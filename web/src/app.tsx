/**
 * The pet page: loads the pet kept in this browser, follows its events (docs/design.md §9: the
 * client's watch of /api/pet/{id}/events; each event refetches the state, life events show a line
 * such as "小糖 fell asleep") while the tab is visible, with a slow refresh for the gauges' drift
 * and a poll every 5 s when the stream keeps failing, and sends care actions, catch-ups, renames and resets to the API. New pets are born
 * in the browser's timezone: "New pet" creates one (POST /api/pets), and every read carries the
 * zone, which the server uses only when that read is the first it sees of the pet.
 * Owners and friends (docs/web.md): an owner made here (its secret kept in the browser, sent as Bearer on every call)
 * lists, switches and makes its pets (OwnerPanel); the pet's friends, invite codes and visits are
 * in FriendsPanel; `visited`/`befriended`/`unfriended` events show in a "recent" list.
 * NotifyPanel turns the owner's Web Push on and off on this browser (docs/web.md).
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { type Action, type ApiClient, ApiError, type ForecastPoint, type Lang, type PetEvent, type PetView, type Report } from './api.ts';
import { Care } from './components/care.tsx';
import { ClockDial } from './components/clock-dial.tsx';
import { Creature } from './components/creature.tsx';
import { ForecastChart } from './components/forecast-chart.tsx';
import { FriendsPanel } from './components/friends-panel.tsx';
import { Gauges } from './components/gauges.tsx';
import { NotifyPanel } from './components/notify-panel.tsx';
import { OwnerPanel } from './components/owner-panel.tsx';
import { RecentList, type RecentLine } from './components/recent.tsx';
import { ReportPanel } from './components/report.tsx';
import { ResetDialog } from './components/reset-dialog.tsx';
import { Settings } from './components/settings.tsx';
import { Stats } from './components/stats.tsx';
import { TEXTS, type Texts } from './i18n.ts';
import { forgetOwner, loadOwner, type StoredOwner, saveDeviceId, saveLang, saveOwner } from './prefs.ts';

/** Polling when the event stream is unavailable. */
const REFRESH_MS = 5_000;
/** With the stream open, a refresh this often still shows the gauges' slow drift between events. */
const STREAM_REFRESH_MS = 60_000;
/** Errors in a row (with no open in between) before the page gives up on the stream for a while. */
const STREAM_MAX_ERRORS = 5;
/** How long the page polls before it tries the stream again. */
const STREAM_RETRY_MS = 60_000;
const FORECAST_MS = 60_000;
const FORECAST_HOURS = 24;

type Pending = Action | 'catchup' | 'reset' | 'update' | 'create' | 'social' | null;
/** Lines kept in the "recent" list of friends' events. */
const RECENT_MAX = 6;
/** Social events (docs/design.md §8) that show as lines in the "recent" list. */
const SOCIAL_EVENTS = new Set(['visited', 'befriended', 'unfriended']);

/** The plain-words cause of a refusal (401, 403, not_friends, 409, 429…), then the server's message. */
function errorText(err: unknown, t: Texts): string {
  if (err instanceof ApiError) {
    const message = err.message || `${err.status} ${err.code}`;
    const head = t.errorHead(err.status, err.code);
    return head === null ? message : `${head} (${message})`;
  }
  return t.offline;
}

/** "Fed 小糖 · hunger 62 → 31" — what the action changed, for the live region and the toast. */
function describeAction(t: Texts, action: Action, before: PetView | null, after: PetView): string {
  const head = `${t.did[action]} ${after.name}`;
  if (!before) return head;
  const deltas: string[] = [];
  const add = (label: string, a: number, b: number) => {
    if (Math.round(a) !== Math.round(b)) deltas.push(`${label} ${Math.round(a)} → ${Math.round(b)}`);
  };
  add(t.hunger, before.hunger, after.hunger);
  add(t.energy, before.energy, after.energy);
  add(t.mood, before.mood, after.mood);
  return deltas.length > 0 ? `${head} · ${deltas.join(' · ')}` : head;
}

export interface AppProps {
  api: ApiClient;
  initialDeviceId: string;
  initialLang: Lang;
  /** The first GET state (or creation), sent before the first render so the pet shows sooner. */
  firstState?: Promise<PetView>;
  /** The browser's IANA timezone: where pets made here are born. */
  timezone?: string;
}

export function App({ api, initialDeviceId, initialLang, firstState, timezone }: AppProps) {
  const [lang, setLang] = useState<Lang>(initialLang);
  const [deviceId, setDeviceId] = useState(initialDeviceId);
  const [pet, setPet] = useState<PetView | null>(null);
  const [forecast, setForecast] = useState<ForecastPoint[]>([]);
  const [report, setReport] = useState<Report | null>(null);
  // A failed refresh clears itself on the next good one; a refused change stays until closed.
  const [error, setError] = useState<{ message: string; fromChange: boolean } | null>(null);
  const [pending, setPending] = useState<Pending>(null);
  const [notice, setNotice] = useState('');
  const [bounce, setBounce] = useState(0);
  const [resetOpen, setResetOpen] = useState(false);
  const [owner, setOwner] = useState<StoredOwner | null>(() => loadOwner());
  const [freshSecret, setFreshSecret] = useState<string | null>(null);
  // Bumped when the owner's or friends' lists may have changed (a change here, a social event).
  const [socialKey, setSocialKey] = useState(0);
  const [recent, setRecent] = useState<RecentLine[]>([]);
  const friendNames = useRef(new Map<string, string>());
  const rememberNames = useCallback((list: readonly { deviceId: string; name: string }[]) => {
    for (const f of list) friendNames.current.set(f.deviceId, f.name);
  }, []);
  const t = TEXTS[lang];

  // Responses can overtake each other (a poll started before a feed may land after it): only
  // a response to a request issued after the last applied one may replace the pet.
  const issued = useRef(0);
  const applied = useRef(0);
  const forecastAt = useRef(0);
  // While a change is in flight, polls wait: one sent after it could be answered before it.
  const changing = useRef(false);
  const prefetched = useRef(firstState);

  const apply = useCallback((seq: number, next: PetView) => {
    if (seq < applied.current) return false;
    applied.current = seq;
    setPet(next);
    if (next.away) setReport(next.away);
    setError((e) => (e?.fromChange ? e : null));
    return true;
  }, []);

  const loadForecast = useCallback(async () => {
    forecastAt.current = Date.now();
    try {
      setForecast(await api.forecast(deviceId, FORECAST_HOURS));
    } catch {
      forecastAt.current = 0; // try again on the next refresh
    }
  }, [api, deviceId]);

  const refresh = useCallback(async () => {
    if (changing.current) return;
    const seq = ++issued.current;
    const early = prefetched.current;
    prefetched.current = undefined;
    try {
      apply(seq, await (early ?? api.state(deviceId, lang, undefined, timezone)));
      if (Date.now() - forecastAt.current > FORECAST_MS) void loadForecast();
    } catch (err) {
      if (seq >= applied.current) setError((e) => (e?.fromChange ? e : { message: errorText(err, TEXTS[lang]), fromChange: false }));
    }
  }, [api, deviceId, lang, timezone, apply, loadForecast]);

  // Life events as lines ("小糖 fell asleep"), in the current language and name.
  const lifeLine = useRef<(type: string) => string | null>(() => null);
  lifeLine.current = (type) => {
    const what = t.lifeEvent[type];
    return what === undefined ? null : t.lifeLine(pet?.name ?? '', what);
  };

  // A friend's event (docs/design.md §8) as a line in the "recent" list and the status line: "豆豆来看小糖了".
  const socialEvent = useRef<(id: string, type: string, data: Record<string, unknown>) => Promise<void>>(async () => undefined);
  const shownId = useRef(deviceId);
  shownId.current = deviceId;
  socialEvent.current = async (id, type, data) => {
    setSocialKey((k) => k + 1);
    const other = typeof data['with'] === 'string' ? data['with'] : '';
    if (other && !friendNames.current.has(other)) {
      // A new friend: learn its name first (one read); an ended friendship keeps the id.
      await api
        .friends(deviceId)
        .then(rememberNames)
        .catch(() => undefined);
      if (shownId.current !== deviceId) return; // the page moved to another pet meanwhile
    }
    const key = type === 'visited' ? `visited_${data['role'] === 'host' ? 'host' : 'visitor'}` : type;
    const line = t.socialLine[key]?.(pet?.name ?? '', friendNames.current.get(other) ?? other);
    if (line === undefined) return;
    setNotice(line);
    setRecent((lines) => (lines.some((l) => l.id === id) ? lines : [{ id, type, line, at: Date.now() }, ...lines].slice(0, RECENT_MAX)));
  };

  // Load now, then follow the pet's events while the tab is visible (a hidden tab costs nothing):
  // each event refetches the state; a slow refresh shows the drift between events. The client's
  // watch (pet-life/client) follows the stream and, when it keeps failing (or the browser has no
  // EventSource), polls the events instead and tries the stream again later; the state is then
  // refreshed every REFRESH_MS too.
  useEffect(() => {
    let timer: number | undefined;
    let retry: number | undefined;
    let watch: { close(): void } | null = null;
    let failing = false;
    const poll = (ms: number) => {
      window.clearInterval(timer);
      timer = window.setInterval(() => void refresh(), ms);
    };
    const closeStream = () => {
      watch?.close();
      watch = null;
      window.clearTimeout(retry);
    };
    const onEvent = (event: PetEvent) => {
      void refresh();
      if (SOCIAL_EVENTS.has(event.type)) {
        void socialEvent.current(event.id, event.type, event.data);
        return;
      }
      const line = lifeLine.current(event.type);
      if (line !== null) setNotice(line);
    };
    const openStream = () => {
      closeStream();
      poll(STREAM_REFRESH_MS);
      watch = api.watch(deviceId, {
        onEvent,
        pollIntervalMs: REFRESH_MS,
        streamFailures: STREAM_MAX_ERRORS,
        streamRetryMs: STREAM_RETRY_MS,
        onMode: (mode) => {
          document.documentElement.dataset['stream'] = mode === 'sse' ? 'open' : 'poll'; // for the browser tests
          // Opened or reopened: whatever was missed while away shows now.
          if (mode === 'sse' && failing) void refresh();
          failing = mode !== 'sse';
          poll(mode === 'sse' ? STREAM_REFRESH_MS : REFRESH_MS);
        },
        onError: (_error, closed) => {
          failing = true;
          document.documentElement.dataset['stream'] = 'error';
          poll(REFRESH_MS);
          // Refused for good (the pet's events are closed to this browser): try again much later.
          if (closed) {
            closeStream();
            retry = window.setTimeout(() => {
              if (!document.hidden) openStream();
            }, STREAM_RETRY_MS);
          }
        },
      });
    };
    const onVisibility = () => {
      if (document.hidden) {
        window.clearInterval(timer);
        closeStream();
      } else {
        void refresh();
        openStream();
      }
    };
    void refresh();
    if (!document.hidden) openStream();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      window.clearInterval(timer);
      closeStream();
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [api, refresh, deviceId]);

  // Time to first pet on screen, for the e2e load-time check (performance.getEntriesByName).
  const shown = pet !== null;
  useEffect(() => {
    if (shown && performance.getEntriesByName('pet-life:pet-shown').length === 0) performance.mark('pet-life:pet-shown');
  }, [shown]);

  useEffect(() => {
    if (!notice) return undefined;
    const timer = window.setTimeout(() => setNotice(''), 4_000);
    return () => window.clearTimeout(timer);
  }, [notice]);

  useEffect(() => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.title = pet?.name ? `${pet.name} · pet-life` : 'pet-life';
  }, [lang, pet?.name]);

  /** One change at a time; a refusal shows in the banner. True when the change went through. */
  const run = async (kind: Exclude<Pending, null>, op: () => Promise<void>): Promise<boolean> => {
    if (changing.current) return false;
    changing.current = true;
    setPending(kind);
    setError(null);
    try {
      await op();
      forecastAt.current = 0;
      void loadForecast();
      return true;
    } catch (err) {
      setError({ message: errorText(err, t), fromChange: true });
      return false;
    } finally {
      changing.current = false;
      setPending(null);
    }
  };

  /** A change of the owner's or friends' lists: lists reload, and the pet (a visit moves its mood). */
  const runSocial = async (op: () => Promise<void>): Promise<boolean> => {
    const ok = await run('social', op);
    setSocialKey((k) => k + 1);
    if (ok) void refresh();
    return ok;
  };

  const onCreateOwner = () =>
    void run('social', async () => {
      const made = await api.createOwner();
      saveOwner(made);
      setOwner(made);
      setFreshSecret(made.secret);
    });

  const onForgetOwner = () => {
    if (!window.confirm(t.ownerForgetConfirm)) return;
    forgetOwner();
    setOwner(null);
    setFreshSecret(null);
  };

  const onAction = (action: Action) =>
    run(action, async () => {
      const before = pet;
      setBounce((b) => b + 1); // the pet reacts at once; the numbers follow the answer
      const seq = ++issued.current;
      const next = await api.interact(deviceId, action, lang);
      apply(seq, next);
      setNotice(describeAction(t, action, before, next));
    });

  const onCatchup = (hours: number) =>
    run('catchup', async () => {
      const seq = ++issued.current;
      const { state, report: r } = await api.catchup(deviceId, hours, lang);
      apply(seq, state);
      setReport(
        r ?? {
          hours,
          sleeps: null,
          wakes: null,
          minutesAsleep: null,
          lowestEnergy: null,
          highestHunger: null,
          lowestMood: null,
          sentence: '',
        },
      );
      setNotice(`${t.catchup}: ${hours} ${t.hoursUnit}`);
    });

  const onReset = () => {
    setResetOpen(false);
    void run('reset', async () => {
      const seq = ++issued.current;
      await api.reset(deviceId, lang);
      setReport(null);
      // The reset answer may be a bare acknowledgement: read the fresh pet back.
      apply(seq, await api.state(deviceId, lang));
      setNotice(t.resetDone);
    });
  };

  const onUpdate = (patch: { pet_name?: string; timezone?: string }) =>
    run('update', async () => {
      const seq = ++issued.current;
      apply(seq, await api.update(deviceId, patch, lang));
      setNotice(t.saved);
    });

  const onSwitch = (id: string) => {
    saveDeviceId(id);
    applied.current = ++issued.current; // drop answers about the previous pet
    forecastAt.current = 0;
    setPet(null);
    setForecast([]);
    setReport(null);
    setRecent([]);
    setDeviceId(id);
  };

  const onNewPet = () =>
    run('create', async () => {
      const born = await api.create(timezone ? { timezone } : {}, lang);
      onSwitch(born.deviceId);
      apply(++issued.current, born);
      setNotice(t.newPetDone(born.name));
    });

  const toggleLang = () => {
    const next: Lang = lang === 'zh' ? 'en' : 'zh';
    saveLang(next);
    setLang(next);
  };

  return (
    <>
      <header class="top">
        <h1>
          <svg class="paw" viewBox="0 0 24 24" aria-hidden="true">
            <ellipse cx="12" cy="16" rx="5" ry="4.2" />
            <circle cx="5.5" cy="10" r="2.2" />
            <circle cx="9.5" cy="6" r="2.2" />
            <circle cx="14.5" cy="6" r="2.2" />
            <circle cx="18.5" cy="10" r="2.2" />
          </svg>
          {t.title}
        </h1>
        <button
          type="button"
          class="lang"
          onClick={toggleLang}
          title={t.langToggleLabel}
          lang={lang === 'zh' ? 'en' : 'zh'}
          data-testid="lang-toggle"
        >
          {t.langToggle}
        </button>
      </header>
      {error && (
        <div class="banner" role="alert" data-testid="error">
          <p>{error.message}</p>
          <button type="button" class="icon-button" onClick={() => setError(null)} aria-label={t.close}>
            ×
          </button>
        </div>
      )}
      <main class="layout" aria-busy={pet === null}>
        {pet === null ? (
          <p class="loading">{t.loading}</p>
        ) : (
          <>
            <div class="col">
              <section class="card hero" aria-labelledby="pet-name">
                <Creature
                  pet={pet}
                  bounce={bounce}
                  label={t.creature(pet.name, t.states[pet.currentState] ?? pet.currentState, pet.colorName || pet.colorHex)}
                />
                <div class="hero-text">
                  <h2 id="pet-name" data-testid="pet-name">
                    {pet.name}
                  </h2>
                  <span class={`chip state-${pet.currentState}`} data-testid="pet-state">
                    {t.states[pet.currentState] ?? pet.currentState}
                  </span>
                  <p class="feeling" data-testid="feeling">
                    {pet.feeling}
                  </p>
                </div>
              </section>
              <Care t={t} pending={pending} onAction={(a) => void onAction(a)} onCatchup={(h) => void onCatchup(h)} />
              {report && <ReportPanel report={report} t={t} onClose={() => setReport(null)} />}
              <RecentList t={t} lines={recent} lang={lang} />
              <Gauges pet={pet} t={t} />
              <FriendsPanel
                t={t}
                lang={lang}
                api={api}
                deviceId={deviceId}
                petName={pet.name}
                busy={pending !== null}
                refreshKey={socialKey}
                run={runSocial}
                describeError={(err) => errorText(err, t)}
                onFriends={rememberNames}
                onChanged={setNotice}
              />
            </div>
            <div class="col">
              <OwnerPanel
                t={t}
                api={api}
                owner={owner}
                freshSecret={freshSecret}
                deviceId={deviceId}
                busy={pending !== null}
                refreshKey={socialKey}
                run={runSocial}
                describeError={(err) => errorText(err, t)}
                onCreateOwner={onCreateOwner}
                onSecretKept={() => setFreshSecret(null)}
                onForget={onForgetOwner}
                onSwitch={onSwitch}
                onNewPet={() => void onNewPet()}
                onAdopted={() => setNotice(t.adoptDone(pet.name))}
              />
              <NotifyPanel t={t} lang={lang} api={api} owner={owner} busy={pending !== null} run={runSocial} onChanged={setNotice} />
              <ClockDial pet={pet} t={t} />
              <ForecastChart points={forecast} t={t} timezone={pet.timezone} />
              <Stats pet={pet} t={t} lang={lang} />
              <Settings
                t={t}
                deviceId={deviceId}
                pet={pet}
                {...(timezone ? { browserZone: timezone } : {})}
                busy={pending !== null}
                onSwitch={onSwitch}
                onNewPet={() => void onNewPet()}
                onUpdate={(p) => void onUpdate(p)}
                onReset={() => setResetOpen(true)}
              />
            </div>
          </>
        )}
      </main>
      <p class="toast" role="status" aria-live="polite" data-testid="notice">
        {notice}
      </p>
      <ResetDialog open={resetOpen} name={pet?.name ?? ''} t={t} onCancel={() => setResetOpen(false)} onConfirm={onReset} />
    </>
  );
}
