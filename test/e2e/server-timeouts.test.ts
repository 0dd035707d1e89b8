/**
 * Limits (docs/design.md §14): a client that never finishes its request cannot hold a socket of the real server.
 * Raw TCP to the built server on 127.0.0.1: headers that never end are answered 408 and the
 * connection closed within HEADERS_TIMEOUT_MS (plus Node's 1 s checking beat), with the default
 * timeouts too (10 s), well inside the 30 s the issue allows.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { startServersPerTest } from '../helpers/server-process.js';

const start = startServersPerTest({ STORAGE: 'memory' });

/** Opens a connection, sends `text` and nothing more; resolves with what came back and when the server closed it. */
function halfSend(url: string, text: string, giveUpMs: number): Promise<{ closedAfterMs: number; answer: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let answer = '';
    const socket = net.connect({ host: hostname, port: Number(port) }, () => socket.write(text));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server still held the connection after ${giveUpMs} ms`));
    }, giveUpMs);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closedAfterMs: performance.now() - started, answer });
    });
  });
}

describe('server timeouts', () => {
  it('closes a request whose headers never finish: within 2 s as configured, and within the 10 s default', async () => {
    const [short, defaults] = await Promise.all([start({ HEADERS_TIMEOUT_MS: '2000', REQUEST_TIMEOUT_MS: '4000' }), start()]);
    const partial = 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ';
    const [fast, slow] = await Promise.all([halfSend(short.url, partial, 8_000), halfSend(defaults.url, partial, 20_000)]);
    expect(fast.closedAfterMs).toBeGreaterThan(1_500);
    expect(fast.closedAfterMs).toBeLessThan(4_500);
    expect(fast.answer).toMatch(/^HTTP\/1\.1 408/);
    expect(fast.answer).toMatch(/"message":"the request was not received in time"/);
    expect(slow.closedAfterMs).toBeGreaterThan(9_000);
    expect(slow.closedAfterMs).toBeLessThan(12_500);
  }, 30_000);

  it('closes a request whose body never finishes within REQUEST_TIMEOUT_MS', async () => {
    const server = await start({ HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '2000' });
    const partial =
      'POST /api/pet/slow/interact HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"action":';
    const result = await halfSend(server.url, partial, 8_000);
    expect(result.closedAfterMs).toBeGreaterThan(1_500);
    expect(result.closedAfterMs).toBeLessThan(4_500);
  }, 20_000);
});
