/**
 * The throwaway Redis Cluster (3 masters + 3 replicas) that `npm test` (scripts/test.sh, through
 * scripts/redis-cluster.sh) starts next to the single redis-server, and private clusters for tests
 * that break one (the failover test). In CI a missing cluster is a failure, never a skip; locally
 * the cluster suites are skipped with a message when TEST_REDIS_CLUSTER_NODES is unset.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createCluster } from '@redis/client';
import { describe } from 'vitest';

export const testClusterNodes: string | undefined = process.env['TEST_REDIS_CLUSTER_NODES'];

if (!testClusterNodes && process.env['CI'] === 'true') {
  throw new Error('TEST_REDIS_CLUSTER_NODES is not set: run the suite through `npm test`, which starts a Redis Cluster');
}

/** `describe` when a test cluster is available, `describe.skip` (with a note) otherwise. */
export const describeWithCluster: typeof describe = testClusterNodes
  ? describe
  : (((name: string, ...rest: unknown[]) => {
      console.warn(`skipping "${name}": TEST_REDIS_CLUSTER_NODES is not set (run npm test)`);
      return (describe.skip as (...args: unknown[]) => unknown)(name, ...rest);
    }) as unknown as typeof describe);

const newAdmin = (nodes: string) => createCluster({ rootNodes: nodes.split(',').map((node) => ({ url: `redis://${node}` })), RESP: 2 });
export type ClusterAdmin = ReturnType<typeof newAdmin>;

/** A plain node-redis cluster client, for reading and writing behind the driver's back. */
export async function connectClusterAdmin(nodes = testClusterNodes ?? ''): Promise<ClusterAdmin> {
  const admin = newAdmin(nodes);
  admin.on('error', () => undefined);
  await admin.connect();
  return admin;
}

/** Every key on every master matching `pattern`. */
export async function scanCluster(admin: ClusterAdmin, pattern = '*'): Promise<string[]> {
  const keys: string[] = [];
  for (const master of admin.masters) {
    const client = await admin.nodeClient(master);
    let cursor = '0';
    do {
      const [next, batch] = (await client.sendCommand(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000'])) as [string, string[]];
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
  }
  return keys.sort();
}

const script = path.resolve(import.meta.dirname, '../../scripts/redis-cluster.sh');
const run = promisify(execFile);

export interface PrivateCluster {
  /** `127.0.0.1:p1,…,127.0.0.1:p6` */
  readonly nodes: string;
  /** The pid of the node on `port` (read from its pid file). */
  pidOf(port: number): Promise<number>;
  /** Starts the node on `port` again (after a kill): it rejoins the cluster. */
  restart(port: number): Promise<void>;
  /**
   * Waits until the cluster has failed over the killed node on `port` (its line says `fail`) and
   * covers every slot again (cluster_state:ok), asking a node that is up; the ms it took.
   */
  waitForFailover(port: number, timeoutMs?: number): Promise<number>;
  /** Stops every node (by pid) and removes the files. */
  stop(): Promise<void>;
}

/** Starts a cluster of this test's own (scripts/redis-cluster.sh) on free loopback ports. */
export async function startPrivateCluster(): Promise<PrivateCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pet-life-cluster-'));
  const stop = async (): Promise<void> => {
    await run('bash', [script, 'stop', dir]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  // Nodes outlive the script that started them: kill them if the test process ends without stop().
  const killOnExit = (): void => {
    for (const entry of existsSync(dir) ? readdirSync(dir) : []) {
      const pidFile = path.join(dir, entry, 'pid');
      if (!existsSync(pidFile)) continue;
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  try {
    const { stdout } = await run('bash', [script, 'start', dir], { timeout: 60_000 });
    const nodes = stdout.trim().split('\n').at(-1) ?? '';
    const ports = nodes.split(',').map((node) => Number(node.split(':')[1]));
    const cli = process.env['REDIS_CLI_BIN'] ?? 'redis-cli';
    return {
      nodes,
      pidOf: async (port) => Number((await run('cat', [path.join(dir, String(port), 'pid')])).stdout.trim()),
      restart: async (port) => {
        await run('bash', [script, 'restart', dir, String(port)], { timeout: 30_000 });
      },
      async waitForFailover(port, timeoutMs = 20_000) {
        const started = Date.now();
        const witness = String(ports.find((other) => other !== port));
        for (;;) {
          const ask = (args: string[]) =>
            run(cli, ['-p', witness, ...args]).then(
              (out) => out.stdout,
              () => '',
            );
          const [nodesOut, info] = await Promise.all([ask(['cluster', 'nodes']), ask(['cluster', 'info'])]);
          const line = nodesOut.split('\n').find((entry) => entry.includes(`:${port}@`)) ?? '';
          // `fail`, not `fail?` (only suspected): the node is failed over once its slots are
          // served again, and it no longer lists any (a slot range is field 9 on).
          const fields = line.split(' ');
          const failed = (fields[2] ?? '').split(',').includes('fail') && fields.length <= 8;
          if (failed && info.includes('cluster_state:ok')) return Date.now() - started;
          if (Date.now() - started > timeoutMs) throw new Error(`no failover of ${port} within ${timeoutMs} ms: ${line}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
