/**
 * Redis Cluster with node-redis v6's cluster client (docs/design.md §10). This file is only the
 * transport (RedisCommands): what each operation sends is the body shared with the other Redis
 * drivers (redis-commands.ts), with the cluster key layout (keys.ts: `life_{<id>}:<system>`, so a
 * pet's keys share one slot), counted loads split into the pet's MGET and one HIT_SCRIPT per
 * counter (the counters live in other slots), and REDIS_WAIT_REPLICAS. Each keyed command is
 * routed by its key (MOVED/ASK followed by node-redis); `pipeline` groups commands by node and
 * sends each group on that node's one connection, the groups in parallel; SCAN walks every
 * master; `watch` SUBSCRIBEs on one node (a PUBLISH reaches every node of a cluster). RESP 2,
 * credentials and TLS as for a single Redis: from the `redis://` / `rediss://` URLs in the list,
 * applied to every node discovered. A master that dies answers StorageUnavailableError (503)
 * until a replica takes over; the client refreshes the topology on its own.
 */
import { createCluster } from '@redis/client';
import { StorageUnavailableError } from '../errors.js';
import { CAS_SCRIPT, HIT_SCRIPT, LOAD_COUNTED_SCRIPT } from './scripts/index.js';
import { CLUSTER_LAYOUT } from './keys.js';
import { createScriptedStorage, type RedisCommands } from './redis-commands.js';
import { withDeadline } from './redis-transport.js';
import type { PipelinedCommand } from './types.js';
import type { StorageLog } from './redis.js';
import { type ClusterNodes, parseClusterNodes } from './cluster-nodes.js';
import { assertTtlOption } from './requests.js';
import type { StorageDriver } from './types.js';

export interface RedisClusterStorageOptions {
  /**
   * Some nodes of the cluster (REDIS_CLUSTER_NODES): `host:port` or `redis://` / `rediss://`
   * URLs, comma-separated or as a list; credentials and TLS of the first URL apply to every node.
   */
  nodes: string | readonly string[];
  /** Time to live of a pet's keys in ms, refreshed on every save. @default undefined (no TTL) */
  ttlMs?: number;
  /** Socket connect timeout in ms. @default 2000 */
  connectTimeoutMs?: number;
  /** Deadline in ms for a whole operation. @default connectTimeoutMs + 1000 */
  operationTimeoutMs?: number;
  /** Events kept per pet (XADD MAXLEN ~). @default EVENT_LOG_MAX (1000) */
  eventLogMax?: number;
  /** REDIS_WAIT_REPLICAS: replicas that must have each change before it is acknowledged. @default 0 */
  waitReplicas?: number;
  /** WAIT's timeout in ms. @default 1000 */
  waitTimeoutMs?: number;
  /** How soon after a node starts reconnecting the topology is read again. @default 500 */
  topologyRefreshMs?: number;
  log?: StorageLog;
}

/** The node-redis cluster client (not connected yet). */
function newCluster(nodes: ClusterNodes, connectTimeoutMs: number, topologyRefreshMs: number) {
  return createCluster({
    rootNodes: nodes.urls.map((url) => ({ url })),
    defaults: {
      ...(nodes.username === undefined ? {} : { username: nodes.username }),
      ...(nodes.password === undefined ? {} : { password: nodes.password }),
      socket: {
        connectTimeout: connectTimeoutMs,
        ...(nodes.tls ? { tls: true as const } : {}),
        // Capped, jittered backoff: a node that died is retried until the topology drops it. The
        // cap is short because each attempt is what makes node-redis read the topology again
        // (topologyRefreshOnReconnectionAttemptStrategy): a promoted replica is found within it.
        reconnectStrategy: (retries: number) => Math.min(500, 50 * 2 ** Math.min(retries, 6)) + Math.floor(Math.random() * 100),
      },
    },
    RESP: 2,
    useReplicas: false,
    // A node reconnecting usually means a failover: read the topology again soon (default 5 s).
    topologyRefreshOnReconnectionAttemptStrategy: topologyRefreshMs,
    // As redis.ts: no per-command timer; the operation deadline in `guard` bounds every operation.
    commandOptions: { timeout: 0 },
  });
}

type Cluster = ReturnType<typeof newCluster>;
type NodeClient = Awaited<ReturnType<Cluster['getNodeClientForKey']>>;

const SCRIPTS = [CAS_SCRIPT, HIT_SCRIPT, LOAD_COUNTED_SCRIPT];

const isRedirect = (error: unknown): boolean => error instanceof Error && /^(MOVED|ASK) /.test(error.message);
const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

export function createRedisClusterStorage(options: RedisClusterStorageOptions): StorageDriver {
  assertTtlOption(options.ttlMs);
  const { commands, target } = createRedisClusterCommands(options);
  return createScriptedStorage(commands, {
    name: 'RedisClusterStorage',
    label: 'redis cluster',
    target,
    ttlMs: options.ttlMs,
    blankReason: 'timed out',
    eventLogMax: options.eventLogMax,
    layout: CLUSTER_LAYOUT,
    splitCountedLoad: true,
    ...(options.waitReplicas === undefined ? {} : { waitReplicas: options.waitReplicas }),
    ...(options.waitTimeoutMs === undefined ? {} : { waitTimeoutMs: options.waitTimeoutMs }),
  });
}

/** The transport alone (the driver above; tests of `pipeline`; migrate-keys). */
export function createRedisClusterCommands(
  options: Pick<RedisClusterStorageOptions, 'nodes' | 'connectTimeoutMs' | 'operationTimeoutMs' | 'topologyRefreshMs' | 'log'>,
): { commands: RedisCommands & { pipeline: NonNullable<RedisCommands['pipeline']> }; target: string } {
  const { connectTimeoutMs = 2000, topologyRefreshMs = 500, log } = options;
  const operationTimeoutMs = options.operationTimeoutMs ?? connectTimeoutMs + 1000;
  const nodes = parseClusterNodes(options.nodes);
  const { target } = nodes;
  let cluster: Cluster | null = null;
  let connecting: Promise<Cluster> | null = null;
  /** The client being connected (discovery, script loading), until it is ready or abandoned. */
  let pending: Cluster | null = null;
  let closed = false;
  let trips = 0;
  let subscribed: Promise<void> | null = null;
  const listeners = new Set<(message: string) => void>();

  const connect = (): Promise<Cluster> => {
    if (closed) return Promise.reject(new StorageUnavailableError(`storage ${target} is closed`));
    if (cluster) return Promise.resolve(cluster);
    if (connecting) return connecting;
    const fresh = newCluster(nodes, connectTimeoutMs, topologyRefreshMs);
    pending = fresh;
    fresh.on('error', (error: unknown) => log?.warn({ err: error, storage: target }, 'redis cluster error'));
    const opening = fresh.connect().then(
      async () => {
        // Each master has its own script cache: load the scripts on every one now, so a first
        // save or hit on each node is not an EVALSHA, a NOSCRIPT and an EVAL (best effort: EVAL
        // on NOSCRIPT remains, e.g. on a replica promoted later).
        await Promise.all(
          masters(fresh).map(async (node) => {
            const client = await fresh.nodeClient(node);
            await Promise.all(SCRIPTS.map((script) => client.sendCommand(['SCRIPT', 'LOAD', script])));
          }),
        ).catch((error: unknown) => log?.warn({ err: error, storage: target }, 'redis cluster: loading the scripts failed'));
        if (closed || pending !== fresh) {
          fresh.destroy();
          throw new StorageUnavailableError(closed ? `storage ${target} is closed` : `redis cluster ${target}: connecting was abandoned`);
        }
        pending = null;
        cluster = fresh;
        return fresh;
      },
      (error: unknown) => {
        if (pending === fresh) pending = null;
        try {
          fresh.destroy();
        } catch {
          // never opened
        }
        throw error;
      },
    );
    connecting = opening;
    const settled = (): void => {
      if (connecting === opening) connecting = null;
    };
    opening.then(settled, settled);
    return opening;
  };

  /**
   * Gives up a connect still in progress (a node that accepts but never answers the discovery
   * would keep it pending forever): the next operation starts a fresh one.
   */
  const abandonConnect = (): void => {
    const stale = pending;
    pending = null;
    connecting = null;
    try {
      stale?.destroy();
    } catch {
      // never opened
    }
  };

  /** One keyed command, routed by `key` (node-redis follows MOVED/ASK): one round trip. */
  const keyed = async (key: string, args: readonly string[]): Promise<unknown> => {
    const active = await connect();
    trips += 1;
    return active.sendCommand(key, false, [...args]);
  };

  /** The masters, in address order (a stable order for SCAN's cursor). */
  const masters = (active: Cluster) => [...active.masters].sort((a, b) => a.address.localeCompare(b.address));

  /** The connection of `client`, with the connect timeout on a command that would wait for it. */
  const send = (client: NodeClient, args: readonly string[]): Promise<unknown> =>
    client.isReady ? client.sendCommand([...args]) : client.sendCommand([...args], { timeout: connectTimeoutMs });

  /** A command without a key: to the first master in address order. */
  const onFirstMaster = async (args: readonly string[]): Promise<unknown> => {
    const active = await connect();
    const first = masters(active)[0];
    if (!first) throw new StorageUnavailableError(`redis cluster ${target}: no master known`);
    trips += 1;
    return send(await active.nodeClient(first), args);
  };

  /**
   * SCAN over every master in turn. The cursor names the master and its own cursor
   * (`<address>|<cursor>`); '0' starts and ends the walk.
   */
  const scan = async (cursor: string, match: string, count: number): Promise<readonly [string, string[]]> => {
    const active = await connect();
    const all = masters(active);
    const split = cursor === '0' ? -1 : cursor.lastIndexOf('|');
    const address = split < 0 ? all[0]?.address : cursor.slice(0, split);
    const inner = split < 0 ? '0' : cursor.slice(split + 1);
    const at = all.findIndex((node) => node.address === address);
    const node = all[at];
    if (!node) throw new StorageUnavailableError(`redis cluster ${target}: master ${String(address)} is gone; list again`);
    trips += 1;
    const [next, keys] = (await send(await active.nodeClient(node), ['SCAN', inner, 'MATCH', match, 'COUNT', String(count)])) as [
      string,
      string[],
    ];
    if (String(next) !== '0') return [`${node.address}|${next}`, keys];
    const following = all[at + 1];
    return [following ? `${following.address}|0` : '0', keys];
  };

  /**
   * The commands grouped by the node of their first key, each group written at once on that
   * node's connection (one round trip per node, the nodes in parallel). A command answered
   * MOVED/ASK (the slot moved: a failover or a reshard) goes again through the routed path,
   * which follows the redirect; a WAIT right after it fails instead, since it waited on the old
   * node (the caller answers 503, "may be applied").
   */
  const pipeline = async (batch: readonly PipelinedCommand[]): Promise<unknown[]> => {
    const active = await connect();
    trips += 1;
    const replies: unknown[] = new Array(batch.length);
    const groups = new Map<NodeClient, number[]>();
    const first = masters(active)[0];
    for (const [index, command] of batch.entries()) {
      const key = command.keys[0];
      let client: NodeClient;
      try {
        if (key !== undefined) client = await active.getNodeClientForKey(key);
        else if (first) client = await active.nodeClient(first);
        else throw new StorageUnavailableError(`redis cluster ${target}: no master known`);
      } catch (error) {
        replies[index] = asError(error);
        continue;
      }
      const group = groups.get(client) ?? [];
      group.push(index);
      groups.set(client, group);
    }
    await Promise.all(
      [...groups].map(async ([client, indexes]) => {
        const answers = await Promise.all(
          indexes.map((index) => send(client, (batch[index] as PipelinedCommand).args).then((reply) => reply, asError)),
        );
        let previousRedirected = false;
        for (const [at, index] of indexes.entries()) {
          const command = batch[index] as PipelinedCommand;
          const answer = answers[at];
          if (command.args[0]?.toUpperCase() === 'WAIT' && previousRedirected) {
            replies[index] = new Error('WAIT not counted: the write before it was redirected to another node');
          } else if (isRedirect(answer) && command.keys[0] !== undefined) {
            replies[index] = await active.sendCommand(command.keys[0], false, [...command.args]).then((reply) => reply, asError);
          } else {
            replies[index] = answer;
          }
          previousRedirected = isRedirect(answer);
        }
      }),
    );
    return replies;
  };

  const guard = <T>(what: string, operation: () => Promise<T>): Promise<T> =>
    withDeadline(`redis cluster ${target}`, what, operationTimeoutMs, () => cluster === null && abandonConnect(), operation);

  const commands = {
    mget: (keys) => keyed(keys[0] as string, ['MGET', ...keys]),
    evalsha: (sha1, keys, args) => keyed(keys[0] as string, ['EVALSHA', sha1, String(keys.length), ...keys, ...args]),
    eval: (script, keys, args) => keyed(keys[0] as string, ['EVAL', script, String(keys.length), ...keys, ...args]),
    scan,
    del: (keys) => keyed(keys[0] as string, ['DEL', ...keys]),
    xrange: (key, start, count) => keyed(key, ['XRANGE', key, start, '+', 'COUNT', String(count)]),
    async subscribe(channel, onMessage) {
      const active = await connect();
      if (!subscribed) {
        const opening = active.subscribe(channel, (message: string) => {
          for (const listener of [...listeners]) {
            try {
              listener(message);
            } catch (error) {
              log?.warn({ err: error, storage: target }, 'an events listener threw');
            }
          }
        });
        subscribed = opening;
        opening.catch(() => {
          if (subscribed === opening) subscribed = null;
        });
        trips += 1;
      }
      await subscribed;
      const listener = (message: string): void => onMessage(message);
      listeners.add(listener);
      return async () => {
        listeners.delete(listener);
      };
    },
    /** Every master answers (a cluster with a master down is not ready). */
    async ping() {
      const active = await connect();
      trips += 1;
      return Promise.all(masters(active).map(async (node) => send(await active.nodeClient(node), ['PING'])));
    },
    call: (args, key) => (key === undefined ? onFirstMaster(args) : keyed(key, args)),
    pipeline,
    isNoScript: (error) => error instanceof Error && error.message.startsWith('NOSCRIPT'),
    guard,
    roundTrips: () => trips,

    async close(): Promise<void> {
      closed = true;
      listeners.clear();
      subscribed = null;
      abandonConnect(); // a connect in progress may never finish: not waited for
      const active = cluster;
      cluster = null;
      if (active) await active.close().catch(() => active.destroy());
    },
  } satisfies RedisCommands;
  return { commands, target };
}
