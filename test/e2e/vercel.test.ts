/**
 * The Vercel entry (src/server.ts) served the way Vercel's Node runtime serves a default-exported
 * fetch app: a plain node:http server with getRequestListener from @hono/node-server. Checks the
 * API through it, that every change is stored before the response arrives, and that with nothing
 * durable configured on Vercel the function refuses to start.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { createClient } from '@redis/client';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import type { StateDocument } from '../../src/service/index.js';
import { describeWithRedis, testRedisUrl, uniqueId } from '../helpers/redis.js';

const ENV_NAMES = [
  'VERCEL',
  'STORAGE',
  'DATA_DIR',
  'REDIS_URL',
  'KV_URL',
  'KV_REST_API_URL',
  'KV_REST_API_TOKEN',
  'LOG_LEVEL',
  'TIME_SCALE',
];
const savedEnv = Object.fromEntries(ENV_NAMES.map((name) => [name, process.env[name]]));

function setEnv(env: Record<string, string>): void {
  for (const name of ENV_NAMES) delete process.env[name];
  Object.assign(process.env, { LOG_LEVEL: 'silent', ...env });
}

afterAll(() => {
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

interface Served {
  url: string;
  close(): Promise<void>;
}

/** Imports the entry afresh under `env` and serves its default export like Vercel's runtime. */
async function serveEntry(env: Record<string, string>): Promise<Served> {
  setEnv(env);
  vi.resetModules();
  const entry = (await import('../../src/server.js')) as { default: { fetch: (request: Request) => Response | Promise<Response> } };
  const server: Server = createServer(getRequestListener((request) => entry.default.fetch(request)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

const served: Served[] = [];
afterEach(async () => {
  await Promise.all(served.splice(0).map((entry) => entry.close()));
});

async function post<T>(base: string, urlPath: string, body: unknown): Promise<{ status: number; json: T }> {
  const response = await fetch(`${base}${urlPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as T };
}

describe('the Vercel entry', () => {
  it('default-exports the Hono app from a file Vercel detects (imports "hono")', () => {
    const source = readFileSync(new URL('../../src/server.ts', import.meta.url), 'utf8');
    // Vercel's Hono builder: first of app|index|server.{ts,js,…} or the same under src/ matching this.
    expect(source).toMatch(/(?:from|require|import)\s*(?:\(\s*)?["']hono["']\s*(?:\))?/);
    expect(source).toMatch(/export default app/);
  });

  it('refuses to start on Vercel when no storage is configured', async () => {
    setEnv({ VERCEL: '1' });
    vi.resetModules();
    const failure = await import('../../src/server.js').then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).name).toBe(ConfigError.name);
    expect((failure as Error).message).toMatch(/REDIS_URL|KV_REST_API_URL/);
  });

  it('serves the API through a plain node:http server, saving before it answers', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'pet-life-vercel-'));
    try {
      // An explicit STORAGE wins even on Vercel (docs/design.md §4); files stand in for a durable
      // store here.
      const app = await serveEntry({ VERCEL: '1', STORAGE: 'file', DATA_DIR: dataDir });
      served.push(app);
      const health = await fetch(`${app.url}/health`);
      expect(health.status).toBe(200);

      const fed = await post<StateDocument>(app.url, '/api/pet/vercel-pet/interact', { action: 'feed' });
      expect(fed.status).toBe(200);
      // Read the file the moment the response is in: the save happened before the answer.
      const stored = JSON.parse(readFileSync(path.join(dataDir, 'vercel-pet', 'pet.json'), 'utf8')) as {
        meta: { version: number };
        systems: { stats: { feed: number } };
      };
      expect(stored.meta.version).toBe(fed.json.version);
      expect(stored.systems.stats.feed).toBe(1);

      const caught = await post<StateDocument>(app.url, '/api/pet/vercel-pet/catchup', { hours: 24 });
      expect(caught.json.catchup?.ticks).toBe(1440);
      const compat = await post<{ success: boolean }>(app.url, '/api/pet/feed', { device_id: 'vercel-pet' });
      expect(compat).toMatchObject({ status: 200, json: { success: true } });
      const bad = await post<{ error: { code: string } }>(app.url, '/api/pet/vercel-pet/interact', { action: 'fly' });
      expect(bad).toMatchObject({ status: 400, json: { error: { code: 'invalid_action' } } });
      const notFound = await fetch(`${app.url}/api/nothing`);
      expect(notFound.status).toBe(404);
      expect(await notFound.json()).toMatchObject({ error: { code: 'not_found' } });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describeWithRedis('the Vercel entry on Redis (as with Upstash over REDIS_URL)', () => {
  const url = testRedisUrl ?? '';

  it('picks Redis from REDIS_URL on Vercel and stores each change before answering', async () => {
    const app = await serveEntry({ VERCEL: '1', REDIS_URL: url });
    served.push(app);
    const id = uniqueId('vercel');
    const client = createClient({ url });
    await client.connect();
    try {
      for (const action of ['feed', 'play', 'greet'] as const) {
        const response = await post<StateDocument>(app.url, `/api/pet/${id}/interact`, { action });
        expect(response.status).toBe(200);
        const stats = JSON.parse((await client.get(`life_${id}:stats`)) ?? '{}') as Record<string, number>;
        expect(stats[action]).toBe(1);
        const meta = JSON.parse((await client.get(`life_${id}:meta`)) ?? '{}') as { version: number };
        expect(meta.version).toBe(response.json.version);
      }
      const ready = await fetch(`${app.url}/ready`);
      expect(await ready.json()).toMatchObject({ status: 'ready', storage: { backend: 'RedisStorage' } });
    } finally {
      await client.quit();
    }
  });
});
