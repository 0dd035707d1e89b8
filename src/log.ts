/**
 * The logger factory: pino, JSON lines on stdout (or a given stream). One line per request is
 * written by src/http/request-log.ts; start-up, shutdown and unexpected errors log here too.
 * No redaction pass (a cost on every request): nothing logged carries a secret — storage
 * targets are redacted where they are built, and request headers are never logged.
 */
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number] & LevelWithSilent;

export interface LoggerOptions {
  /** Lowest level written. @default 'info' */
  level?: LogLevel;
  /** Where lines go. @default file descriptor `fd` */
  destination?: DestinationStream;
  /** File descriptor to write to. @default 1 (stdout) */
  fd?: 1 | 2;
  /**
   * Write each line at once (true), or buffer up to 8 KiB between writes (false: one write for
   * many request lines; sonic-boom needs the buffer below its 16 KiB maxWrite; call `flush()`
   * before exiting, as the Node server does on shutdown).
   * Functions that may freeze after the response (Vercel) must keep it on. @default true
   */
  sync?: boolean;
}

/** Creates the service's logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'pet-life' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err },
    },
    options.destination ??
      pino.destination(
        options.sync === false ? { dest: options.fd ?? 1, sync: false, minLength: 8192 } : { dest: options.fd ?? 1, sync: true },
      ),
  );
}

/** A logger that writes nothing (tests, CLI). */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
