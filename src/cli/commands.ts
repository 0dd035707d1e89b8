/**
 * The CLI's commands: parse argv (node:util parseArgs), call the service, return JSON to print.
 * Pure of process state: main.ts supplies the service and does the printing and exit codes.
 */
import { createHash, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ACTIONS, LANGS, type Action, type Lang } from '../engine/index.js';
import { InvalidInputError, StorageUnavailableError } from '../errors.js';
import type { Config } from '../config.js';
import type { StorageDriver } from '../storage/index.js';
import {
  catchupOperation,
  createPetService,
  interactOperation,
  resetOperation,
  updateOperation,
  type Operation,
  type PetService,
  type PetUpdate,
  systemClock,
} from '../service/index.js';

export const USAGE = `Usage: pet-life <command> [options]

Commands:
  state <device_id>                     the pet, brought to now
  interact <device_id> <action>         action: ${ACTIONS.join(' | ')}
  catchup <device_id> <hours>           fast-forward the pet's clock (0 < hours ≤ 87600)
  reset <device_id>                     start the pet's life over
  update <device_id> [--name N] [--timezone TZ]
                                        rename the pet or move its timezone
  forecast <device_id> [--hours N] [--step M]
                                        the next N hours (1–168), nothing saved
  serve                                 run the HTTP server (same as npm start)

Operator commands (pet-life <command> --help for their options):
  pets [--limit N] [--json]             stored pets: id, name, age, last change
  inspect <device_id> [--json]          keys, sizes, TTLs, version, last instant, events, extras
  simulate <device_id> --days N [--save] [--progress] [--json]
                                        run the pet N days in memory: chart and summary;
                                        nothing written without --save
  doctor                                configuration, storage reachable and writable, scripts,
                                        clock; exit 0 ok, 78 config, 69 unreachable,
                                        73 not writable, 70 scripts, 75 clock

Options:
  --lang zh|en                          language of the texts (default zh)
  -h, --help                            this help

Storage and defaults come from the same environment as the server (STORAGE, REDIS_URL,
DATA_DIR, TIME_SCALE, PET_NAME, PET_TZ…; see README). Output is JSON on stdout.`;

export type Command =
  | { kind: 'help' }
  | { kind: 'serve' }
  | { kind: 'state'; deviceId: string; lang: Lang }
  | { kind: 'interact'; deviceId: string; action: Action; lang: Lang }
  | { kind: 'catchup'; deviceId: string; hours: number; lang: Lang }
  | { kind: 'reset'; deviceId: string; lang: Lang }
  | { kind: 'update'; deviceId: string; update: PetUpdate; lang: Lang }
  | { kind: 'forecast'; deviceId: string; hours: number; stepMinutes: number };

/** A command line that cannot be run; main prints the message and the usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function numberArg(raw: string | undefined, name: string): number {
  const value = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(value)) throw new UsageError(`${name} must be a number`);
  return value;
}

/** Parses argv (without node and the script) into a command. */
export function parseCommand(argv: readonly string[]): Command {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      lang: { type: 'string' },
      name: { type: 'string' },
      timezone: { type: 'string' },
      hours: { type: 'string' },
      step: { type: 'string' },
    },
  });
  const [command, deviceId, arg] = positionals;
  if (values.help || command === undefined || command === 'help') return { kind: 'help' };
  if (command === 'serve') return { kind: 'serve' };
  if (values.lang !== undefined && !(LANGS as readonly string[]).includes(values.lang)) {
    throw new UsageError(`--lang must be one of ${LANGS.join(', ')}`);
  }
  const lang = (values.lang ?? 'zh') as Lang;
  if (deviceId === undefined) throw new UsageError(`${command} needs a device_id`);
  switch (command) {
    case 'state':
      return { kind: 'state', deviceId, lang };
    case 'interact':
      if (arg === undefined || !(ACTIONS as readonly string[]).includes(arg)) {
        throw new UsageError(`interact needs an action: ${ACTIONS.join(', ')}`);
      }
      return { kind: 'interact', deviceId, action: arg as Action, lang };
    case 'catchup':
      return { kind: 'catchup', deviceId, hours: numberArg(arg ?? values.hours, 'hours'), lang };
    case 'reset':
      return { kind: 'reset', deviceId, lang };
    case 'update': {
      const update: PetUpdate = {};
      if (values.name !== undefined) update.pet_name = values.name;
      if (values.timezone !== undefined) update.timezone = values.timezone;
      if (update.pet_name === undefined && update.timezone === undefined) {
        throw new UsageError('update needs --name and/or --timezone');
      }
      return { kind: 'update', deviceId, update, lang };
    }
    case 'forecast':
      return {
        kind: 'forecast',
        deviceId,
        hours: values.hours === undefined ? 24 : numberArg(values.hours, '--hours'),
        stepMinutes: values.step === undefined ? 10 : numberArg(values.step, '--step'),
      };
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

/** A command on one pet (not help or serve). */
export type PetCommand = Exclude<Command, { kind: 'help' } | { kind: 'serve' }>;

/** Runs a pet command and returns what to print. Changes are idempotent and retried (see `change`). */
export async function runCommand(service: PetService, command: PetCommand): Promise<unknown> {
  switch (command.kind) {
    case 'state':
      return (await service.getState(command.deviceId, { lang: command.lang })).value;
    case 'interact':
      return change(service, command, interactOperation(command.action, command.lang));
    case 'catchup':
      return change(service, command, catchupOperation(command.hours, command.lang));
    case 'reset':
      return change(service, command, resetOperation(command.lang));
    case 'update':
      return change(service, command, updateOperation(command.update, command.lang));
    case 'forecast':
      return (await service.forecast(command.deviceId, { hours: command.hours, stepMinutes: command.stepMinutes })).value;
    default: {
      const never: never = command;
      throw new InvalidInputError('invalid_body', `unknown command ${JSON.stringify(never)}`);
    }
  }
}

/** Tries of a change whose storage was unreachable (the same Idempotency-Key each time). */
export const CHANGE_TRIES = 3;

/**
 * Runs a change with an Idempotency-Key of its own: a storage failure after the write was sent
 * leaves it unknown whether the change was applied, so it is tried again with the same key, which
 * applies it at most once and answers the first answer if it was (docs/reliability.md).
 */
async function change<T>(service: PetService, command: PetCommand, operation: Operation<T>, retryDelayMs = 250): Promise<T> {
  const key = randomUUID();
  const fingerprint = createHash('sha256').update(JSON.stringify(command)).digest('hex');
  for (let attempt = 1; ; attempt += 1) {
    try {
      const answer = await service.perform(command.deviceId, operation, {
        trusted: true,
        idempotency: { key, fingerprint },
        render: (value) => value,
      });
      return answer.value.body;
    } catch (error) {
      if (!(error instanceof StorageUnavailableError) || attempt >= CHANGE_TRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs * attempt));
    }
  }
}

/** The pet service the CLI's commands run on: the server's configuration, no limits or access checks (a trusted caller). */
export function cliPetService(config: Config, storage: StorageDriver): PetService {
  return createPetService({
    storage,
    clock: systemClock,
    timeScale: config.timeScale,
    defaultPetName: config.petName,
    defaultTimezone: config.petTimezone,
  });
}
