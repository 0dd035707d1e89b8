import { render } from 'preact';
import { createApiClient } from './api.ts';
import { App } from './app.tsx';
import { loadDeviceId, loadLang } from './prefs.ts';
import './styles.css';

const api = createApiClient();
const deviceId = loadDeviceId();
const lang = loadLang();
// Ask for the pet before rendering anything: the answer is usually back by the first paint.
const firstState = api.state(deviceId, lang);
firstState.catch(() => undefined); // App reports the failure; avoid an unhandled rejection here

const root = document.getElementById('app');
if (root) render(<App api={api} initialDeviceId={deviceId} initialLang={lang} firstState={firstState} />, root);
