/**
 * The schedule's worker (docs/design.md §13): claims due pets from the storage's due set with a
 * lease, runs the notifier's pass over each, and gives each its next instant. On the Node server
 * every instance runs `start()` (SCHEDULER); on Vercel the cron route calls `drain()` with the
 * function's time. A saved event on a scheduled pet (a visit, a feeding) moves it to now, unless
 * it is under a claim already (its pass looks for newer events before it lets go).
 */
import type { StorageDriver } from '../../storage/index.js';
import type { Clock } from '../clock.js';
import type { Notifier } from './notifier.js';

export const DEFAULT_LEASE_MS = 60_000;
export const DEFAULT_TICK_MS = 1_000;
/** Pets claimed at once by one instance. */
const CLAIM_BATCH = 50;
/** Pets worked on at once by one instance. */
const CONCURRENCY = 8;

export interface SchedulerLog {
  warn(obj: object, msg: string): void;
}

export interface SchedulerOptions {
  storage: StorageDriver;
  notifier: Notifier;
  clock: Clock;
  leaseMs?: number;
  tickMs?: number;
  log?: SchedulerLog;
}

export interface DrainReport {
  claimed: number;
  sent: number;
  failed: number;
}

export interface Scheduler {
  /** Claims and works through what is due now, until nothing is due or `deadlineMs` (wall) passes. */
  drain(deadlineMs: number): Promise<DrainReport>;
  /** Runs drain every tick, and hastens scheduled pets that get new events (storage.watch). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const { storage, notifier, clock, log } = options;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const tickMs = options.tickMs ?? DEFAULT_TICK_MS;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> = Promise.resolve();
  let unwatch: (() => Promise<void>) | null = null;
  let stopped = false;

  const work = async (petId: string, leaseUntilMs: number, report: DrainReport): Promise<void> => {
    const due = storage.dueSet;
    if (due === undefined) return;
    try {
      const pass = await notifier.process(petId);
      report.sent += pass.sent;
      await due.release(petId, leaseUntilMs, pass.nextMs);
    } catch (error) {
      // The lease runs out and the pet is tried again (by this instance or another).
      report.failed += 1;
      log?.warn({ err: error, petId }, 'notification pass failed; the pet is retried when its lease ends');
    }
  };

  const drain = async (deadlineMs: number): Promise<DrainReport> => {
    const report: DrainReport = { claimed: 0, sent: 0, failed: 0 };
    const due = storage.dueSet;
    if (due === undefined) return report;
    while (!stopped && clock.nowMs() < deadlineMs) {
      const claims = await due.claim(clock.nowMs(), leaseMs, CLAIM_BATCH);
      if (claims.length === 0) break;
      report.claimed += claims.length;
      const queue = [...claims];
      await Promise.all(
        Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
          for (let claim = queue.shift(); claim !== undefined; claim = queue.shift()) {
            await work(claim.petId, claim.leaseUntilMs, report);
          }
        }),
      );
      if (claims.length < CLAIM_BATCH) break;
    }
    return report;
  };

  const loop = (): void => {
    if (stopped) return;
    running = drain(clock.nowMs() + tickMs * 10)
      .catch((error: unknown) => log?.warn({ err: error }, 'schedule tick failed; retried next tick'))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, tickMs);
      });
  };

  return {
    drain,
    async start() {
      stopped = false;
      if (storage.watch !== undefined && storage.dueSet !== undefined) {
        const due = storage.dueSet;
        unwatch = await storage.watch((petId) => {
          const nowMs = clock.nowMs();
          due.hasten(petId, nowMs, nowMs + leaseMs).catch(() => undefined);
        });
      }
      timer = setTimeout(loop, 0);
    },
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      await running;
      await unwatch?.();
    },
  };
}
