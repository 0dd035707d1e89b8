/**
 * The notification schedule's cost on a real Redis (a throwaway redis-server started here;
 * docs/benchmarks.md "Notifications"): (1) Redis commands per scheduled pet per simulated day —
 * one pet with one webhook endpoint (a local receiver), brought from instant to instant by the
 * scheduler for one day, counted with INFO commandstats (commands inside scripts included);
 * (2) the due set at 100,000 scheduled pets: its memory (MEMORY USAGE) and the time of one claim
 * of 50 due pets, and of a claim when nothing is due; (3) lateness from a life event's instant to
 * the end of its webhook delivery with two instances (two drivers, services and scheduler loops
 * on one Redis, real clock, TIME_SCALE 3600, 40 pets in 8 zones, 30 s).
 * Run alone: `npx tsx bench/notify.ts`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from '@redis/client';
import { createManualClock, systemClock } from '../src/service/clock.js';
import { createPetService } from '../src/service/index.js';
import { createNotifyService } from '../src/service/notify/notify-service.js';
import { createOwners } from '../src/service/social/owners.js';
import { DEFAULT_SNAPSHOT_BYTES } from '../src/storage/index.js';
import { createRedisStorage } from '../src/storage/redis.js';
import { startRedisServer } from '../test/helpers/redis-process.js';

type Admin = ReturnType<typeof createClient>;

async function commandCount(admin: Admin): Promise<{ total: number; by: Record<string, number> }> {
  const info = String(await admin.sendCommand(['INFO', 'commandstats']));
  const by: Record<string, number> = {};
  for (const line of info.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    const name = match?.[1];
    if (match && name && name !== 'info' && !name.startsWith('config')) by[name] = Number(match[2]);
  }
  return { total: Object.values(by).reduce((a, b) => a + b, 0), by };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

async function perPetDay(url: string, admin: Admin): Promise<void> {
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const clock = createManualClock(Date.UTC(2026, 2, 1, 8, 0));
  const storage = createRedisStorage({ url, snapshotBytes: DEFAULT_SNAPSHOT_BYTES });
  const service = createPetService({ storage, clock });
  const owners = createOwners({ storage, clock });
  const notify = createNotifyService({ storage, service, owners, clock, allowPrivate: true, maxPerDay: 6, vapid: {}, publicUrl: null });
  const owner = await owners.create();
  const petId = `bench-${Date.now()}`;
  await service.getState(petId);
  // The pet as an owner's pet: its meta names the owner (as POST /api/pets with the owner's secret does).
  await service.update(petId, { pet_name: 'bench' });
  await owners.addPet(owner.owner_id, petId);
  const record = await storage.load(petId);
  if (record?.meta === null || record === null) throw new Error('no pet');
  await storage.save(petId, {
    expectedVersion: record.version,
    meta: { ...record.meta, version: record.version + 1, owners: [owner.owner_id] },
    systems: {},
  });
  await notify.addWebhook(owner.owner_id, { url: hook, events: ['got_hungry', 'woke_up', 'fell_asleep'] });
  const due = storage.dueSet;
  if (due === undefined) throw new Error('no due set');
  const end = clock.nowMs() + 86_400_000;
  await admin.sendCommand(['CONFIG', 'RESETSTAT']);
  const before = storage.roundTrips();
  let passes = 0;
  let sent = 0;
  for (;;) {
    const at = await due.instantOf(petId);
    if (at === null || at > end) break;
    clock.set(Math.max(clock.nowMs(), at));
    const report = await notify.scheduler.drain(clock.nowMs() + 1);
    passes += report.claimed;
    sent += report.sent;
  }
  const counted = await commandCount(admin);
  // The instantOf calls above are the benchmark's own, not the schedule's.
  const own = passes + 1;
  console.log(
    JSON.stringify({
      what: 'one scheduled pet, one webhook endpoint, one simulated day',
      passes,
      webhooks_sent: sent,
      redis_commands: counted.total - own,
      round_trips: storage.roundTrips() - before - own,
      by_command: counted.by,
    }),
  );
  await storage.close();
  receiver.close();
}

async function dueSetAtScale(url: string, admin: Admin): Promise<void> {
  const storage = createRedisStorage({ url });
  const due = storage.dueSet;
  if (due === undefined) throw new Error('no due set');
  const PETS = 100_000;
  const key = 'life_~due:pets';
  await admin.sendCommand(['DEL', key]);
  const base = 2_000_000_000_000;
  for (let start = 0; start < PETS; start += 1000) {
    const args = ['ZADD', key];
    for (let n = start; n < start + 1000; n++) args.push(String(base + n * 1000), `pet-${n.toString(36).padStart(6, '0')}`);
    await admin.sendCommand(args);
  }
  const bytes = Number(await admin.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0']));
  const idle: number[] = [];
  for (let n = 0; n < 20; n++) {
    const started = performance.now();
    await due.claim(base - 1, 60_000, 50);
    idle.push(performance.now() - started);
  }
  const busy: number[] = [];
  for (let n = 0; n < 20; n++) {
    const started = performance.now();
    const claims = await due.claim(base + PETS * 1000, 60_000, 50);
    busy.push(performance.now() - started);
    if (claims.length !== 50) throw new Error(`claimed ${claims.length}`);
  }
  console.log(
    JSON.stringify({
      what: 'due set at 100,000 scheduled pets (one Redis, loopback)',
      pets: await due.size(),
      memory_bytes: bytes,
      bytes_per_pet: Math.round(bytes / PETS),
      claim_nothing_due_ms_p50: Number(median(idle).toFixed(3)),
      claim_50_due_ms_p50: Number(median(busy).toFixed(3)),
    }),
  );
  await storage.close();
}

const ZONES = [
  'UTC',
  'Asia/Shanghai',
  'America/New_York',
  'Europe/Berlin',
  'Asia/Tokyo',
  'America/Los_Angeles',
  'Asia/Kolkata',
  'Australia/Sydney',
];

async function lateness(url: string): Promise<void> {
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const late: number[][] = [[], []];
  const instances = [0, 1].map((n) => {
    const storage = createRedisStorage({ url, snapshotBytes: DEFAULT_SNAPSHOT_BYTES });
    const service = createPetService({ storage, timeScale: 3600 });
    const owners = createOwners({ storage, clock: systemClock, maxPetsPerOwner: 100 });
    const notify = createNotifyService({
      storage,
      service,
      owners,
      clock: systemClock,
      allowPrivate: true,
      maxPerDay: 1000,
      vapid: {},
      publicUrl: null,
      onPass: (pass) => {
        if (pass.sent > 0) late[n]?.push(pass.doneMs - pass.dueMs);
      },
    });
    return { storage, service, owners, notify };
  });
  const [first] = instances;
  if (first === undefined) throw new Error('no instance');
  const owner = await first.owners.create();
  for (let n = 0; n < 40; n++) {
    const petId = `late-${Date.now()}-${n}`;
    await first.service.getState(petId);
    await first.service.update(petId, { timezone: ZONES[n % ZONES.length] as string });
    await first.owners.addPet(owner.owner_id, petId);
    const record = await first.storage.load(petId);
    if (record === null || record.meta === null) throw new Error('no pet');
    await first.storage.save(petId, {
      expectedVersion: record.version,
      meta: { ...record.meta, version: record.version + 1, owners: [owner.owner_id] },
      systems: {},
    });
  }
  await first.notify.addWebhook(owner.owner_id, { url: hook, events: ['got_hungry', 'woke_up', 'fell_asleep'] });
  await Promise.all(instances.map((i) => i.notify.scheduler.start()));
  await new Promise((resolve) => setTimeout(resolve, 30_000));
  await Promise.all(instances.map((i) => i.notify.scheduler.stop()));
  const all = [...(late[0] ?? []), ...(late[1] ?? [])].sort((a, b) => a - b);
  const at = (q: number) => all[Math.min(all.length - 1, Math.floor(q * all.length))] ?? Number.NaN;
  console.log(
    JSON.stringify({
      what: 'lateness, event instant to webhook delivered, two instances (loop each second), 40 pets, 30 s at TIME_SCALE 3600',
      passes_with_deliveries: all.length,
      per_instance: late.map((l) => l.length),
      p50_ms: at(0.5),
      p99_ms: at(0.99),
      max_ms: all.at(-1),
    }),
  );
  await Promise.all(instances.map((i) => i.storage.close()));
  receiver.close();
}

const redis = await startRedisServer();
const admin: Admin = createClient({ url: redis.url, RESP: 2 });
await admin.connect();
try {
  await perPetDay(redis.url, admin);
  await dueSetAtScale(redis.url, admin);
  await lateness(redis.url);
} finally {
  await admin.quit();
  await redis.stop();
}
