/**
 * The operator commands (issue #15): `pets`, `inspect`, `simulate`, `doctor`, parsed with
 * commander, on the storage the configuration selects (the server's). Each returns the lines to
 * print and an exit code; main.ts owns the process. Reads only, except `simulate --save` (one
 * catch-up through the service) and doctor's probe pet (written and removed again).
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import asciichart from 'asciichart';
import cliProgress from 'cli-progress';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { type Config, loadConfig } from '../config.js';
import { advance, vitalsOf } from '../engine/index.js';
import { ConfigError, isPetLifeError } from '../errors.js';
import { createLogger, createSilentLogger } from '../log.js';
import { createConfiguredStorage } from '../configured-storage.js';
import { bringPetToNow, hydratePet } from '../service/pets/live-pet.js';
import { EVENT_LOG_MAX, type PetMeta, type StorageDriver, type StoredKey } from '../storage/index.js';
import { cliPetService, runCommand } from './commands.js';

/** The operator commands, for main.ts's dispatch. */
export const OPS_COMMANDS = ['pets', 'inspect', 'simulate', 'doctor', 'migrate-keys'] as const;

/**
 * doctor's exit codes (sysexits.h), the first failing check's: 0 all good, 78 configuration
 * invalid (EX_CONFIG), 69 storage unreachable (EX_UNAVAILABLE), 73 storage not writable
 * (EX_CANTCREAT), 70 the Lua scripts not loaded after a save (EX_SOFTWARE), 75 clock not sane
 * (EX_TEMPFAIL: more than MAX_CLOCK_SKEW_MS from the storage's clock, or a wall clock outside
 * 2020–2200).
 */
export const DOCTOR_EXIT = { ok: 0, config: 78, unreachable: 69, notWritable: 73, scripts: 70, clock: 75 } as const;

/** The largest difference between this machine's clock and the storage's that doctor accepts. */
export const MAX_CLOCK_SKEW_MS = 5_000;

/** Longest simulation: the catch-up limit (87 600 hours). */
export const MAX_SIMULATE_DAYS = 3650;

/** What a command prints, and how the process exits. */
export interface OpsIo {
  out(text: string): void;
  err(text: string): void;
  /** stderr is a terminal (the progress bar shows on its own). */
  errIsTty: boolean;
  /** stdout is a terminal (the chart is coloured). */
  outIsTty: boolean;
  env: Record<string, string | undefined>;
}

/** The storage and configuration of one run. */
interface Opened {
  config: Config;
  storage: StorageDriver;
}

class Exit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit ${code}`);
    this.code = code;
  }
}

/** Runs an operator command line (argv without node and the script); resolves to the exit code. */
export async function runOps(argv: readonly string[], io: OpsIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof Exit) return error.code;
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
}

function positiveInt(max: number) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > max) throw new InvalidArgumentError(`must be an integer from 1 to ${max}`);
    return value;
  };
}

function buildProgram(io: OpsIo): Command {
  const program = new Command('pet-life')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .description('pet-life operator commands (same configuration as the server)');

  program
    .command('pets')
    .description('list stored pets: id, name, age, last change')
    .option('--limit <n>', 'at most this many pets', positiveInt(100_000), 100)
    .option('--json', 'JSON instead of a table')
    .action(async (options: { limit: number; json?: boolean }) => {
      await withStorage(io, (opened) => pets(io, opened, options));
    });

  program
    .command('inspect')
    .description("a pet's keys, sizes, TTLs, version, last instant, events retained, extras, dirty cache")
    .argument('<id>', 'device id')
    .option('--json', 'JSON instead of lines')
    .action(async (id: string, options: { json?: boolean }) => {
      await withStorage(io, (opened) => inspect(io, opened, id, options));
    });

  program
    .command('simulate')
    .description('run the stored pet forward N days in memory: chart and summary; nothing written without --save')
    .argument('<id>', 'device id')
    .requiredOption('--days <n>', `days to simulate (1–${MAX_SIMULATE_DAYS})`, positiveInt(MAX_SIMULATE_DAYS))
    .option('--save', 'then catch the stored pet up by N days through the service (written)')
    .option('--progress', 'show the progress bar even when stderr is not a terminal')
    .option('--width <n>', 'chart columns', positiveInt(400), 100)
    .option('--json', 'the summary and the sampled points as JSON instead of the chart')
    .action(async (id: string, options: SimulateOptions) => {
      await withStorage(io, (opened) => simulate(io, opened, id, options));
    });

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

  program
    .command('doctor')
    .description('check configuration, storage reachable and writable, scripts loaded, clock sane')
    .action(async () => {
      throw new Exit(await doctor(io));
    });
  return program;
}

/** Loads the configuration and the storage, runs `body`, closes the storage; maps errors to exit codes. */
async function withStorage(io: OpsIo, body: (opened: Opened) => Promise<void>): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(io.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`pet-life: ${error.message}\n`);
      throw new Exit(78);
    }
    throw error;
  }
  const log = config.logLevel === 'silent' ? createSilentLogger() : createLogger({ level: 'warn', fd: 2 });
  const storage = await createConfiguredStorage(config, log);
  try {
    await body({ config, storage });
  } catch (error) {
    if (isPetLifeError(error)) {
      io.err(`${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`);
      throw new Exit(1);
    }
    throw error;
  } finally {
    await storage.close();
  }
}

function inspectorOf(storage: StorageDriver) {
  if (storage.inspector === undefined) throw new Error(`${storage.name} cannot be inspected`);
  return storage.inspector;
}

/** 3d 4h, 5h 12m, 42s. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

/** Columns a cell takes on a terminal: wide (CJK, fullwidth) characters take two. */
function displayWidth(text: string): number {
  let width = 0;
  for (const char of text)
    width += /[\u1100-\u115F\u2E80-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]/u.test(char) ? 2 : 1;
  return width;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => displayWidth(row[column] ?? '')))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell + ' '.repeat((widths[column] ?? 0) - displayWidth(cell)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

// --- pets -----------------------------------------------------------------------------------

interface PetRow {
  id: string;
  name: string | null;
  created_at: string | null;
  age_ms: number | null;
  last_change: string | null;
  version: number | null;
  error?: string;
}

async function pets(io: OpsIo, { storage }: Opened, options: { limit: number; json?: boolean }): Promise<void> {
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

// --- inspect --------------------------------------------------------------------------------

/** What the seed's `Life` facade's dirty cache holds, as seen from this process. */
export const DIRTY_CACHE_NOTE =
  "none: the dirty cache (StateManager.dirtyCache) lives only inside the process that holds a Life (src/service/life.ts) with autoFlush off; the server's request path saves before it answers, and this process holds none";

async function inspect(io: OpsIo, { storage }: Opened, id: string, options: { json?: boolean }): Promise<void> {
  const keys: StoredKey[] = await inspectorOf(storage).describePet(id);
  const record = await storage.load(id).catch((error: unknown) => {
    if (isPetLifeError(error) && error.code === 'corrupt_state') return { corrupt: error.message };
    throw error;
  });
  const events = keys.length === 0 ? [] : await storage.readEvents(id, { limit: EVENT_LOG_MAX });
  const extras = keys.filter((key) => /(:|[/\\]extras[/\\])idem/.test(key.key) || /:[a-z][a-z0-9-]*:/.test(key.key.slice(5)));
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

// --- simulate -------------------------------------------------------------------------------

interface SimulateOptions {
  days: number;
  save?: boolean;
  progress?: boolean;
  width: number;
  json?: boolean;
}

export interface SimulationSummary {
  days: number;
  from: string;
  to: string;
  sleeps: number;
  wakes: number;
  hours_asleep: number;
  lowest_energy: number;
  highest_hunger: number;
  lowest_mood: number;
  end: { energy: number; hunger: number; mood: number };
}

const round1 = (value: number) => Math.round(value * 10) / 10;

async function simulate(io: OpsIo, { config, storage }: Opened, id: string, options: SimulateOptions): Promise<void> {
  const record = await storage.load(id);
  if (record === null) {
    io.err(`${JSON.stringify({ error: { code: 'not_found', message: `no pet ${id} stored in ${storage.name} (${storage.target})` } })}\n`);
    throw new Exit(1);
  }
  // The stored pet brought to now, as a read would see it — in memory only.
  const pet = hydratePet(id, record, Date.now(), { petName: config.petName, timezone: config.petTimezone });
  bringPetToNow(pet, Date.now(), config.timeScale);
  const totalTicks = options.days * 1440;
  const columns = Math.min(options.width, totalTicks);
  const step = Math.ceil(totalTicks / columns);
  const showBar = options.progress === true || (io.errIsTty && options.days >= 30);
  const bar = showBar
    ? new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: 'simulating [{bar}] {percentage}% | day {value}/{total}',
          noTTYOutput: !io.errIsTty,
          notTTYSchedule: 1000,
          hideCursor: io.errIsTty,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(options.days, 0);

  let state = pet.state;
  const startTick = state.tick;
  const endTick = startTick + totalTicks;
  const energy: number[] = [];
  const hunger: number[] = [];
  const mood: number[] = [];
  const asleep: number[] = [];
  const summary = { sleeps: 0, wakes: 0, minutesAsleep: 0, lowestEnergy: 100, highestHunger: 0, lowestMood: 100 };
  const first = vitalsOf(state);
  energy.push(first.energy);
  hunger.push(first.hunger);
  mood.push(first.mood);
  asleep.push(first.asleep ? 1 : 0);
  for (let tick = startTick; tick < endTick; ) {
    const to = Math.min(endTick, tick + step);
    const { state: next, report } = advance(state, to);
    state = next;
    summary.sleeps += report.sleeps;
    summary.wakes += report.wakes;
    summary.minutesAsleep += report.minutesAsleep;
    summary.lowestEnergy = Math.min(summary.lowestEnergy, report.lowestEnergy);
    summary.highestHunger = Math.max(summary.highestHunger, report.highestHunger);
    summary.lowestMood = Math.min(summary.lowestMood, report.lowestMood);
    const vitals = vitalsOf(state);
    energy.push(vitals.energy);
    hunger.push(vitals.hunger);
    mood.push(vitals.mood);
    asleep.push(report.minutesAsleep / (to - tick));
    tick = to;
    if (bar) {
      bar.update(Math.floor((tick - startTick) / 1440));
      await new Promise((resolve) => setImmediate(resolve)); // lets the bar redraw
    }
  }
  bar?.update(options.days);
  bar?.stop();

  const end = vitalsOf(state);
  const result: SimulationSummary = {
    days: options.days,
    from: new Date(startTick * 60_000).toISOString(),
    to: new Date(endTick * 60_000).toISOString(),
    sleeps: summary.sleeps,
    wakes: summary.wakes,
    hours_asleep: round1(summary.minutesAsleep / 60),
    lowest_energy: round1(summary.lowestEnergy),
    highest_hunger: round1(summary.highestHunger),
    lowest_mood: round1(summary.lowestMood),
    end: { energy: round1(end.energy), hunger: round1(end.hunger), mood: round1(end.mood) },
  };

  if (options.json) {
    const points = energy.map((_, index) => ({
      tick: Math.min(endTick, startTick + index * step),
      energy: round1(energy[index] ?? 0),
      hunger: round1(hunger[index] ?? 0),
      mood: round1(mood[index] ?? 0),
      asleep_fraction: round1(asleep[index] ?? 0),
    }));
    io.out(`${JSON.stringify({ id, summary: result, step_minutes: step, points, saved: options.save === true }, null, 2)}\n`);
  } else {
    io.out(`${renderChart(id, result, step, { energy, hunger, mood, asleep }, io.outIsTty)}\n`);
  }

  if (options.save) {
    const service = cliPetService(config, storage);
    await runCommand(service, { kind: 'catchup', deviceId: id, hours: options.days * 24, lang: 'en' });
    io.out(`saved: pet ${id} caught up by ${options.days} day(s) (${options.days * 24} hours)\n`);
  } else if (!options.json) {
    io.out('nothing written (add --save to catch the stored pet up by these days)\n');
  }
}

/** The chart (energy, hunger, mood on 0–100, asciichart) with a sleep row under it, then the summary. */
export function renderChart(
  id: string,
  summary: SimulationSummary,
  step: number,
  series: { energy: number[]; hunger: number[]; mood: number[]; asleep: number[] },
  colour: boolean,
): string {
  const labelWidth = 5;
  const colours = colour ? [asciichart.green, asciichart.red, asciichart.blue] : undefined;
  const chart = asciichart.plot([series.energy, series.hunger, series.mood], {
    height: 12,
    min: 0,
    max: 100,
    format: (value: number) => value.toFixed(0).padStart(labelWidth),
    ...(colours === undefined ? {} : { colors: colours }),
  });
  // The first point sits on the axis column: label + one space.
  const sleepRow = `${'sleep'.padStart(labelWidth)} ${series.asleep.map((f) => (f >= 0.5 ? 'z' : f > 0 ? '.' : ' ')).join('')}`.trimEnd();
  const legend = colour
    ? `${asciichart.green}── energy${asciichart.reset}  ${asciichart.red}── hunger${asciichart.reset}  ${asciichart.blue}── mood${asciichart.reset}  z asleep most of a column, . partly`
    : 'energy, hunger, mood (0–100; uncoloured: the three lines overlap)  z asleep most of a column, . partly';
  return [
    `pet ${id}: ${summary.days} day(s) from ${summary.from} to ${summary.to}, one column = ${formatDuration(step * 60_000)}`,
    chart,
    sleepRow,
    legend,
    '',
    `sleeps ${summary.sleeps}, wakes ${summary.wakes}, hours asleep ${summary.hours_asleep} (${round1(summary.hours_asleep / summary.days)} a day)`,
    `lowest energy ${summary.lowest_energy}, highest hunger ${summary.highest_hunger}, lowest mood ${summary.lowest_mood}`,
    `at the end: energy ${summary.end.energy}, hunger ${summary.end.hunger}, mood ${summary.end.mood}`,
  ].join('\n');
}

// --- doctor ---------------------------------------------------------------------------------

/** Runs the checks in order, printing one line each; returns the first failure's exit code (0: all good). */
export async function doctor(io: OpsIo): Promise<number> {
  const line = (ok: boolean | null, text: string) => io.out(`${ok === null ? '-' : ok ? '✓' : '✗'} ${text}\n`);
  let config: Config;
  try {
    config = loadConfig(io.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    line(false, `configuration: ${error.message}`);
    io.out(`doctor: configuration invalid (exit ${DOCTOR_EXIT.config})\n`);
    return DOCTOR_EXIT.config;
  }
  const storage = await createConfiguredStorage(config, createSilentLogger());
  line(true, `configuration: valid; storage ${storage.name} (${storage.target}), TIME_SCALE ${config.timeScale}`);
  let failed: number = DOCTOR_EXIT.ok;
  const fail = (code: number) => {
    if (failed === DOCTOR_EXIT.ok) failed = code;
  };
  try {
    // Reachable
    const started = performance.now();
    try {
      await storage.ping();
      line(true, `storage reachable: ping ${Math.round(performance.now() - started)} ms`);
    } catch (error) {
      line(false, `storage unreachable: ${error instanceof Error ? error.message : String(error)}`);
      io.out(`doctor: storage unreachable (exit ${DOCTOR_EXIT.unreachable})\n`);
      return DOCTOR_EXIT.unreachable;
    }

    // Writable: a probe pet (a valid device id no client is likely to pick), saved with a short TTL, read back, removed.
    const probe = `pet-life-doctor-${randomBytes(6).toString('hex')}`;
    const now = Date.now();
    let probeMtime: number | null = null;
    try {
      const result = await storage.replace(probe, {
        meta: {
          version: 1,
          pet_name: 'doctor probe',
          timezone: 'UTC',
          created_at: new Date(now).toISOString(),
          world_ms: now,
          wall_ms: now,
        },
        systems: {},
        ttlMs: 60_000,
      });
      const back = await storage.load(probe);
      if (back?.meta?.pet_name !== 'doctor probe') throw new Error('the probe pet did not read back');
      if (storage.name === 'FileStorage') {
        probeMtime = (await stat(path.join(config.dataDir, probe, 'pet.json')).catch(() => null))?.mtimeMs ?? null;
      }
      await storage.remove(probe);
      if ((await storage.load(probe)) !== null) throw new Error('the probe pet was not removed');
      line(true, `storage writable: probe pet ${probe} saved (version ${result.version}), read back and removed`);
    } catch (error) {
      await storage.remove(probe).catch(() => undefined);
      line(false, `storage not writable: ${error instanceof Error ? error.message : String(error)}`);
      fail(DOCTOR_EXIT.notWritable);
    }

    // Scripts
    const scripts = storage.inspector?.scripts;
    if (scripts === undefined) {
      line(null, `scripts: none to load (${storage.name} runs no Lua)`);
    } else {
      try {
        const status = await scripts();
        const cas = status.find((script) => script.name === 'CAS_SCRIPT');
        const text = status.map((script) => `${script.name} ${script.loaded ? 'loaded' : 'not loaded yet'}`).join(', ');
        if (failed === DOCTOR_EXIT.ok && cas?.loaded !== true) {
          line(false, `scripts: ${text} — CAS_SCRIPT should be cached after the probe save`);
          fail(DOCTOR_EXIT.scripts);
        } else {
          line(true, `scripts: ${text} (SCRIPT EXISTS; a script not loaded yet is sent once with EVAL on first use)`);
        }
      } catch (error) {
        line(false, `scripts: ${error instanceof Error ? error.message : String(error)}`);
        fail(DOCTOR_EXIT.scripts);
      }
    }

    // Clock
    const local = Date.now();
    if (local < Date.UTC(2020, 0, 1) || local > Date.UTC(2200, 0, 1)) {
      line(false, `clock: this machine's clock reads ${new Date(local).toISOString()}`);
      fail(DOCTOR_EXIT.clock);
    } else {
      let remote: number | null = null;
      let source = '';
      try {
        if (storage.inspector?.serverTimeMs) {
          const before = Date.now();
          remote = await storage.inspector.serverTimeMs();
          remote += (Date.now() - before) / 2; // half the round trip
          source = 'Redis TIME';
        } else if (probeMtime !== null) {
          remote = probeMtime;
          source = "the data folder's file time";
        }
      } catch (error) {
        line(false, `clock: cannot read the storage's clock: ${error instanceof Error ? error.message : String(error)}`);
        fail(DOCTOR_EXIT.clock);
      }
      const reference = source === 'Redis TIME' ? Date.now() : now;
      if (remote === null) {
        if (source === '') line(true, `clock: ${new Date(local).toISOString()} (${storage.name} has no clock of its own to compare)`);
      } else {
        const skew = Math.round(reference - remote);
        const ok = Math.abs(skew) <= MAX_CLOCK_SKEW_MS;
        line(
          ok,
          `clock: ${new Date(local).toISOString()}, ${skew >= 0 ? '+' : ''}${skew} ms from ${source} (at most ±${MAX_CLOCK_SKEW_MS} ms)`,
        );
        if (!ok) fail(DOCTOR_EXIT.clock);
      }
    }
  } finally {
    await storage.close();
  }
  io.out(failed === DOCTOR_EXIT.ok ? 'doctor: all checks passed\n' : `doctor: a check failed (exit ${failed})\n`);
  return failed;
}

/** `pet-life <ops command> …` from main.ts. */
export function opsIo(): OpsIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    errIsTty: process.stderr.isTTY === true,
    outIsTty: process.stdout.isTTY === true,
    env: process.env,
  };
}

interface MigrateOptions {
  from?: string;
  fromCluster?: string;
  to?: string;
  toCluster?: string;
  json?: boolean;
}

/** migrate-keys: 0 every pet copied and verified, 1 some did not verify or a side failed, 2 usage. */
async function migrate(io: OpsIo, options: MigrateOptions): Promise<number> {
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
