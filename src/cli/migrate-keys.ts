/**
 * `pet-life migrate-keys`: copy every pet from a plain Redis to a Redis Cluster (or back):
 * idempotent, resumable, verified; the source is only read. Exit 0 every pet copied and verified,
 * 1 some did not verify or a side failed, 2 usage.
 */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { type CliIo, Exit } from './context.js';

interface MigrateOptions {
  from?: string;
  fromCluster?: string;
  to?: string;
  toCluster?: string;
  json?: boolean;
}

export function registerMigrateKeys(program: Command, io: CliIo): void {
  program
    .command('migrate-keys')
    .description('copy every pet from a plain Redis to a Redis Cluster (or back): idempotent, resumable, verified; the source is only read')
    .option('--from <url>', 'source: a plain Redis (redis:// or rediss://)')
    .option('--from-cluster <nodes>', 'source: a Redis Cluster (host:port,…)')
    .option('--to <url>', 'target: a plain Redis')
    .option('--to-cluster <nodes>', 'target: a Redis Cluster')
    .option('--json', 'the report as JSON')
    .action(async (options: MigrateOptions) => {
      throw new Exit(await migrate(io, options));
    });
}

async function migrate(io: CliIo, options: MigrateOptions): Promise<number> {
  const sources = [options.from, options.fromCluster].filter((value) => value !== undefined);
  const targets = [options.to, options.toCluster].filter((value) => value !== undefined);
  if (sources.length !== 1 || targets.length !== 1 || (options.from !== undefined) === (options.to !== undefined)) {
    io.err('pet-life migrate-keys: give --from <redis url> --to-cluster <nodes>, or --from-cluster <nodes> --to <redis url>\n');
    return 2;
  }
  // Loaded here: @redis/client is no cost for the other commands.
  const { migrateKeys, openClusterKeyStore, openRedisKeyStore } = await import('../storage/migrate-keys.js');
  const open = (url: string | undefined, nodes: string | undefined) =>
    url === undefined ? openClusterKeyStore(nodes ?? '') : openRedisKeyStore(url);
  let from: Awaited<ReturnType<typeof open>> | undefined;
  let to: Awaited<ReturnType<typeof open>> | undefined;
  try {
    from = await open(options.from, options.fromCluster);
    to = await open(options.to, options.toCluster);
    const bar = io.errIsTty ? new cliProgress.SingleBar({ stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
    let started = false;
    const report = await migrateKeys(from, to, (done, total) => {
      if (!started) bar?.start(total, 0);
      started = true;
      bar?.update(done);
    });
    bar?.stop();
    if (options.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
    else {
      io.out(
        `${report.from} → ${report.to}: ${report.pets} pet(s): ${report.copied} copied, ${report.skipped} already there, ` +
          `${report.failed.length} failed; ${report.keys} key(s) written, ${report.globals} global record(s)\n`,
      );
      for (const failure of report.failed) io.out(`  ✗ ${failure.petId}: ${failure.reason}\n`);
    }
    return report.failed.length === 0 ? 0 : 1;
  } catch (error) {
    io.err(`pet-life migrate-keys: ${(error instanceof Error ? error.message : String(error)).slice(0, 300)}\n`);
    return 1;
  } finally {
    await Promise.all([from?.close().catch(() => undefined), to?.close().catch(() => undefined)]);
  }
}
