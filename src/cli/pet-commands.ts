/**
 * The commands on one pet — state, interact, catchup, reset, update, forecast — run through the
 * pet service as a trusted caller, printing its answer as JSON; changes carry an Idempotency-Key
 * of their own and are retried with it (see `change`).
 */
import { createHash, randomUUID } from 'node:crypto';
import { Argument, type Command, Option } from 'commander';
import { ACTIONS, LANGS, type Action, type Lang } from '../engine/index.js';
import { InvalidInputError, StorageUnavailableError } from '../errors.js';
import type { Config } from '../config.js';
import { MAX_CATCHUP_HOURS, MAX_FORECAST_HOURS } from '../rules.js';
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
import { type CliIo, withStorage } from './context.js';
import { finiteNumber, lang } from './parse.js';

/** A command on one pet, as runCommand takes it. */
export type PetCommand =
  | { kind: 'state'; deviceId: string; lang: Lang }
  | { kind: 'interact'; deviceId: string; action: Action; lang: Lang }
  | { kind: 'catchup'; deviceId: string; hours: number; lang: Lang }
  | { kind: 'reset'; deviceId: string; lang: Lang }
  | { kind: 'update'; deviceId: string; update: PetUpdate; lang: Lang }
  | { kind: 'forecast'; deviceId: string; hours: number; stepMinutes: number };

const LANG_HELP = `language of the texts: ${LANGS.join(' | ')}`;

/** Registers state, interact, catchup, reset, update and forecast: each prints the service's answer as JSON. */
export function registerPetCommands(program: Command, io: CliIo): void {
  const run = (command: PetCommand) =>
    withStorage(io, async ({ config, storage }) => {
      const result = await runCommand(cliPetService(config, storage), command);
      io.out(`${JSON.stringify(result, null, 2)}\n`);
    });
  const langOption = () => new Option('--lang <lang>', LANG_HELP).argParser(lang).default('zh');

  program
    .command('state')
    .description('the pet, brought to now')
    .argument('<device_id>')
    .addOption(langOption())
    .action((deviceId: string, options: { lang: Lang }) => run({ kind: 'state', deviceId, lang: options.lang }));

  program
    .command('interact')
    .description(`act on the pet: ${ACTIONS.join(' | ')}`)
    .argument('<device_id>')
    .addArgument(new Argument('<action>').choices(ACTIONS))
    .addOption(langOption())
    .action((deviceId: string, action: Action, options: { lang: Lang }) => run({ kind: 'interact', deviceId, action, lang: options.lang }));

  program
    .command('catchup')
    .description(`fast-forward the pet's clock (0 < hours ≤ ${MAX_CATCHUP_HOURS})`)
    .argument('<device_id>')
    .argument('[hours]', 'hours to fast-forward', finiteNumber)
    .option('--hours <n>', 'the same, as an option', finiteNumber)
    .addOption(langOption())
    .action((deviceId: string, hours: number | undefined, options: { hours?: number; lang: Lang }, command: Command) => {
      const given = hours ?? options.hours;
      if (given === undefined) command.error('error: catchup needs the hours', { exitCode: 2 });
      return run({ kind: 'catchup', deviceId, hours: given, lang: options.lang });
    });

  program
    .command('reset')
    .description("start the pet's life over")
    .argument('<device_id>')
    .addOption(langOption())
    .action((deviceId: string, options: { lang: Lang }) => run({ kind: 'reset', deviceId, lang: options.lang }));

  program
    .command('update')
    .description('rename the pet or move its timezone')
    .argument('<device_id>')
    .option('--name <name>', 'the new pet name')
    .option('--timezone <tz>', 'the new IANA timezone')
    .addOption(langOption())
    .action((deviceId: string, options: { name?: string; timezone?: string; lang: Lang }, command: Command) => {
      const update: PetUpdate = {};
      if (options.name !== undefined) update.pet_name = options.name;
      if (options.timezone !== undefined) update.timezone = options.timezone;
      if (update.pet_name === undefined && update.timezone === undefined)
        command.error('error: update needs --name and/or --timezone', { exitCode: 2 });
      return run({ kind: 'update', deviceId, update, lang: options.lang });
    });

  program
    .command('forecast')
    .description(`the next N hours (1–${MAX_FORECAST_HOURS}), nothing saved`)
    .argument('<device_id>')
    .option('--hours <n>', 'hours ahead', finiteNumber, 24)
    .option('--step <m>', 'minutes between points', finiteNumber, 10)
    .addOption(langOption())
    .action((deviceId: string, options: { hours: number; step: number }) =>
      run({ kind: 'forecast', deviceId, hours: options.hours, stepMinutes: options.step }),
    );
}

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
