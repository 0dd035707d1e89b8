/**
 * The whole command line, parsed by commander: the commands on one pet (pet-commands.ts), `serve`,
 * and the operator commands pets | inspect | simulate | doctor | migrate-keys (one file each).
 * runCli resolves to the exit code; main.ts owns the process.
 */
import { Command, CommanderError } from 'commander';
import { type CliIo, Exit } from './context.js';
import { registerDoctor } from './doctor.js';
import { registerInspect } from './inspect.js';
import { registerMigrateKeys } from './migrate-keys.js';
import { registerPetCommands } from './pet-commands.js';
import { registerPets } from './pets.js';
import { registerSimulate } from './simulate.js';

/** What `serve` resolves to: the server keeps the process running until a signal. */
export const KEEP_RUNNING = -1;

const HELP_AFTER = `
Exit codes: 0 ok, 1 refused or failed (error JSON on stderr), 2 usage, 78 bad configuration;
doctor: 78 config, 69 unreachable, 73 not writable, 70 scripts, 75 clock.

Storage and defaults come from the same environment as the server (STORAGE, REDIS_URL, DATA_DIR,
TIME_SCALE, PET_NAME, PET_TZ…; see docs/configuration.md). The commands on one pet print JSON on
stdout; pet-life <command> --help shows a command's options.`;

function buildProgram(io: CliIo): Command {
  // Settings first: subcommands copy them when created.
  const program = new Command('pet-life')
    .usage('<command> [options]')
    .description('pet-life: one pet through the service, the HTTP server, and the operator commands (same configuration as the server)')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .addHelpText('after', HELP_AFTER);

  registerPetCommands(program, io);
  program
    .command('serve')
    .description('run the HTTP server (same as npm start)')
    .action(async () => {
      // Loaded here: the HTTP app is no cost for the other commands.
      const { runMain } = await import('../main.js');
      await runMain(io.env);
      throw new Exit(KEEP_RUNNING);
    });
  registerPets(program, io);
  registerInspect(program, io);
  registerSimulate(program, io);
  registerDoctor(program, io);
  registerMigrateKeys(program, io);
  return program;
}

/** Runs a command line (argv without node and the script); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv.length === 0 ? ['--help'] : [...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof Exit) return error.code;
    // Help asked for: 0; any other parse error (commander printed it and the usage): 2.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
}
