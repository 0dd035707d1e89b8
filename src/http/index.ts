/** The HTTP layer: createApp(deps) → a Hono app. */
export { answerClientError, clientErrorResponse } from './client-error.js';
export { createApp, metricsOf, realtimeOf, warmStateOf } from './create-app.js';
export { createServerWithWarmState, warmFirst } from './warm-state.js';
export type { App, AppConfig, AppDeps, Realtime } from './create-app.js';
export type { AppEnv } from './env.js';
export { statusOf, toWireError } from './errors.js';
export type { WireError, WireErrorCode } from './errors.js';
