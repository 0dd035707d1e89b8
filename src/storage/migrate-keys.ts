/**
 * `pet-life migrate-keys` (docs/design.md §10): copies every pet, and every record tied to no
 * pet, from one key layout to the other — a plain Redis (the seed's `life_<id>:…`) to a Redis
 * Cluster (`life_{<id>}:…`), or back. Reads only from the source (SCAN, DUMP, PTTL, GET, ZRANGE);
 * writes only the target. Each key goes over as DUMP → RESTORE … REPLACE with its remaining TTL
 * (streams and their ids included: only names change), except the extras index, whose members
 * are key names: it is rebuilt with the target's names and the same scores. Idempotent and
 * resumable: a pet whose target meta already equals the source's is skipped, any other is copied
 * again whole. Each pet is verified (every key present on the target, the meta equal) and the
 * run ends with the counts. Run it with the service stopped (or on a copy): a pet changed during
 * the run is copied again by the next run.
 */
import { RESP_TYPES, createClient, createCluster } from '@redis/client';
import { parseClusterNodes } from './cluster-nodes.js';
import { redactRedisUrl } from './redis-transport.js';
import { CLUSTER_LAYOUT, KEY_PREFIX, type KeyLayout, PLAIN_LAYOUT, extraKey, globalKey, petKeys } from './keys.js';

/** One side of a migration: a layout and the few commands the copy needs. */
export interface KeyStore {
  readonly layout: KeyLayout;
  /** Redacted, for the report. */
  readonly target: string;
  /** Every key matching `match`, batch by batch (every master of a cluster). */
  scan(match: string): AsyncIterable<string[]>;
  /** One command routed by `key`; bulk replies as Buffers (DUMP payloads are binary). */
  call(key: string, args: readonly (string | Buffer)[]): Promise<unknown>;
  close(): Promise<void>;
}

const BUFFERS = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } };

/** A plain Redis (`redis://` or `rediss://`, `/<db>` selects a database). */
export async function openRedisKeyStore(url: string): Promise<KeyStore> {
  if (!/^rediss?:\/\//.test(url)) throw new TypeError('the Redis URL must start with redis:// or rediss://');
  const client = createClient({ url, RESP: 2 });
  client.on('error', () => undefined); // failures reach the caller through the commands
  await client.connect();
  return {
    layout: PLAIN_LAYOUT,
    target: redactRedisUrl(url),
    scan: (match) => scanNode(client, match),
    call: (_key, args) => client.sendCommand([...args], BUFFERS),
    close: () => client.close(),
  };
}

/** Every key on one node matching `match`, SCAN batch by SCAN batch. */
async function* scanNode(client: { sendCommand(args: string[]): Promise<unknown> }, match: string): AsyncIterable<string[]> {
  let cursor = '0';
  do {
    const [next, keys] = (await client.sendCommand(['SCAN', cursor, 'MATCH', match, 'COUNT', '1000'])) as [string, string[]];
    cursor = String(next);
    yield keys;
  } while (cursor !== '0');
}

/** A Redis Cluster (REDIS_CLUSTER_NODES syntax). */
export async function openClusterKeyStore(nodes: string): Promise<KeyStore> {
  const parsed = parseClusterNodes(nodes);
  const cluster = createCluster({
    rootNodes: parsed.urls.map((url) => ({ url })),
    defaults: {
      ...(parsed.username === undefined ? {} : { username: parsed.username }),
      ...(parsed.password === undefined ? {} : { password: parsed.password }),
      ...(parsed.tls ? { socket: { tls: true as const } } : {}),
    },
    RESP: 2,
  });
  cluster.on('error', () => undefined);
  await cluster.connect();
  return {
    layout: CLUSTER_LAYOUT,
    target: parsed.target,
    async *scan(match) {
      for (const master of cluster.masters) yield* scanNode(await cluster.nodeClient(master), match);
    },
    call: (key, args) => cluster.sendCommand(key, false, [...args], BUFFERS),
    close: () => cluster.close(),
  };
}

export interface MigrationReport {
  from: string;
  to: string;
  /** Pets found in the source. */
  pets: number;
  /** Pets copied by this run. */
  copied: number;
  /** Pets already on the target with the same meta (an earlier run). */
  skipped: number;
  /** Keys written (pets' and global records'). */
  keys: number;
  /** Records tied to no pet (`life_~…`) copied. */
  globals: number;
  /** Pets whose copy did not verify (keys missing on the target, or another meta), with why. */
  failed: Array<{ petId: string; reason: string }>;
}

/** The key of `name` under pet `id` in `layout` (meta, systems, extras, events, an extra). */
function keyIn(layout: KeyLayout, id: string, name: string): string {
  const keys = petKeys(id, layout);
  if (name === 'meta') return keys.meta;
  if (name === 'extras') return keys.extrasIndex;
  if (name === 'events') return keys.events;
  if (name in keys.systems) return keys.systems[name as keyof typeof keys.systems];
  return extraKey(id, name, layout);
}

const text = (value: unknown): string | null =>
  value === null || value === undefined ? null : Buffer.isBuffer(value) ? value.toString() : String(value);

/**
 * Copies every pet and global record of `from` to `to` (different layouts), pet by pet; calls
 * `progress` after each pet. Resolves to the report; `failed` lists the pets that did not verify.
 */
export async function migrateKeys(
  from: KeyStore,
  to: KeyStore,
  progress: (done: number, total: number) => void = () => undefined,
): Promise<MigrationReport> {
  if (from.layout.name === to.layout.name) throw new TypeError(`both sides use the ${from.layout.name} layout: nothing to migrate`);
  const pets = new Map<string, Set<string>>();
  const globals: Array<{ key: string; purpose: string; subject: string }> = [];
  for await (const batch of from.scan(`${KEY_PREFIX}*`)) {
    for (const key of batch) {
      const parsed = from.layout.parseKey(key);
      if (parsed === null) continue;
      if ('petId' in parsed) {
        const names = pets.get(parsed.petId) ?? new Set<string>();
        names.add(parsed.name);
        pets.set(parsed.petId, names);
      } else {
        globals.push({ key, ...parsed });
      }
    }
  }
  const report: MigrationReport = {
    from: from.target,
    to: to.target,
    pets: pets.size,
    copied: 0,
    skipped: 0,
    keys: 0,
    globals: 0,
    failed: [],
  };

  /** DUMP + PTTL from the source, RESTORE … REPLACE on the target; false when the key is gone. */
  const copyKey = async (source: string, target: string): Promise<boolean> => {
    const [payload, pttl] = await Promise.all([from.call(source, ['DUMP', source]), from.call(source, ['PTTL', source])]);
    if (payload === null || Number(pttl) === -2) return false;
    const ttl = Number(pttl) > 0 ? String(pttl) : '0';
    await to.call(target, ['RESTORE', target, ttl, payload as Buffer, 'REPLACE']);
    return true;
  };

  /** The extras index, its members renamed to the target's extra keys, same scores and TTL. */
  const copyIndex = async (id: string, source: string, target: string): Promise<boolean> => {
    const [raw, pttl] = await Promise.all([
      from.call(source, ['ZRANGE', source, '0', '-1', 'WITHSCORES']),
      from.call(source, ['PTTL', source]),
    ]);
    const entries = (raw as unknown[]).map(text);
    if (entries.length === 0 || Number(pttl) === -2) return false;
    const args: string[] = [];
    for (let i = 0; i < entries.length; i += 2) {
      const parsed = from.layout.parseKey(entries[i] ?? '');
      const member = parsed && 'petId' in parsed && parsed.petId === id ? extraKey(id, parsed.name, to.layout) : (entries[i] ?? '');
      args.push(entries[i + 1] ?? '0', member);
    }
    await to.call(target, ['DEL', target]);
    await to.call(target, ['ZADD', target, ...args]);
    if (Number(pttl) > 0) await to.call(target, ['PEXPIRE', target, String(pttl)]);
    return true;
  };

  let done = 0;
  for (const [id, names] of pets) {
    const sourceMeta = text(await from.call(keyIn(from.layout, id, 'meta'), ['GET', keyIn(from.layout, id, 'meta')]));
    const targetMeta = text(await to.call(keyIn(to.layout, id, 'meta'), ['GET', keyIn(to.layout, id, 'meta')]));
    if (sourceMeta !== null && sourceMeta === targetMeta) {
      report.skipped += 1;
    } else {
      const copied: string[] = [];
      // The meta last: a run cut short leaves no target meta equal to the source's, so the next
      // run copies that pet again instead of skipping it.
      for (const name of [...names].sort((a, b) => Number(a === 'meta') - Number(b === 'meta'))) {
        const source = keyIn(from.layout, id, name);
        const target = keyIn(to.layout, id, name);
        if (await (name === 'extras' ? copyIndex(id, source, target) : copyKey(source, target))) copied.push(target);
      }
      report.keys += copied.length;
      // Verify: every key copied is there (one EXISTS: a pet's keys share a slot on a cluster), the meta equal.
      const present = copied.length === 0 ? 0 : Number(await to.call(copied[0] as string, ['EXISTS', ...copied]));
      const metaAfter = text(await to.call(keyIn(to.layout, id, 'meta'), ['GET', keyIn(to.layout, id, 'meta')]));
      if (present !== copied.length) report.failed.push({ petId: id, reason: `${present} of ${copied.length} keys on the target` });
      else if (metaAfter !== sourceMeta)
        report.failed.push({ petId: id, reason: 'the meta on the target differs (changed during the copy?)' });
      else report.copied += 1;
    }
    done += 1;
    progress(done, pets.size);
  }
  for (const { key, purpose, subject } of globals) {
    const target = globalKey(purpose, subject, to.layout);
    if (await copyKey(key, target)) {
      report.globals += 1;
      report.keys += 1;
    }
  }
  return report;
}
