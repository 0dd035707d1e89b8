import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageUnavailableError } from '../../src/errors.js';
import { CLUSTER_LAYOUT, MAX_EXTRAS_PER_PET, PLAIN_LAYOUT, globalKey, petKeys } from '../../src/storage/index.js';
import { parseClusterNodes } from '../../src/storage/cluster-nodes.js';
import { createRedisClusterCommands, createRedisClusterStorage } from '../../src/storage/redis-cluster.js';
import type { StorageDriver } from '../../src/storage/types.js';
import {
  type ClusterAdmin,
  connectClusterAdmin,
  describeWithCluster,
  type PrivateCluster,
  scanCluster,
  startPrivateCluster,
  testClusterNodes,
} from '../helpers/redis-cluster.js';
import { freePort } from '../helpers/redis-process.js';
import { describeStorageContract, metaFor, petId, sampleSystems } from './contract.js';

const nodes = (): string => testClusterNodes ?? '';

describe('parseClusterNodes', () => {
  it('takes host:port lists and URLs, applying the first URL’s credentials and TLS to every node', () => {
    expect(parseClusterNodes('127.0.0.1:7101, 127.0.0.1:7102')).toEqual({
      urls: ['redis://127.0.0.1:7101', 'redis://127.0.0.1:7102'],
      tls: false,
      target: '127.0.0.1:7101,127.0.0.1:7102',
    });
    const secure = parseClusterNodes(['rediss://app:s%40cret@h1:6380', 'h2:6380']);
    expect(secure.urls).toEqual(['rediss://app:s%40cret@h1:6380', 'rediss://app:s%40cret@h2:6380']);
    expect(secure).toMatchObject({ username: 'app', password: 's@cret', tls: true, target: 'rediss://app:***@h1:6380,h2:6380' });
  });

  it('refuses an empty list, a missing port and a database', () => {
    expect(() => parseClusterNodes(' , ')).toThrow(TypeError);
    expect(() => parseClusterNodes('127.0.0.1')).toThrow(/host:port/);
    expect(() => parseClusterNodes('redis://127.0.0.1:7101/2')).toThrow(/no databases/);
    expect(() => parseClusterNodes('redis://:pw@[bad')).not.toThrow(/pw/);
  });
});

describe('key layouts', () => {
  it('spell a pet’s keys with the id as hash tag on a cluster, and parse what they spell', () => {
    expect(petKeys('dev-1', CLUSTER_LAYOUT).meta).toBe('life_{dev-1}:meta');
    expect(petKeys('dev-1').meta).toBe('life_dev-1:meta');
    expect(globalKey('ratelimit', '::1', CLUSTER_LAYOUT)).toBe('life_~{ratelimit:::1}');
    expect(CLUSTER_LAYOUT.parseKey('life_{dev-1}:idem:ab')).toEqual({ petId: 'dev-1', name: 'idem:ab' });
    expect(CLUSTER_LAYOUT.parseKey('life_~{ratelimit:::1}')).toEqual({ purpose: 'ratelimit', subject: '::1' });
    expect(PLAIN_LAYOUT.parseKey('life_dev-1:events')).toEqual({ petId: 'dev-1', name: 'events' });
    expect(PLAIN_LAYOUT.parseKey('life_~owner:u1')).toEqual({ purpose: 'owner', subject: 'u1' });
    // Each layout refuses the other's keys.
    expect(PLAIN_LAYOUT.parseKey('life_{dev-1}:meta')).toBeNull();
    expect(PLAIN_LAYOUT.parseKey('life_~{owner:u1}')).toBeNull();
    expect(CLUSTER_LAYOUT.parseKey('life_dev-1:meta')).toBeNull();
    expect(CLUSTER_LAYOUT.petIdOfMeta('life_{dev-1}:meta')).toBe('dev-1');
    expect(PLAIN_LAYOUT.petIdOfMeta('life_{dev-1}:meta')).toBeNull();
  });
});

describeWithCluster('redis cluster', () => {
  let admin: ClusterAdmin;
  beforeAll(async () => {
    admin = await connectClusterAdmin();
    // A clean store for the contract (fixed subjects like '../..' count across runs), sparing the
    // keys of other test files (`<label>-<pid>-…`), which may be running on this cluster now.
    for (const key of await scanCluster(admin)) {
      if (!/-\d+-/.test(key)) await admin.sendCommand(key, false, ['DEL', key]);
    }
  });
  afterAll(async () => {
    await admin?.close();
  });

  const raw = (key: string, args: string[]): Promise<unknown> => admin.sendCommand(key, false, args);

  describeStorageContract('redis-cluster', () => ({
    eventTrim: 'approximate',
    watch: true,
    create: (options) => createRedisClusterStorage({ nodes: nodes(), ...options }),
    // Other test files share this cluster: their keys carry another process id (`<label>-<pid>-…`).
    listKeys: async () => (await scanCluster(admin)).filter((key) => key.includes(`-${process.pid}-`) || !/-\d+-/.test(key)),
    pttl: async (id, name) => {
      const key = `life_{${id}}:${name}`;
      return Number(await raw(key, ['PTTL', key]));
    },
    rawWrite: async (id, name, value) => {
      const key = `life_{${id}}:${name}`;
      await raw(key, ['SET', key, value]);
    },
    advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  }));

  describe('cluster specifics', () => {
    let driver: StorageDriver;
    beforeAll(() => {
      driver = createRedisClusterStorage({ nodes: nodes() });
    });
    afterAll(async () => {
      await driver?.close();
    });

    it('keeps every key of a pet in one slot (life_{<id>}:…), extras and the event log included', async () => {
      const id = petId('slot');
      await driver.save(id, {
        expectedVersion: 0,
        meta: metaFor(1),
        systems: sampleSystems(),
        extras: [{ name: 'idem:abc', value: '{}', ttlMs: 60_000 }],
        events: [{ type: 'updated', pet_time: '2026-11-25T16:00:00.000+08:00', at: '2026-11-25T08:00:00.000Z', data: {} }],
      });
      const keys = await scanCluster(admin, petKeys(id, CLUSTER_LAYOUT).pattern);
      expect(keys).toContain(`life_{${id}}:meta`);
      expect(keys).toContain(`life_{${id}}:events`);
      expect(keys).toContain(`life_{${id}}:extras`);
      expect(keys).toContain(`life_{${id}}:idem:abc`);
      const slots = new Set(await Promise.all(keys.map((key) => raw(key, ['CLUSTER', 'KEYSLOT', key]))));
      expect(slots.size).toBe(1);
      expect(await scanCluster(admin, `life_${id}:*`)).toEqual([]);
    });

    it('lists pets on every master (SCAN walks each)', async () => {
      const ids = Array.from({ length: 12 }, () => petId('listed'));
      await Promise.all(ids.map((id) => driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {} })));
      const masters = new Set(
        await Promise.all(ids.map(async (id) => (await admin.getNodeClientForKey(`life_{${id}}:meta`)).options?.socket)),
      );
      expect(masters.size).toBeGreaterThan(1);
      const listed = await driver.inspector?.listPets({ limit: 100_000 });
      for (const id of ids) expect(listed).toContain(id);
    });

    it(`drops the extras that expire first beyond ${MAX_EXTRAS_PER_PET}: the script deletes undeclared keys of its own slot`, async () => {
      const id = petId('bound');
      let version = 0;
      for (let i = 0; i < MAX_EXTRAS_PER_PET + 3; i += 1) {
        const result = await driver.save(id, {
          expectedVersion: version,
          meta: metaFor(version + 1),
          systems: {},
          extras: [{ name: `idem:${String(i).padStart(4, '0')}`, value: '{}', ttlMs: 60_000 + i }],
        });
        expect(result.ok).toBe(true);
        version += 1;
      }
      const extras = (await scanCluster(admin, `life_{${id}}:idem:*`)).sort();
      expect(extras).toHaveLength(MAX_EXTRAS_PER_PET);
      expect(extras[0]).toBe(`life_{${id}}:idem:0003`);
    });

    it('pipelines commands for several nodes: one round trip, replies in order, a failed command an Error in its place', async () => {
      const ids = Array.from({ length: 6 }, () => petId('pipe'));
      await Promise.all(ids.map((id) => driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {} })));
      const { commands } = createRedisClusterCommands({ nodes: nodes() });
      try {
        const replies = await commands.pipeline([
          ...ids.map((id) => ({ args: ['GET', `life_{${id}}:meta`], keys: [`life_{${id}}:meta`] })),
          { args: ['INCRBY', `life_{${ids[0]}}:meta`, '1'], keys: [`life_{${ids[0]}}:meta`] },
        ]);
        expect(commands.roundTrips()).toBe(1);
        expect(replies.slice(0, 6).map((reply) => JSON.parse(String(reply)).version)).toEqual([1, 1, 1, 1, 1, 1]);
        expect(replies[6]).toBeInstanceOf(Error);
      } finally {
        await commands.close();
      }
    });

    it('REDIS_WAIT_REPLICAS: acknowledges a save once a replica has it; fewer replicas in time is a 503 and the change may be applied', async () => {
      const waiting = createRedisClusterStorage({ nodes: nodes(), waitReplicas: 1, waitTimeoutMs: 2000 });
      const greedy = createRedisClusterStorage({ nodes: nodes(), waitReplicas: 2, waitTimeoutMs: 200 });
      try {
        const id = petId('wait');
        const before = waiting.roundTrips();
        expect(await waiting.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() })).toMatchObject({ ok: true });
        expect(waiting.roundTrips() - before).toBe(1);
        // Each master has one replica: two can never acknowledge.
        const failed = greedy.save(id, { expectedVersion: 1, meta: metaFor(2), systems: {} });
        await expect(failed).rejects.toBeInstanceOf(StorageUnavailableError);
        await expect(failed).rejects.toThrow(/may be applied/);
        expect((await waiting.load(id))?.version).toBe(2);
        // A conflict needs no replica.
        expect(await greedy.save(id, { expectedVersion: 1, meta: metaFor(2), systems: {} })).toMatchObject({ ok: false, version: 2 });
      } finally {
        await waiting.close();
        await greedy.close();
      }
    });
  });
});

describeWithCluster('redis cluster: a slot moved under a connected driver (a cluster of its own)', () => {
  let cluster: PrivateCluster;
  let admin: ClusterAdmin;
  beforeAll(async () => {
    cluster = await startPrivateCluster();
    admin = await connectClusterAdmin(cluster.nodes);
  }, 60_000);
  afterAll(async () => {
    admin?.destroy();
    await cluster?.stop();
  });

  /** Moves the slot of `key` with its keys to another master (MIGRATE, then SETSLOT … NODE on every master). */
  const moveSlotOf = async (key: string, keys: string[]): Promise<void> => {
    const from = await admin.getNodeClientForKey(key);
    const slot = String(await from.sendCommand(['CLUSTER', 'KEYSLOT', key]));
    const nodes = await Promise.all(admin.masters.map(async (master) => ({ master, client: await admin.nodeClient(master) })));
    const ids = await Promise.all(nodes.map(async ({ client }) => String(await client.sendCommand(['CLUSTER', 'MYID']))));
    const fromId = String(await from.sendCommand(['CLUSTER', 'MYID']));
    const toIndex = ids.findIndex((id) => id !== fromId);
    const to = nodes[toIndex] as (typeof nodes)[number];
    const toId = ids[toIndex] as string;
    await to.client.sendCommand(['CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId]);
    await from.sendCommand(['CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId]);
    await from.sendCommand(['MIGRATE', '127.0.0.1', String(to.master.port), '', '0', '5000', 'KEYS', ...keys]);
    for (const { client } of nodes) await client.sendCommand(['CLUSTER', 'SETSLOT', slot, 'NODE', toId]);
  };

  it('follows MOVED in a pipeline; a WAIT after a redirected write fails (503, the change applied)', async () => {
    const { commands } = createRedisClusterCommands({ nodes: cluster.nodes });
    const waiting = createRedisClusterStorage({ nodes: cluster.nodes, waitReplicas: 1, waitTimeoutMs: 2000 });
    try {
      const id = petId('moved');
      expect(await waiting.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() })).toMatchObject({ ok: true });
      const meta = `life_{${id}}:meta`;
      expect(JSON.parse(String((await commands.pipeline([{ args: ['GET', meta], keys: [meta] }]))[0])).version).toBe(1);
      await moveSlotOf(meta, await scanCluster(admin, `life_{${id}}:*`));
      // Both clients still route the slot to its old master.
      const [moved] = await commands.pipeline([{ args: ['GET', meta], keys: [meta] }]);
      expect(JSON.parse(String(moved)).version).toBe(1);
      const saving = waiting.save(id, { expectedVersion: 1, meta: metaFor(2), systems: {} });
      await expect(saving).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(saving).rejects.toThrow(/may be applied.*redirected/);
      expect((await waiting.load(id))?.version).toBe(2);
      // Once the topology is read again, WAIT goes with its write.
      expect(await waiting.save(id, { expectedVersion: 2, meta: metaFor(3), systems: {} })).toMatchObject({ ok: true, version: 3 });
    } finally {
      await commands.close();
      await waiting.close();
    }
  }, 60_000);
});

describe('redis cluster when the nodes are down or silent', () => {
  it('answers StorageUnavailableError within the deadline: a closed port, and a node that accepts but never answers', async () => {
    const closed = await freePort();
    const down = createRedisClusterStorage({ nodes: `127.0.0.1:${closed}`, connectTimeoutMs: 300 });
    let started = Date.now();
    await expect(down.load(petId('down'))).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(down.ping()).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(Date.now() - started).toBeLessThan(2000);
    await down.close();

    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const { port } = silent.address() as net.AddressInfo;
    const hanging = createRedisClusterStorage({ nodes: `127.0.0.1:${port}`, connectTimeoutMs: 300 });
    started = Date.now();
    await expect(hanging.save(petId('silent'), { expectedVersion: 0, meta: metaFor(1), systems: {} })).rejects.toBeInstanceOf(
      StorageUnavailableError,
    );
    expect(Date.now() - started).toBeLessThan(2000);
    // The abandoned connect is not waited for again: the next operation tries afresh, as bounded.
    started = Date.now();
    await expect(hanging.load(petId('silent'))).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(Date.now() - started).toBeLessThan(2000);
    await hanging.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });
});
