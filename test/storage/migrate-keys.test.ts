/**
 * `pet-life migrate-keys` round trip (docs/design.md §10): pets written by the plain Redis driver (systems,
 * extras, event log, TTLs) and a global record are copied to a Redis Cluster of the test's own,
 * read back by the cluster driver exactly as stored, then copied back to an empty plain database;
 * idempotent (a second run skips every pet), resumable (a pet cut short is copied again), the
 * source untouched.
 */
import { createClient } from '@redis/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { migrateKeys, openClusterKeyStore, openRedisKeyStore } from '../../src/storage/migrate-keys.js';
import { createRedisClusterStorage } from '../../src/storage/redis-cluster.js';
import { createRedisStorage } from '../../src/storage/redis.js';
import type { PetEventDraft, PetRecord, StorageDriver } from '../../src/storage/types.js';
import { connectClusterAdmin, type PrivateCluster, startPrivateCluster } from '../helpers/redis-cluster.js';
import { describeWithRedis, testRedisUrl } from '../helpers/redis.js';
import { metaFor, petId, sampleSystems } from './contract.js';

/** Databases of their own on the test Redis: the source, and the target of the way back. */
const urlOf = (db: number): string => {
  const parsed = new URL(testRedisUrl ?? 'redis://127.0.0.1:6379');
  parsed.pathname = `/${db}`;
  return parsed.toString();
};
const SOURCE = urlOf(12);
const BACK = urlOf(13);

const draft = (type: string): PetEventDraft => ({
  type,
  pet_time: '2026-11-25T16:00:00.000+08:00',
  at: '2026-11-25T08:00:00.000Z',
  data: { note: '小糖' },
});

async function dumpAll(url: string): Promise<Map<string, string>> {
  const client = createClient({ url, RESP: 2 });
  await client.connect();
  try {
    const keys = (await client.sendCommand(['KEYS', '*'])) as string[];
    const values = new Map<string, string>();
    for (const key of keys.sort())
      values.set(
        key,
        `${String(await client.sendCommand(['DUMP', key]))}:${await client.sendCommand(['PTTL', key]).then((ttl) => (Number(ttl) > 0 ? 'ttl' : String(ttl)))}`,
      );
    return values;
  } finally {
    await client.close();
  }
}

async function flush(url: string): Promise<void> {
  const client = createClient({ url, RESP: 2 });
  await client.connect();
  await client.sendCommand(['FLUSHDB']);
  await client.close();
}

describeWithRedis('migrate-keys: plain Redis ⇄ Redis Cluster', () => {
  // A private cluster, so the way back copies only this file's pets (needs redis-server, as the single Redis does).
  let cluster: PrivateCluster;
  let plain: StorageDriver;
  let clustered: StorageDriver;
  let back: StorageDriver;
  const ids = Array.from({ length: 6 }, (_, i) => petId(`migrate-${i}`));
  const records = new Map<string, PetRecord | null>();

  beforeAll(async () => {
    cluster = await startPrivateCluster();
    await Promise.all([flush(SOURCE), flush(BACK)]);
    plain = createRedisStorage({ url: SOURCE });
    clustered = createRedisClusterStorage({ nodes: cluster.nodes });
    back = createRedisStorage({ url: BACK });
    for (const [index, id] of ids.entries()) {
      await plain.save(id, {
        expectedVersion: 0,
        meta: metaFor(1),
        systems: sampleSystems(index + 1),
        extras: [{ name: 'idem:first', value: '{"status":200}', ttlMs: 3_600_000 }],
        events: [draft('created')],
        ...(index % 2 === 0 ? { ttlMs: 86_400_000 } : {}),
      });
      await plain.save(id, {
        expectedVersion: 1,
        meta: metaFor(2),
        systems: {},
        extras: [{ name: 'idem:second', value: '{"status":200}', ttlMs: 7_200_000 }],
        events: [draft('interacted')],
        ...(index % 2 === 0 ? { ttlMs: 86_400_000 } : {}),
      });
      records.set(id, await plain.load(id, { extras: ['idem:first', 'idem:second'] }));
    }
    await plain.hit('ratelimit', '203.0.113.9', 600_000);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([plain?.close(), clustered?.close(), back?.close()]);
    await cluster?.stop();
  });

  it('copies every pet to the cluster layout, exactly as stored, and leaves the source untouched', async () => {
    const before = await dumpAll(SOURCE);
    const from = await openRedisKeyStore(SOURCE);
    const to = await openClusterKeyStore(cluster.nodes);
    try {
      const report = await migrateKeys(from, to);
      expect(report).toMatchObject({ pets: ids.length, copied: ids.length, skipped: 0, globals: 1, failed: [] });
      // meta, 4 systems… whatever the driver wrote: every key of the source went over.
      expect(report.keys).toBe(before.size);
      // Idempotent: a second run finds every pet there.
      expect(await migrateKeys(from, to)).toMatchObject({ copied: 0, skipped: ids.length, failed: [] });
      // Resumable: a pet cut short (no meta on the target) is copied again.
      const admin = await connectClusterAdmin(cluster.nodes);
      await admin.sendCommand(`life_{${ids[0]}}:meta`, false, ['DEL', `life_{${ids[0]}}:meta`]);
      expect(await migrateKeys(from, to)).toMatchObject({ copied: 1, skipped: ids.length - 1, failed: [] });
      // The extras index names the cluster's keys, with the same TTL class.
      const index = (await admin.sendCommand(`life_{${ids[1]}}:extras`, false, [
        'ZRANGE',
        `life_{${ids[1]}}:extras`,
        '0',
        '-1',
      ])) as string[];
      expect(index.sort()).toEqual([`life_{${ids[1]}}:idem:first`, `life_{${ids[1]}}:idem:second`]);
      const ttl = Number(await admin.sendCommand(`life_{${ids[0]}}:energy`, false, ['PTTL', `life_{${ids[0]}}:energy`]));
      expect(ttl).toBeGreaterThan(86_000_000);
      expect(Number(await admin.sendCommand(`life_{${ids[1]}}:energy`, false, ['PTTL', `life_{${ids[1]}}:energy`]))).toBe(-1);
      expect(Number(await admin.sendCommand('life_~{ratelimit:203.0.113.9}', false, ['GET', 'life_~{ratelimit:203.0.113.9}']))).toBe(1);
      admin.destroy();
    } finally {
      await Promise.all([from.close(), to.close()]);
    }
    expect(await dumpAll(SOURCE)).toEqual(before);
    for (const id of ids) {
      expect(await clustered.load(id, { extras: ['idem:first', 'idem:second'] })).toEqual(records.get(id));
      expect((await clustered.readEvents(id)).map((event) => [event.id, event.type])).toEqual(
        (await plain.readEvents(id)).map((event) => [event.id, event.type]),
      );
    }
    // The migrated pets work on the cluster: a compare-and-set on top of the copied version.
    expect(await clustered.save(ids[2] as string, { expectedVersion: 2, meta: metaFor(3), systems: {} })).toMatchObject({
      ok: true,
      version: 3,
    });
    expect(await clustered.save(ids[2] as string, { expectedVersion: 2, meta: metaFor(3), systems: {} })).toMatchObject({
      ok: false,
      version: 3,
    });
  }, 60_000);

  it('copies them back to a plain Redis through the CLI: the round trip preserves every pet', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t), errIsTty: false, outIsTty: false, env: {} };
    expect(await runCli(['migrate-keys', '--from', SOURCE, '--to', BACK], io)).toBe(2);
    expect(err.join('')).toMatch(/--from <redis url> --to-cluster <nodes>/);
    expect(await runCli(['migrate-keys', '--from-cluster', cluster.nodes, '--to', BACK, '--json'], io)).toBe(0);
    const report = JSON.parse(out.join('')) as { pets: number; copied: number; failed: unknown[] };
    expect(report).toMatchObject({ pets: ids.length, copied: ids.length, failed: [] });
    for (const [index, id] of ids.entries()) {
      const expected = records.get(id);
      const got = await back.load(id, { extras: ['idem:first', 'idem:second'] });
      // The pet saved once more on the cluster comes back with that save; the others as they were.
      if (index === 2) expect(got?.version).toBe(3);
      else expect(got).toEqual(expected);
    }
  }, 60_000);
});
