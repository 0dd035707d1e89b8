#!/usr/bin/env node
/**
 * `pet-life` — the command line (program.ts): state | interact | catchup | reset | update |
 * forecast on one pet, printing JSON; `serve` to run the HTTP server; and the operator commands
 * pets | inspect | simulate | doctor | migrate-keys. Same configuration as the server.
 */
import { processIo } from './context.js';
import { KEEP_RUNNING, runCli } from './program.js';

const code = await runCli(process.argv.slice(2), processIo());
if (code !== KEEP_RUNNING) process.exitCode = code;
