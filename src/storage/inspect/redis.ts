/**
 * What the Redis body shows an operator: pets listed by SCAN, a pet's keys described, the server's
 * clock and which scripts it holds. One SCAN loop (scanAll), also used by remove.
 */
import { CorruptStateError } from '../../errors.js';
import type { KeyLayout } from '../keys.js';
import { petKeys } from '../keys.js';
import type { RedisCommands } from '../redis-transport.js';
import { CAS_SHA1, HIT_SHA1, LOAD_COUNTED_SHA1, SNAPSHOT_LOAD_SHA1 } from '../scripts/index.js';
import type { ScriptStatus, StorageInspector, StoredKey } from '../types.js';

export interface InspectorDeps {
  commands: Pick<RedisCommands, 'scan' | 'call'>;
  /** Runs an operation within the transport's limits, mapping its failures (the body's `run`). */
  run: <T>(what: string, operation: () => Promise<T>, petId?: string) => Promise<T>;
  layout: KeyLayout;
  label: string;
  target: string;
  /** SNAPSHOT_LOAD_SCRIPT is run only with snapshots. */
  snapshotsOn: boolean;
}

/** Every key matching `pattern` (SCAN to the end, or until `limit` keys are found). */
export async function scanAll(
  commands: Pick<RedisCommands, 'scan'>,
  pattern: string,
  limit = Number.POSITIVE_INFINITY,
  count = 500,
): Promise<string[]> {
  const found = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await commands.scan(cursor, pattern, count);
    cursor = String(next);
    for (const key of batch) found.add(key);
  } while (cursor !== '0' && found.size < limit);
  return [...found];
}

/** The operator's view (pet-life inspect / scripts) of a Redis store. */
export function createRedisInspector(deps: InspectorDeps): StorageInspector {
  const { commands, run, layout, label, target, snapshotsOn } = deps;
  return {
    async listPets(listOptions = {}): Promise<string[]> {
      const limit = listOptions.limit ?? 100;
      const keys = await run('list pets', () => scanAll(commands, layout.metaPattern, limit));
      const ids = keys
        .map((key) => layout.petIdOfMeta(key))
        .filter((id): id is string => id !== null)
        .sort();
      return ids.slice(0, limit);
    },

    async describePet(petId: string): Promise<StoredKey[]> {
      const { pattern } = petKeys(petId, layout);
      return run(
        'inspect',
        async () => {
          const keys = (await scanAll(commands, pattern)).sort();
          const described: StoredKey[] = [];
          for (const key of keys) {
            const type = String(await commands.call(['TYPE', key], key));
            if (type === 'none') continue; // expired between SCAN and TYPE
            const pttl = Number(await commands.call(['PTTL', key], key));
            let bytes = 0;
            let entries: number | undefined;
            if (type === 'string') bytes = Number(await commands.call(['STRLEN', key], key));
            else {
              bytes = Number(await commands.call(['MEMORY', 'USAGE', key], key).catch(() => 0)) || 0;
              if (type === 'stream') entries = Number(await commands.call(['XLEN', key], key));
              if (type === 'zset') entries = Number(await commands.call(['ZCARD', key], key));
            }
            described.push({ key, type, bytes, ttlMs: pttl >= 0 ? pttl : null, ...(entries === undefined ? {} : { entries }) });
          }
          return described;
        },
        petId,
      );
    },

    async serverTimeMs(): Promise<number> {
      const reply = await run('time', () => commands.call(['TIME']));
      if (!Array.isArray(reply) || reply.length < 2) throw new CorruptStateError(`${label} ${target}: unexpected TIME reply`);
      return Number(reply[0]) * 1000 + Math.floor(Number(reply[1]) / 1000);
    },

    async scripts(): Promise<ScriptStatus[]> {
      const known = [
        { name: 'CAS_SCRIPT', sha1: CAS_SHA1 },
        { name: 'HIT_SCRIPT', sha1: HIT_SHA1 },
        { name: 'LOAD_COUNTED_SCRIPT', sha1: LOAD_COUNTED_SHA1 },
        // Run only with snapshots (Redis over TCP with SNAPSHOTS on).
        ...(!snapshotsOn ? [] : [{ name: 'SNAPSHOT_LOAD_SCRIPT', sha1: SNAPSHOT_LOAD_SHA1 }]),
      ];
      const reply = await run('script exists', () => commands.call(['SCRIPT', 'EXISTS', ...known.map((script) => script.sha1)]));
      if (!Array.isArray(reply)) throw new CorruptStateError(`${label} ${target}: unexpected SCRIPT EXISTS reply`);
      return known.map((script, index) => ({ ...script, loaded: Number(reply[index]) === 1 }));
    },
  };
}
