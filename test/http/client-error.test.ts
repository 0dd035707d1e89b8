/** src/http/client-error.ts: what a request Node's parser refuses is answered with (docs/design.md §14). */
import { describe, expect, it } from 'vitest';
import { clientErrorResponse } from '../../src/http/index.js';

function parse(raw: string): { statusLine: string; headers: Record<string, string>; body: unknown } {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 2)]),
  );
  expect(Number(headers['content-length'])).toBe(Buffer.byteLength(body));
  return { statusLine, headers, body: JSON.parse(body) };
}

describe('clientErrorResponse', () => {
  it.each([
    ['HPE_INVALID_METHOD', 'HTTP/1.1 400 Bad Request', 'bad_request'],
    ['HPE_UNEXPECTED_CONTENT_LENGTH', 'HTTP/1.1 400 Bad Request', 'bad_request'],
    [undefined, 'HTTP/1.1 400 Bad Request', 'bad_request'],
    ['HPE_HEADER_OVERFLOW', 'HTTP/1.1 431 Request Header Fields Too Large', 'headers_too_large'],
    ['ERR_HTTP_REQUEST_TIMEOUT', 'HTTP/1.1 408 Request Timeout', 'request_timeout'],
  ])('answers %s with %s, a JSON error and Connection: close', (code, statusLine, errorCode) => {
    const answer = parse(clientErrorResponse(code));
    expect(answer.statusLine).toBe(statusLine);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.headers['connection']).toBe('close');
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.body).toEqual({ error: { code: errorCode, message: expect.any(String) } });
  });
});
