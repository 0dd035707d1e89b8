/** What the client throws when the server refuses a request: the wire's `{"error": {"code", "message"}}`, typed. */

/** An answer other than 2xx, with the server's stable error code (`invalid_action`, `not_found`, …). */
export class PetLifeError extends Error {
  override readonly name = 'PetLifeError';
  /** The HTTP status. */
  readonly status: number;
  /** The server's error code, or `http_<status>` when the answer carried none (a proxy's error page). */
  readonly code: string;
  /** On 5xx answers: the id of the server's log line with the details. */
  readonly requestId: string | undefined;
  /** Seconds the server asked to wait (Retry-After on 429 and 503), when it said. */
  readonly retryAfterS: number | undefined;

  constructor(status: number, code: string, message: string, requestId?: string, retryAfterS?: number) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.retryAfterS = retryAfterS;
  }
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/** Seconds of a Retry-After header given in seconds; undefined for none or an HTTP date. */
export function retryAfterSeconds(response: Response): number | undefined {
  const raw = response.headers.get('retry-after');
  if (raw === null || !/^\d+$/.test(raw.trim())) return undefined;
  return Number(raw.trim());
}

/** The error a refused answer stands for; reads the body (call it once, on an unread response). */
export async function errorFromResponse(response: Response): Promise<PetLifeError> {
  let body: unknown;
  try {
    body = JSON.parse(await response.text());
  } catch {
    body = undefined; // not JSON: the status says what there is to say
  }
  const error = field(body, 'error');
  const code = field(error, 'code');
  const message = field(error, 'message');
  const requestId = field(error, 'request_id');
  return new PetLifeError(
    response.status,
    typeof code === 'string' ? code : `http_${response.status}`,
    typeof message === 'string' ? message : response.statusText || `HTTP ${response.status}`,
    typeof requestId === 'string' ? requestId : undefined,
    retryAfterSeconds(response),
  );
}
