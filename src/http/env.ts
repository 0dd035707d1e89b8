/** The Hono environment of the app: what middleware leaves on the context for handlers and logs. */
import type { Clock } from '../service/index.js';
import type { ErrorStyle } from './errors.js';

export interface AppVariables {
  /** The service clock (for envelope timestamps). */
  clock: Clock;
  /** Error body shape for this route; compatibility routes set 'compat'. */
  errorStyle: ErrorStyle;
  /** The pet the request was about, for the request log. */
  device: string;
  /** Storage round trips the request made, for the request log. */
  roundTrips: number;
  /** Set by hono/request-id (also sent as X-Request-Id). */
  requestId: string;
}

export interface AppEnv {
  Variables: AppVariables;
}
