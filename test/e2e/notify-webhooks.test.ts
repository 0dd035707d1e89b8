/**
 * Webhooks from the durable schedule, exactly once, across processes (docs/design.md §13): two
 * server processes on the real test Redis (and on the cluster) with a fast world (TIME_SCALE), an
 * owner's pets and one webhook endpoint on a local receiver that verifies every signature. One
 * process is killed (SIGKILL) halfway and the receiver is down for a while: every life event of
 * the chosen kinds that the pets' logs hold reaches the receiver, each webhook-id counted once.
 */
import { afterEach, expect, it } from 'vitest';
import { send } from '../helpers/load.js';
import { describeWithRedis, testRedisUrl, uniqueId } from '../helpers/redis.js';
import { describeWithCluster, testClusterNodes } from '../helpers/redis-cluster.js';
import { startServersPerTest } from '../helpers/server-process.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const TYPES = ['fell_asleep', 'woke_up', 'got_hungry'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const auth = (secret: string) => ({ Authorization: `Bearer ${secret}` });

function suite(env: Record<string, string>): void {
  const start = startServersPerTest({
    ...env,
    TIME_SCALE: '3600',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    NOTIFY_MAX_PER_DAY: '1000',
    SCHEDULER_LEASE_MS: '3000',
    RATE_LIMIT_PER_PET: '0',
    RATE_LIMIT_PER_CLIENT: '0',
  });
  let receiver: WebhookReceiver | null = null;
  afterEach(async () => {
    await receiver?.close();
  });

  it('delivers every life event once, through a SIGKILL and a receiver outage', { timeout: 90_000 }, async () => {
    receiver = await startWebhookReceiver();
    const [a, b] = await Promise.all([start(), start()]);
    const owner = (await send(`${a.url}/api/owners`, { method: 'POST' })).json as { secret: string };
    const pets = Array.from({ length: 8 }, (_, n) => uniqueId(`hook${n}`));
    // Pets in different zones live on different clocks: their events spread over the run.
    const zones = [
      'UTC',
      'Asia/Shanghai',
      'America/New_York',
      'Europe/Berlin',
      'Asia/Tokyo',
      'America/Los_Angeles',
      'Asia/Kolkata',
      'Australia/Sydney',
    ];
    for (const [n, pet] of pets.entries()) {
      const created = await send(`${a.url}/api/pets`, { json: { device_id: pet, timezone: zones[n] }, headers: auth(owner.secret) });
      expect(created.status).toBe(201);
    }
    const registered = await send(`${b.url}/api/owners/me/webhooks`, {
      json: { url: receiver.url, events: TYPES },
      headers: auth(owner.secret),
    });
    expect(registered.status, registered.text).toBe(201);
    const hook = registered.json as { id: string; secret: string };
    expect(hook.secret).toMatch(/^whsec_/);
    receiver.secret = hook.secret;
    const since = Date.now();

    await sleep(8_000);
    await a.stop('SIGKILL');
    await sleep(2_000);
    receiver.down = true;
    await sleep(4_000);
    receiver.down = false;
    await sleep(6_000);
    const cutoff = Date.now() - 1_000;
    // What was due by the cutoff: leases (3 s) of the killed process run out, retries (5 s) come.
    await sleep(10_000);

    const expected = new Set<string>();
    for (const pet of pets) {
      const answer = await send(`${b.url}/api/pet/${pet}/events?format=json`);
      const events = (answer.json as { events: { id: string; type: string }[] }).events;
      for (const event of events) {
        const ms = Number(event.id.split('-')[0]);
        if (TYPES.includes(event.type) && ms > since + 1_000 && ms < cutoff) expected.add(`evt_${pet}_${event.id}`);
      }
    }
    const ids = receiver.accepted.map((d) => d.id);
    const distinct = new Set(ids);
    console.log(
      `notify-webhooks: ${expected.size} expected, ${distinct.size} distinct received, ${ids.length - distinct.size} repeats, ${receiver.refused} refused while down`,
    );
    expect(receiver.badSignatures).toBe(0);
    expect(expected.size).toBeGreaterThan(8);
    expect(receiver.refused).toBeGreaterThan(0);
    for (const id of expected) expect(distinct.has(id), `missing ${id}`).toBe(true);
    // Only events of the pets' logs, of the chosen kinds.
    for (const delivery of receiver.accepted) {
      expect(pets).toContain(delivery.deviceId);
      expect(TYPES).toContain(delivery.type);
    }
    // A repeat can only come from the killed process's sends in flight (the receiver dedups by id).
    expect(ids.length - distinct.size).toBeLessThanOrEqual(8);

    const log = await send(`${b.url}/api/owners/me/webhooks/${hook.id}/deliveries`, { headers: auth(owner.secret) });
    expect(log.status).toBe(200);
    const attempts = (log.json as { deliveries: { ok: boolean; status: number | null }[] }).deliveries;
    expect(attempts.length).toBeGreaterThan(0);
    expect(attempts.length).toBeLessThanOrEqual(50);
  });
}

describeWithRedis('webhooks exactly once: two processes on Redis', () => suite({ REDIS_URL: testRedisUrl ?? '' }));
describeWithCluster('webhooks exactly once: two processes on the Redis Cluster', () =>
  suite({ REDIS_CLUSTER_NODES: testClusterNodes ?? '' }),
);
