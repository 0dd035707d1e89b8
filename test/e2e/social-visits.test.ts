/**
 * Visits exactly once across processes on real Redis and on the Redis Cluster with the two pets on
 * different shards (docs/design.md §8, §10): two server processes, 80
 * visits each way racing (A→B through one, B→A through the other, each retried with its own
 * Idempotency-Key until answered) — both pets count every acknowledged visit, once; and a process
 * killed (SIGKILL) between the visitor's write and the friend's (the test-only fault point
 * FAULT_PAUSE_AFTER_FIRST_WRITE_MS) — a new process finishes the visit on the next read or replay.
 */
import { describe, expect, it } from 'vitest';
import { LOAD_TEST_ENV, send, type HttpResult } from '../helpers/load.js';
import { describeWithRedis, testRedisUrl, uniqueId } from '../helpers/redis.js';
import { connectClusterAdmin, describeWithCluster, testClusterNodes } from '../helpers/redis-cluster.js';
import { startServersPerTest, waitForLogs, type ServerProcess } from '../helpers/server-process.js';

const auth = (secret: string) => ({ Authorization: `Bearer ${secret}` });

interface Pair {
  a: string;
  b: string;
  alice: string;
  bob: string;
}

async function ok(result: Promise<HttpResult>, status = 200): Promise<HttpResult> {
  const answered = await result;
  if (answered.status !== status) throw new Error(`expected ${status}, got ${answered.status}: ${answered.text.slice(0, 300)}`);
  return answered;
}

/** Two pet ids (`pickIds`: ids chosen for where they live, e.g. two cluster shards). */
type PickIds = () => Promise<[string, string]>;
const anyIds: PickIds = async () => [uniqueId('va'), uniqueId('vb')];

/** Two owners, a pet each, friends. */
async function friends(server: ServerProcess, pickIds: PickIds): Promise<Pair> {
  const owner = async () => ((await ok(send(`${server.url}/api/owners`, { method: 'POST' }), 201)).json as { secret: string }).secret;
  const [alice, bob] = [await owner(), await owner()];
  const [a, b] = await pickIds();
  await ok(send(`${server.url}/api/pets`, { json: { device_id: a }, headers: auth(alice) }), 201);
  await ok(send(`${server.url}/api/pets`, { json: { device_id: b }, headers: auth(bob) }), 201);
  const invite = await ok(send(`${server.url}/api/pet/${a}/friends/invite`, { method: 'POST', headers: auth(alice) }), 201);
  const { code } = invite.json as { code: string };
  await ok(send(`${server.url}/api/pet/${b}/friends`, { json: { code }, headers: auth(bob) }), 201);
  return { a, b, alice, bob };
}

async function visitsOf(server: ServerProcess, id: string, secret: string): Promise<number> {
  const state = await ok(send(`${server.url}/api/pet/${id}/state`, { headers: auth(secret) }));
  return (state.json as { stats: { visits?: number } }).stats.visits ?? 0;
}

async function visitedEvents(server: ServerProcess, id: string): Promise<Array<{ visit_id: string; role: string }>> {
  const answer = await ok(send(`${server.url}/api/pet/${id}/events?format=json`));
  return (answer.json as { events: { type: string; data: { visit_id: string; role: string } }[] }).events
    .filter((event) => event.type === 'visited')
    .map((event) => event.data);
}

/** The suite on one backend: `env` points the servers at it. */
function visitSuite(env: Record<string, string>, pickIds: PickIds): void {
  const start = startServersPerTest({ ...LOAD_TEST_ENV, ...env });
  it('80 racing visits each way: both pets count every acknowledged one, once', async () => {
    const [one, two] = await Promise.all([start(), start()]);
    if (one === undefined || two === undefined) throw new Error('servers');
    const pair = await friends(one, pickIds);
    const acknowledged = new Set<string>();
    let retries = 0;
    /** One visit, retried with its key until answered 200 (a 503 may or may not have applied it). */
    const visit = async (server: ServerProcess, from: string, to: string, secret: string, key: string): Promise<void> => {
      for (let attempt = 1; attempt <= 30; attempt += 1) {
        const result = await send(`${server.url}/api/pet/${from}/visit`, {
          json: { friend_id: to },
          headers: { ...auth(secret), 'Idempotency-Key': key },
          timeoutMs: 20_000,
        });
        if (result.status === 200) {
          acknowledged.add((result.json as { visit_id: string }).visit_id);
          return;
        }
        if (result.status !== 503 && result.status !== 0) throw new Error(`visit: ${result.status} ${result.text.slice(0, 200)}`);
        retries += 1;
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
      }
      throw new Error(`visit ${key} never answered`);
    };
    /** `count` visits, 8 at a time. */
    const many = async (server: ServerProcess, from: string, to: string, secret: string, label: string, count: number) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < count) {
            const index = next++;
            await visit(server, from, to, secret, `${label}-${index}`);
          }
        }),
      );
    };
    const started = performance.now();
    await Promise.all([many(one, pair.a, pair.b, pair.alice, `ab-${pair.a}`, 80), many(two, pair.b, pair.a, pair.bob, `ba-${pair.a}`, 80)]);
    const tookMs = performance.now() - started;
    expect(acknowledged.size).toBe(160);
    expect(await visitsOf(one, pair.a, pair.alice)).toBe(160);
    expect(await visitsOf(two, pair.b, pair.bob)).toBe(160);
    for (const id of [pair.a, pair.b]) {
      const events = await visitedEvents(one, id);
      expect(events).toHaveLength(160);
      expect(new Set(events.map((event) => event.visit_id)).size).toBe(160);
      expect(new Set(events.map((event) => event.visit_id))).toEqual(acknowledged);
    }
    console.info(`[social] 160 visits (80 each way, two processes): ${Math.round(tookMs)} ms, ${retries} retried 503s`);
  }, 120_000);

  it('SIGKILL between the two writes: the next read or replay in a new process finishes the visit, once', async () => {
    // Friends made through a healthy process (accepting an invite is a two-pet change too).
    const pair = await friends(await start(), pickIds);
    const paused = await start({ FAULT_PAUSE_AFTER_FIRST_WRITE_MS: '30000' });
    const key = `kill-${pair.a}`;
    const pending = send(`${paused.url}/api/pet/${pair.a}/visit`, {
      json: { friend_id: pair.b },
      headers: { ...auth(pair.alice), 'Idempotency-Key': key },
      timeoutMs: 40_000,
    });
    const lines = await waitForLogs(paused, (line) => line['msg'] === 'fault: paused after first write', 1, 10_000);
    expect(lines).toHaveLength(1);
    await paused.stop('SIGKILL');
    expect((await pending).status).toBe(0); // never answered

    const fresh = await start();
    // The friend's half is not there yet: reading the friend does not finish another pet's visit.
    expect(await visitsOf(fresh, pair.b, pair.bob)).toBe(0);
    // A replay of the same key answers the visit (written before the kill) and finishes it.
    const replay = await ok(
      send(`${fresh.url}/api/pet/${pair.a}/visit`, {
        json: { friend_id: pair.b },
        headers: { ...auth(pair.alice), 'Idempotency-Key': key },
      }),
    );
    expect(replay.text).toContain('"visit_id"');
    expect(await visitsOf(fresh, pair.b, pair.bob)).toBe(1);
    expect(await visitsOf(fresh, pair.a, pair.alice)).toBe(1);
    // Again, and a plain read: nothing more.
    await ok(
      send(`${fresh.url}/api/pet/${pair.a}/visit`, {
        json: { friend_id: pair.b },
        headers: { ...auth(pair.alice), 'Idempotency-Key': key },
      }),
    );
    expect(await visitsOf(fresh, pair.b, pair.bob)).toBe(1);
    expect(await visitedEvents(fresh, pair.b)).toHaveLength(1);
  }, 60_000);

  it('SIGKILL between the two writes, no key: any later read of the visitor finishes it', async () => {
    const pair = await friends(await start(), pickIds);
    const paused = await start({ FAULT_PAUSE_AFTER_FIRST_WRITE_MS: '30000' });
    const pending = send(`${paused.url}/api/pet/${pair.a}/visit`, {
      json: { friend_id: pair.b },
      headers: auth(pair.alice),
      timeoutMs: 40_000,
    });
    await waitForLogs(paused, (line) => line['msg'] === 'fault: paused after first write', 1, 10_000);
    await paused.stop('SIGKILL');
    await pending;
    const fresh = await start();
    expect(await visitsOf(fresh, pair.b, pair.bob)).toBe(0);
    expect(await visitsOf(fresh, pair.a, pair.alice)).toBe(1); // this read delivers the friend's half
    expect(await visitsOf(fresh, pair.b, pair.bob)).toBe(1);
    expect(await visitsOf(fresh, pair.a, pair.alice)).toBe(1);
  }, 60_000);
}

describeWithRedis('visits exactly once through two processes on Redis (issue #13)', () => {
  visitSuite({ REDIS_URL: testRedisUrl ?? '' }, anyIds);
});

describeWithCluster('visits exactly once through two processes on the Redis Cluster, the two pets on different shards (issue #14)', () => {
  /** Ids whose pets' hash slots are served by different masters (CLUSTER KEYSLOT, CLUSTER SLOTS). */
  const apartIds: PickIds = async () => {
    const admin = await connectClusterAdmin();
    try {
      const node = await admin.nodeClient(admin.masters[0] as (typeof admin.masters)[number]);
      const ranges = (await node.sendCommand(['CLUSTER', 'SLOTS'])) as Array<[number, number, [string, number]]>;
      const masterOf = async (id: string): Promise<string> => {
        const slot = Number(await node.sendCommand(['CLUSTER', 'KEYSLOT', `life_{${id}}:meta`]));
        const range = ranges.find(([from, to]) => slot >= from && slot <= to);
        return range === undefined ? '?' : `${range[2][0]}:${range[2][1]}`;
      };
      const a = uniqueId('va');
      const masterA = await masterOf(a);
      for (let tries = 0; tries < 100; tries += 1) {
        const b = uniqueId('vb');
        if ((await masterOf(b)) !== masterA) return [a, b];
      }
      throw new Error('no two ids on different masters in 100 tries');
    } finally {
      await admin.close();
    }
  };
  visitSuite({ REDIS_CLUSTER_NODES: testClusterNodes ?? '' }, apartIds);
});

describe('the fault point', () => {
  it('is off unless FAULT_PAUSE_AFTER_FIRST_WRITE_MS is set', async () => {
    const { loadConfig } = await import('../../src/config.js');
    expect(loadConfig({ STORAGE: 'memory' }).faultPauseAfterFirstWriteMs).toBe(0);
  });
});
