/**
 * The realtime surface against a hostile client, on the built server as a process (docs/design.md
 * §14): malformed upgrade requests that used to end the process answer 4xx; an error thrown in a
 * listener on purpose (FAULT_THROW_IN_LISTENERS) is logged and the process lives; a WebSocket that
 * floods and never reads is closed and the server's memory stays bounded (measured from
 * /proc/<pid>/status around the flood). docs/reliability.md lists each bound.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServersPerTest, waitForLogs } from '../helpers/server-process.js';

const start = startServersPerTest({ STORAGE: 'memory', LOG_LEVEL: 'info' });

const UPGRADE_HEADERS =
  'Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** Sends raw bytes, collects what comes back until the server closes (or the deadline). */
async function raw(url: string, request: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(portOf(url), '127.0.0.1');
    let text = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', done);
    socket.on('close', done);
    socket.write(request);
  });
}

/** Resident memory of a process, MB. */
function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** A masked client text frame (mask key 0: the payload goes as is). */
function textFrame(payload: string): Buffer {
  const body = Buffer.from(payload);
  const head =
    body.length < 126 ? Buffer.from([0x81, 0x80 | body.length]) : Buffer.from([0x81, 0x80 | 126, body.length >> 8, body.length & 255]);
  return Buffer.concat([head, Buffer.alloc(4), body]);
}

describe('the realtime surface of the built server against a hostile client', () => {
  it('answers malformed upgrade requests with 4xx and keeps serving', async () => {
    const server = await start();
    for (const target of ['/api/pet/%/ws', '/api/pet/%E0%A4%A/ws', 'http://[zz]/api/pet/a/ws', '/api/pet/a/ws?after=x']) {
      const answer = await raw(server.url, `GET ${target} HTTP/1.1\r\n${UPGRADE_HEADERS}\r\n`);
      expect(answer, target).toMatch(/^HTTP\/1\.1 4\d\d /);
    }
    // A repeated Authorization header, an odd one.
    const odd = await raw(
      server.url,
      `GET /api/pet/odd/ws HTTP/1.1\r\n${UPGRADE_HEADERS}Authorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n`,
    );
    expect(odd).toMatch(/^HTTP\/1\.1 101 /);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect(server.child.exitCode).toBeNull();
  });

  it('logs an error thrown in an upgrade or socket listener, and lives (FAULT_THROW_IN_LISTENERS)', async () => {
    const server = await start({ FAULT_THROW_IN_LISTENERS: 'on' });
    const answer = await raw(server.url, `GET /api/fault/throw HTTP/1.1\r\n${UPGRADE_HEADERS}\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 500 /);
    expect(await waitForLogs(server, (line) => line['msg'] === 'websocket upgrade failed')).toHaveLength(1);
    expect(await waitForLogs(server, (line) => String(line['msg']).startsWith('uncaught exception'))).toHaveLength(1);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect(server.child.exitCode).toBeNull();
  });

  it('counts every WebSocket message, valid or not, in the limits; a long ref is refused, not echoed', async () => {
    const server = await start({ RATE_LIMIT_PER_PET: '5', RATE_LIMIT_PER_CLIENT: '0' });
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/pet/counted/ws`);
    const answers: Array<{ type: string; status: number; ref?: unknown }> = [];
    ws.on('message', (raw) => answers.push(JSON.parse(String(raw)) as { type: string; status: number; ref?: unknown }));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    // Opening counted 1; four invalid messages (one with a 65-character ref) make 5; the feed is the 6th.
    ws.send('not json');
    ws.send(JSON.stringify({ action: 'dance', ref: 1 }));
    ws.send(JSON.stringify({ action: 'feed', ref: 'x'.repeat(65) }));
    ws.send(JSON.stringify({ action: 'bogus' }));
    ws.send(JSON.stringify({ action: 'feed', ref: 'last' }));
    const deadline = Date.now() + 5000;
    while (answers.filter((a) => a.type === 'response').length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const responses = answers.filter((a) => a.type === 'response');
    expect(responses.map((a) => a.status)).toEqual([400, 400, 400, 400, 429]);
    expect(responses[1]?.ref).toBe(1);
    expect(responses[2]?.ref).toBeUndefined();
    expect(responses[4]?.ref).toBe('last');
    ws.close();
  });

  it('closes a WebSocket that floods and never reads; the server memory stays bounded', async () => {
    const server = await start();
    const before = rssMb(server.pid);
    const socket: Socket = connect(portOf(server.url), '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      let head = '';
      socket.once('error', reject);
      socket.on('data', function onData(chunk) {
        head += chunk.toString('latin1');
        if (head.includes('\r\n\r\n')) {
          socket.off('data', onData);
          expect(head).toMatch(/^HTTP\/1\.1 101 /);
          resolve();
        }
      });
      socket.write(`GET /api/pet/flood/ws HTTP/1.1\r\n${UPGRADE_HEADERS}\r\n`);
    });
    socket.pause(); // never reads again
    let closed = false;
    socket.on('error', () => {
      closed = true;
    });
    socket.on('close', () => {
      closed = true;
    });
    // As measured: {"ref":"AAAA…(4,000)"} frames (the ref now refused, not echoed), as fast as the server takes them.
    const frame = textFrame(JSON.stringify({ action: 'feed', ref: 'A'.repeat(4000) }));
    let peak = before;
    let sent = 0;
    const deadline = Date.now() + 20_000;
    while (!closed && Date.now() < deadline) {
      if (!socket.write(frame)) {
        await new Promise<void>((resolve) => {
          const wait = setTimeout(resolve, 200);
          socket.once('drain', () => {
            clearTimeout(wait);
            resolve();
          });
        });
        peak = Math.max(peak, rssMb(server.pid));
      }
      sent += 1;
    }
    socket.destroy();
    peak = Math.max(peak, rssMb(server.pid));
    const closedLog = await waitForLogs(server, (line) => line['msg'] === 'websocket closed: the client does not read');
    console.info(`ws flood: ${sent} frames sent, server RSS ${before.toFixed(0)} MB before, peak ${peak.toFixed(0)} MB`);
    expect(closedLog).toHaveLength(1);
    expect(closed).toBe(true);
    expect(peak - before).toBeLessThan(100);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  }, 40_000);
});
