/**
 * The answer to a request Node's HTTP parser refuses before any app code runs (raw bytes above
 * ASCII, headers over the limit, Content-Length with chunked, garbage): the same JSON error shape
 * as every other answer, with the status Node would have used, then the connection is closed.
 * Attach with `server.on('clientError', answerClientError)`; without a listener Node writes a
 * bare `400 Bad Request` with no body.
 */
import type { Duplex } from 'node:stream';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { statusOf, type WireErrorCode } from './errors.js';
import { SECURITY_HEADERS } from './request-frame.js';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/** Status (from the one table), code and message for a parser error code (`HPE_*`, `ERR_HTTP_REQUEST_TIMEOUT`). */
export function clientErrorOf(code: string | undefined): { status: ContentfulStatusCode; code: WireErrorCode; message: string } {
  const wire = (code: WireErrorCode, message: string) => ({ status: statusOf(code), code, message });
  if (code === 'HPE_HEADER_OVERFLOW') return wire('headers_too_large', 'the request line and headers are too large');
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return wire('request_timeout', 'the request was not received in time');
  return wire('bad_request', 'the request is not valid HTTP/1.1');
}

/** The raw HTTP/1.1 answer for a parser error code. */
export function clientErrorResponse(code: string | undefined): string {
  const error = clientErrorOf(code);
  const body = JSON.stringify({ error: { code: error.code, message: error.message } });
  const head = [
    `HTTP/1.1 ${error.status} ${STATUS_TEXT[error.status] ?? 'Bad Request'}`,
    'Content-Type: application/json; charset=UTF-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...SECURITY_HEADERS.map(([name, value]) => `${name}: ${value}`),
  ];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}

/** The server's 'clientError' listener. */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // A reset or closed socket, or one already answering a request, cannot take an answer.
  const answering = '_httpMessage' in socket && socket._httpMessage !== null && socket._httpMessage !== undefined;
  if (error.code === 'ECONNRESET' || !socket.writable || answering) {
    socket.destroy();
    return;
  }
  socket.end(clientErrorResponse(error.code));
}
