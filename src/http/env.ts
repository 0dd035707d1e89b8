/** The Hono environment of the app: what middleware leaves on the context for handlers and logs. */
import type { Clock } from '../service/index.js';
import type { FrameTiming } from './server-timing.js';

/** Which body shape errors take on this request: the API's, or the original server's envelope. */
export type ErrorStyle = 'api' | 'compat';

export interface AppVariables {
  /** The service clock (for envelope timestamps). */
  clock: Clock;
  /** Error body shape for this route; compatibility routes set 'compat'. */
  errorStyle: ErrorStyle;
  /** The pet the request was about, for the request log. */
  device: string;
  /** Storage round trips the request made, for the request log. */
  roundTrips: number;
  /** Where an API request's time went (Server-Timing); absent outside /api/. */
  timing: FrameTiming | undefined;
  /** The request id (client's X-Request-Id when plain, else a UUID; sent back as X-Request-Id). */
  requestId: string;
  /**
   * Response headers gathered for this request (the frame's, then RateLimit and the like), as a
   * plain object: jsonResponse answers with them, the frame adds them to any other response.
   */
  headers: Record<string, string>;
}

export interface AppEnv {
  Variables: AppVariables;
}
