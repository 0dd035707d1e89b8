/**
 * What every command gets: where it prints (CliIo), how it ends with an exit code (Exit), and the
 * configured storage, opened and closed around its body with the CLI's error mapping (78 bad
 * configuration, 1 a refused request with its error JSON on stderr).
 */
import { type Config, loadConfig } from '../config.js';
import { createConfiguredStorage } from '../configured-storage.js';
import { ConfigError, isPetLifeError } from '../errors.js';
import { createLogger, createSilentLogger } from '../log.js';
import type { StorageDriver } from '../storage/index.js';

/** What a command prints, and what it knows of the process. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** stderr is a terminal (the progress bar shows on its own). */
  errIsTty: boolean;
  /** stdout is a terminal (the chart is coloured). */
  outIsTty: boolean;
  env: Record<string, string | undefined>;
}

/** The real process's streams and environment. */
export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    errIsTty: process.stderr.isTTY === true,
    outIsTty: process.stdout.isTTY === true,
    env: process.env,
  };
}

/** Ends a command with this exit code (thrown out of an action, caught by runCli). */
export class Exit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit ${code}`);
    this.code = code;
  }
}

/** The storage and configuration of one run. */
export interface Opened {
  config: Config;
  storage: StorageDriver;
}

/** The error JSON a refused command prints on stderr. */
export function errorLine(code: string, message: string): string {
  return `${JSON.stringify({ error: { code, message } })}\n`;
}

/** Loads the configuration and the storage, runs `body`, closes the storage; maps errors to exit codes. */
export async function withStorage(io: CliIo, body: (opened: Opened) => Promise<void>): Promise<void> {
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
  // Only warnings reach stderr; stdout stays what the command prints.
  const log = config.logLevel === 'silent' ? createSilentLogger() : createLogger({ level: 'warn', fd: 2 });
  const storage = await createConfiguredStorage(config, log);
  try {
    await body({ config, storage });
  } catch (error) {
    if (isPetLifeError(error)) {
      io.err(errorLine(error.code, error.message));
      throw new Exit(1);
    }
    throw error;
  } finally {
    await storage.close();
  }
}

/** The driver's inspector (every driver in src/storage has one). */
export function inspectorOf(storage: StorageDriver) {
  if (storage.inspector === undefined) throw new Error(`${storage.name} cannot be inspected`);
  return storage.inspector;
}
