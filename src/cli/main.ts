#!/usr/bin/env node
/**
 * `pet-life` — the command line: state | interact | catchup | reset | update | forecast on one
 * pet, printing JSON, or `serve` to run the HTTP server; and the operator commands pets | inspect |
 * simulate | doctor (ops.ts, parsed with commander). Same configuration as the server.
 * Exit codes: 0 ok, 1 refused or failed (error JSON on stderr), 2 usage, 78 bad configuration;
 * doctor's own: see DOCTOR_EXIT in ops.ts.
 */
import { type Config, loadConfig } from '../config.js';
import { ConfigError, isPetLifeError } from '../errors.js';
import { createLogger, createSilentLogger } from '../log.js';
import { createConfiguredStorage, runMain } from '../main.js';
import { type Command, cliPetService, parseCommand, runCommand, USAGE, UsageError } from './commands.js';
import { OPS_COMMANDS, opsIo, runOps } from './ops.js';

async function cli(argv: readonly string[]): Promise<number> {
  if ((OPS_COMMANDS as readonly string[]).includes(argv[0] ?? '')) return runOps(argv, opsIo());
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`pet-life: ${message}\n\n${USAGE}\n`);
    return 2;
  }
  if (command.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command.kind === 'serve') {
    await runMain(process.env);
    return -1; // keeps running until a signal
  }

  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`pet-life: ${error.message}\n`);
      return 78;
    }
    throw error;
  }
  // Only warnings reach stderr; stdout stays pure JSON.
  const log = config.logLevel === 'silent' ? createSilentLogger() : createLogger({ level: 'warn', fd: 2 });
  const storage = await createConfiguredStorage(config, log);
  try {
    const service = cliPetService(config, storage);
    const result = await runCommand(service, command);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (error) {
    if (isPetLifeError(error) || error instanceof UsageError) {
      const code = isPetLifeError(error) ? error.code : 'usage';
      process.stderr.write(`${JSON.stringify({ error: { code, message: error.message } })}\n`);
      return 1;
    }
    throw error;
  } finally {
    await storage.close();
  }
}

const code = await cli(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
