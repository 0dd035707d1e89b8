import { render } from 'preact';
import { ApiError, createApiClient } from './api.ts';
import { App } from './app.tsx';
import { browserTimezone, loadDeviceId, loadLang, loadOwner } from './prefs.ts';
import './styles.css';

// Every call carries the stored owner secret (docs/web.md), so the owner's pets open and new ones are its.
const api = createApiClient({ secret: () => loadOwner()?.secret ?? null });
const { id: deviceId, fresh } = loadDeviceId();
const lang = loadLang();
const timezone = browserTimezone() ?? undefined;
// Ask for the pet before rendering anything: the answer is usually back by the first paint. A new
// visitor's pet is created in this browser's timezone, entrained to its local time of birth; a
// pet first seen through a read (a shared ?pet= link to a new id) is born in it too.
const firstState = fresh
  ? api.create(timezone ? { device_id: deviceId, timezone } : { device_id: deviceId }, lang).catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 409) return api.state(deviceId, lang, undefined, timezone);
      throw err;
    })
  : api.state(deviceId, lang, undefined, timezone);
firstState.catch(() => undefined); // App reports the failure; avoid an unhandled rejection here

const root = document.getElementById('app');
if (root) {
  render(<App api={api} initialDeviceId={deviceId} initialLang={lang} firstState={firstState} {...(timezone ? { timezone } : {})} />, root);
}
