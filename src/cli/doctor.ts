/**
 * `pet-life doctor`: configuration valid, storage reachable and writable (a probe pet saved, read
 * back and removed), scripts loaded, clock sane; one line per check, the first failure's exit code.
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { type Config, loadConfig } from '../config.js';
import { createConfiguredStorage } from '../configured-storage.js';
import { ConfigError } from '../errors.js';
import { createSilentLogger } from '../log.js';
import { type CliIo, Exit } from './context.js';

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

export function registerDoctor(program: Command, io: CliIo): void {
  program
    .command('doctor')
    .description('check configuration, storage reachable and writable, scripts loaded, clock sane')
    .action(async () => {
      throw new Exit(await doctor(io));
    });
}

/** Runs the checks in order, printing one line each; returns the first failure's exit code (0: all good). */
export async function doctor(io: CliIo): Promise<number> {
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
