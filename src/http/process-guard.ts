/**
 * The server process's last line of defence (docs/design.md §14): an error thrown in a socket or
 * upgrade listener that no guard caught, or a promise rejected with no handler, is logged and
 * the process lives on. Every listener the server registers is guarded where it is registered
 * (upgrade-guard.ts); this catches what a library's own listeners let through, so that
 * one client's connection can never end every other client's.
 */
import type { Logger } from '../log.js';

let installed = false;

/** Installs the process-wide handlers once (the server entry calls it; tests of the app do not). */
export function guardProcess(log: Logger): void {
  if (installed) return;
  installed = true;
  process.on('uncaughtException', (error, origin) => {
    log.error({ err: error, origin }, 'uncaught exception: logged, the process lives on');
    log.flush();
  });
  process.on('unhandledRejection', (reason) => {
    log.error({ err: reason }, 'unhandled rejection: logged, the process lives on');
    log.flush();
  });
}
