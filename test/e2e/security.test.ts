/**
 * docs/reliability.md against the built server as child processes on 127.0.0.1: one Idempotency-Key sent 50
 * times at once through two processes sharing one Redis is applied once and answered the same 50
 * times; a burst past the per-pet limit gets 429s with Retry-After and applies only what it
 * acknowledged; a claimed pet refuses a change without its secret and takes it with; requests
 * Node's HTTP parser refuses get a JSON error.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@redis/client';
import { afterAll, describe, expect, it } from 'vitest';
import type { StateDocument } from '../../src/service/index.js';
import { countStatuses, LOAD_TEST_ENV, reportFigures, send, type HttpResult } from '../helpers/load.js';
import { describeWithRedis, testRedisUrl, uniqueId } from '../helpers/redis.js';
import { startServersPerTest } from '../helpers/server-process.js';

const start = startServersPerTest();

const feedJson = { action: 'feed' };

describeWithRedis('security: one Idempotency-Key through two processes on one Redis (issue #5)', () => {
  for (const snapshots of ['on', 'off'] as const) {
    it(`applies 50 concurrent repeats of one feed once and answers all 50 the same (SNAPSHOTS=${snapshots})`, async () => {
      // Limits off: the per-client counter on the shared test Redis is not this test's subject.
      const env = { ...LOAD_TEST_ENV, REDIS_URL: testRedisUrl ?? '', SNAPSHOTS: snapshots };
      const servers = await Promise.all([start(env), start(env)]);
      const id = uniqueId('idem');
      const idempotencyKey = randomUUID();
      // No pet yet: the first requests also race to create it.
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          fetch(`${servers[i % 2]?.url}/api/pet/${id}/interact`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'Idempotency-Key': idempotencyKey },
            body: JSON.stringify(feedJson),
          }).then(async (response) => ({
            status: response.status,
            replayed: response.headers.get('idempotent-replayed'),
            text: await response.text(),
          })),
        ),
      );
      expect(countStatuses(answers)).toEqual({ '200': 50 });
      expect(new Set(answers.map((answer) => answer.text)).size).toBe(1);
      expect(answers.filter((answer) => answer.replayed === null)).toHaveLength(1);
      expect(answers.filter((answer) => answer.replayed === 'true')).toHaveLength(49);
      expect((JSON.parse(answers[0]?.text ?? '{}') as StateDocument).stats.feed).toBe(1);

      for (const server of servers) {
        const state = await send(`${server.url}/api/pet/${id}/state`);
        expect((state.json as StateDocument).stats).toEqual({ feed: 1, play: 0, greet: 0 });
      }
      const client = createClient({ url: testRedisUrl ?? '' });
      await client.connect();
      try {
        const recordKey = `life_${id}:idem:${createHash('sha256').update(idempotencyKey).digest('hex')}`;
        const ttl = Number(await client.pTTL(recordKey));
        expect(ttl).toBeGreaterThan(23 * 3_600_000);
        expect(ttl).toBeLessThanOrEqual(24 * 3_600_000);
      } finally {
        await client.close();
      }
      reportFigures('security-idempotency', { requests: 50, servers: 2, applied: 1, replayed: 49, distinct_bodies: 1 });
    }, 60_000);
  }
});

describe('security: rate limits, claims and unparsable requests on a real server (issue #5)', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pet-life-security-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('answers a burst past the per-pet limit with 429 and Retry-After, applying only what it acknowledged', async () => {
    const server = await start({
      DATA_DIR: dataDir,
      RATE_LIMIT_PER_PET: '10',
      RATE_LIMIT_PER_CLIENT: '0',
      RATE_LIMIT_WINDOW_SECONDS: '60',
    });
    const id = 'burst';
    const answers: Array<HttpResult & { retryAfter: string | null; rateLimit: string | null }> = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const response = await fetch(`${server.url}/api/pet/${id}/interact`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(feedJson),
        });
        const text = await response.text();
        return {
          status: response.status,
          text,
          json: JSON.parse(text) as unknown,
          contentType: response.headers.get('content-type') ?? '',
          latencyMs: 0,
          retryAfter: response.headers.get('retry-after'),
          rateLimit: response.headers.get('ratelimit'),
        };
      }),
    );
    expect(countStatuses(answers)).toEqual({ '200': 10, '429': 20 });
    for (const refused of answers.filter((answer) => answer.status === 429)) {
      expect(refused.json).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } });
      expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
      expect(refused.rateLimit).toMatch(/^"pet";r=0;t=\d+$/);
    }
    const stored = JSON.parse(readFileSync(path.join(dataDir, id, 'pet.json'), 'utf8')) as { systems: { stats: { feed: number } } };
    expect(stored.systems.stats.feed).toBe(10);
    reportFigures('security-burst', { requests: 30, limit: 10, statuses: countStatuses(answers), stored_feeds: stored.systems.stats.feed });
  }, 30_000);

  it('claims a pet; then a change without the secret is 401, with a wrong one 403, with it 200; reads stay open', async () => {
    const server = await start({ DATA_DIR: dataDir });
    const id = 'claimed';
    const claim = await send(`${server.url}/api/pet/${id}/claim`, { method: 'POST' });
    expect(claim.status).toBe(201);
    const { secret, device_id } = claim.json as { secret: string; device_id: string };
    expect(device_id).toBe(id);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(readFileSync(path.join(dataDir, id, 'pet.json'), 'utf8')).not.toContain(secret);

    const feed = (headers: Record<string, string>) =>
      fetch(`${server.url}/api/pet/${id}/interact`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(feedJson),
      });
    const without = await feed({});
    expect(without.status).toBe(401);
    expect(without.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    expect(await without.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    expect((await feed({ Authorization: 'Bearer wrong-secret' })).status).toBe(403);
    const withSecret = await feed({ Authorization: `Bearer ${secret}` });
    expect(withSecret.status).toBe(200);
    expect(((await withSecret.json()) as StateDocument).stats.feed).toBe(1);
    expect((await send(`${server.url}/api/pet/${id}/state`)).status).toBe(200);
    expect(
      (await send(`${server.url}/api/pet/${id}/claim`, { method: 'POST', headers: { Authorization: `Bearer ${secret}` } })).status,
    ).toBe(409);
  }, 30_000);

  it('answers requests Node cannot parse with a JSON error of the right status and closes', async () => {
    const server = await start({ DATA_DIR: dataDir });
    const { port } = new URL(server.url);
    const cases = [
      ['raw bytes above ASCII', Buffer.from('GET /api/pet/caf\xe9/state HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'), 400, 'bad_request'],
      ['headers too large', Buffer.from(`GET /api/pet/${'x'.repeat(20_480)}/state HTTP/1.1\r\nHost: x\r\n\r\n`), 431, 'headers_too_large'],
      [
        'Content-Length with chunked',
        Buffer.from('POST /api/pet/a/interact HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'),
        400,
        'bad_request',
      ],
    ] as const;
    for (const [name, bytes, status, code] of cases) {
      const answer = await exchange(Number(port), bytes);
      expect(answer.statusLine, name).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(answer.head, name).toMatch(/\r\ncontent-type: application\/json/i);
      expect(answer.head, name).toMatch(/\r\nconnection: close/i);
      expect(JSON.parse(answer.body), name).toEqual({ error: { code, message: expect.any(String) } });
      expect(answer.closed, name).toBe(true);
    }
    expect((await send(`${server.url}/health`)).status).toBe(200);
  }, 30_000);
});

/** Writes `bytes` on a fresh connection and reads until the server closes it. */
function exchange(port: number, bytes: Buffer): Promise<{ statusLine: string; head: string; body: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = '';
    let closed = false;
    const done = (): void => {
      socket.destroy();
      const [head = '', body = ''] = received.split('\r\n\r\n');
      resolve({ statusLine: head.split('\r\n')[0] ?? '', head, body, closed });
    };
    const timer = setTimeout(done, 3_000);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      done();
    });
    socket.on('connect', () => socket.write(bytes));
  });
}
