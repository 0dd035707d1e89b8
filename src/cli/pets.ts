/** `pet-life pets`: the stored pets as a table (or JSON): id, name, age, last change, version. */
import type { Command } from 'commander';
import { isPetLifeError } from '../errors.js';
import type { PetMeta } from '../storage/index.js';
import { type CliIo, inspectorOf, type Opened, withStorage } from './context.js';
import { formatDuration, table } from './format.js';
import { positiveInt } from './parse.js';

interface PetsOptions {
  limit: number;
  json?: boolean;
}

interface PetRow {
  id: string;
  name: string | null;
  created_at: string | null;
  age_ms: number | null;
  last_change: string | null;
  version: number | null;
  error?: string;
}

export function registerPets(program: Command, io: CliIo): void {
  program
    .command('pets')
    .description('list stored pets: id, name, age, last change')
    .option('--limit <n>', 'at most this many pets', positiveInt(100_000), 100)
    .option('--json', 'JSON instead of a table')
    .action(async (options: PetsOptions) => {
      await withStorage(io, (opened) => pets(io, opened, options));
    });
}

async function pets(io: CliIo, { storage }: Opened, options: PetsOptions): Promise<void> {
  const ids = await inspectorOf(storage).listPets({ limit: options.limit });
  const now = Date.now();
  const rows: PetRow[] = [];
  for (const id of ids) {
    try {
      const meta: PetMeta | null = (await storage.load(id))?.meta ?? null;
      if (meta === null) continue; // expired or removed since the listing
      const created = Date.parse(meta.created_at);
      rows.push({
        id,
        name: meta.pet_name,
        created_at: meta.created_at,
        age_ms: Number.isFinite(created) ? now - created : null,
        last_change: new Date(meta.wall_ms).toISOString(),
        version: meta.version,
      });
    } catch (error) {
      if (!isPetLifeError(error)) throw error;
      rows.push({ id, name: null, created_at: null, age_ms: null, last_change: null, version: null, error: error.message });
    }
  }
  if (options.json) {
    io.out(`${JSON.stringify({ storage: `${storage.name} (${storage.target})`, count: rows.length, pets: rows }, null, 2)}\n`);
    return;
  }
  if (rows.length === 0) {
    io.out(`no pets in ${storage.name} (${storage.target})\n`);
    return;
  }
  const lines = [
    ['ID', 'NAME', 'AGE', 'LAST CHANGE', 'VERSION'],
    ...rows.map((row) =>
      row.error === undefined
        ? [
            row.id,
            row.name ?? '',
            row.age_ms === null ? '?' : formatDuration(row.age_ms),
            `${row.last_change ?? ''} (${formatDuration(now - Date.parse(row.last_change ?? ''))} ago)`,
            String(row.version),
          ]
        : [row.id, '(corrupt)', '', row.error.slice(0, 60), ''],
    ),
  ];
  io.out(`${table(lines)}\n${rows.length} pet(s) in ${storage.name} (${storage.target})\n`);
}
