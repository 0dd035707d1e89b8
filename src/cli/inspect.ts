/**
 * `pet-life inspect <id>`: a pet's keys, sizes, TTLs, version, last instant, events retained,
 * extra records and the dirty cache, as lines (or JSON). Reads only.
 */
import type { Command } from 'commander';
import { isPetLifeError } from '../errors.js';
import { EVENT_LOG_MAX, isExtraRecordKey, type StoredKey } from '../storage/index.js';
import { type CliIo, inspectorOf, type Opened, withStorage } from './context.js';
import { formatDuration, table } from './format.js';

/** What the seed's `Life` facade's dirty cache holds, as seen from this process. */
export const DIRTY_CACHE_NOTE =
  "none: the dirty cache (StateManager.dirtyCache) lives only inside the process that holds a Life (src/service/life.ts) with autoFlush off; the server's request path saves before it answers, and this process holds none";

export function registerInspect(program: Command, io: CliIo): void {
  program
    .command('inspect')
    .description("a pet's keys, sizes, TTLs, version, last instant, events retained, extras, dirty cache")
    .argument('<id>', 'device id')
    .option('--json', 'JSON instead of lines')
    .action(async (id: string, options: { json?: boolean }) => {
      await withStorage(io, (opened) => inspect(io, opened, id, options));
    });
}

async function inspect(io: CliIo, { storage }: Opened, id: string, options: { json?: boolean }): Promise<void> {
  const keys: StoredKey[] = await inspectorOf(storage).describePet(id);
  const record = await storage.load(id).catch((error: unknown) => {
    if (isPetLifeError(error) && error.code === 'corrupt_state') return { corrupt: error.message };
    throw error;
  });
  const events = keys.length === 0 ? [] : await storage.readEvents(id, { limit: EVENT_LOG_MAX });
  const extras = keys.filter((key) => isExtraRecordKey(key.key));
  const meta = record !== null && 'meta' in record ? record.meta : null;
  const report = {
    id,
    storage: `${storage.name} (${storage.target})`,
    found: keys.length > 0,
    ...(record !== null && 'corrupt' in record ? { corrupt: record.corrupt } : {}),
    version: meta?.version ?? null,
    name: meta?.pet_name ?? null,
    timezone: meta?.timezone ?? null,
    created_at: meta?.created_at ?? null,
    last_instant: meta === null ? null : { world: new Date(meta.world_ms).toISOString(), wall: new Date(meta.wall_ms).toISOString() },
    newborn: meta?.newborn === true,
    claimed: meta?.claim_hash !== undefined && meta !== null,
    keys,
    total_bytes: keys.reduce((sum, key) => sum + key.bytes, 0),
    events_retained: events.length,
    first_event: events[0] ? { id: events[0].id, type: events[0].type, at: events[0].at } : null,
    last_event: events.at(-1) ? { id: events.at(-1)?.id, type: events.at(-1)?.type, at: events.at(-1)?.at } : null,
    extras: extras.length,
    dirty_cache: { systems: [] as string[], note: DIRTY_CACHE_NOTE },
  };
  if (options.json) {
    io.out(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  if (!report.found) {
    io.out(`pet ${id}: nothing stored in ${report.storage}\n`);
    return;
  }
  const ttl = (key: StoredKey) => (key.ttlMs === null ? 'no TTL' : `TTL ${formatDuration(key.ttlMs)}`);
  const lines = [
    `pet ${id} in ${report.storage}`,
    ...(report.corrupt === undefined ? [] : [`  CORRUPT: ${report.corrupt}`]),
    `  name ${report.name ?? '?'}, timezone ${report.timezone ?? '?'}, version ${report.version ?? '?'}${report.newborn ? ', newborn' : ''}${report.claimed ? ', claimed' : ''}`,
    `  created ${report.created_at ?? '?'}`,
    `  last instant: world ${report.last_instant?.world ?? '?'}, wall ${report.last_instant?.wall ?? '?'}`,
    `  keys (${keys.length}, ${report.total_bytes} bytes):`,
    table(
      keys.map((key) => [
        `    ${key.key}`,
        key.type,
        `${key.bytes} B`,
        ttl(key),
        key.entries === undefined ? '' : `${key.entries} entries`,
      ]),
    ),
    `  events retained: ${events.length}${report.first_event ? ` (${report.first_event.id} ${report.first_event.type} … ${report.last_event?.id} ${report.last_event?.type})` : ''}`,
    `  idempotency/extra records: ${extras.length}`,
    `  dirty cache: ${DIRTY_CACHE_NOTE}`,
  ];
  io.out(`${lines.join('\n')}\n`);
}
