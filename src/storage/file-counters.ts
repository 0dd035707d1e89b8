/**
 * The `hit` counters of the file driver: `<dir>/~<purpose>/<subject>.json` holding
 * {"count","expires_at"}, the subject %-encoded (IPv6 has ':'), each counted under its own lock
 * file and the driver's keyed queue, and the sweep that deletes expired ones a few at a time
 * after hits (a counter nobody hits again would otherwise stay forever).
 */
import type { Dir } from 'node:fs';
import { mkdir, opendir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { removeStaleTemps, writeAtomic } from './atomic-write.js';
import { ignoreMissing, encodeSubject, readOptional, unavailableOnIoError } from './file-io.js';
import { type LockOptions, withFileLock } from './file-lock.js';
import type { KeyedQueue } from './keyed-queue.js';
import { encodeValue, globalKey } from './keys.js';
import { assertWindow } from './requests.js';
import type { HitResult } from './types.js';

/** Counter files a hit earns the sweep a look at (a hit creates one at most)… */
const SWEEP_PER_HIT = 4;
/** …spent in batches of at least this many… */
const SWEEP_MIN_BATCH = 32;
/** …and at most this many (credit beyond it is dropped: a burst of hits never means a long sweep). */
const SWEEP_MAX_BATCH = 256;

/** True when a stored counter's window is over (or it cannot be read: a hit would restart it anyway). */
function isExpiredCounter(raw: string | null, t: number): boolean {
  if (raw === null) return false;
  try {
    const stored = JSON.parse(raw) as { expires_at?: unknown } | null;
    return !(typeof stored?.expires_at === 'number' && stored.expires_at > t);
  } catch {
    return true;
  }
}

/** Where the counter of a hit lives (purpose, subject and window validated as `hit` does). */
export interface Counter {
  purpose: string;
  folder: string;
  /** The %-encoded subject: the counter is `<name>.json`, its lock `<name>.lock`. */
  name: string;
  windowMs: number;
  /** Units this hit adds. */
  weight: number;
}

/** What the counters share with the driver that owns them. */
export interface FileCountersContext {
  /** A path inside the driver's root; throws for one that would resolve outside it. */
  inside: (...segments: string[]) => string;
  /** The driver's keyed queue (counters are keyed by their base path, pets by their folder). */
  queue: KeyedQueue;
  lockOptions: (label: string) => LockOptions;
  now: () => number;
}

export interface FileCounters {
  /** The counter of a hit; validates purpose, subject and window first. */
  counterOf(purpose: string, subject: string, windowMs: number, weight?: number): Counter;
  /** Counts one hit, under the counter's lock (the caller has counted the round trip). */
  countHit(counter: Counter): Promise<HitResult>;
  /** Stops sweeping: waits for the sweep in flight, then closes the folder cursors. */
  close(): Promise<void>;
}

export function createFileCounters({ inside, queue, lockOptions, now }: FileCountersContext): FileCounters {
  const counterOf = (purpose: string, subject: string, windowMs: number, weight = 1): Counter => {
    globalKey(purpose, subject); // validates both
    assertWindow(windowMs);
    const name = encodeSubject(subject);
    inside(`~${purpose}`, name); // stays inside root
    return { purpose, folder: inside(`~${purpose}`), name, windowMs, weight };
  };

  /** Counts one hit, under the counter's lock (the caller has counted the round trip). */
  const countHit = (counter: Counter): Promise<HitResult> => {
    const base = path.join(counter.folder, counter.name);
    return queue
      .run(base, () =>
        unavailableOnIoError(() =>
          withFileLock(`${base}.lock`, lockOptions(`the ${counter.purpose} counter`), async (lock) => {
            await mkdir(counter.folder, { recursive: true });
            // A crash may have left temp files of this counter; look only after a takeover (the
            // folder holds one counter per client address, too many to list on every hit).
            if (lock.tookOver) await removeStaleTemps(counter.folder, `${counter.name}.json`, `${counter.name}.lock`);
            const raw = await readOptional(`${base}.json`);
            const t = now();
            let stored: { count: number; expires_at: number } | null = null;
            try {
              stored = raw === null ? null : (JSON.parse(raw) as { count: number; expires_at: number });
            } catch {
              stored = null; // a corrupt counter restarts its window
            }
            const next =
              stored !== null && stored.expires_at > t
                ? { count: stored.count + counter.weight, expires_at: stored.expires_at }
                : { count: counter.weight, expires_at: t + counter.windowMs };
            await writeAtomic(`${base}.json`, encodeValue(next));
            return { count: next.count, resetInMs: Math.max(0, next.expires_at - t) };
          }),
        ),
      )
      .finally(() => afterHit(counter.folder));
  };

  /**
   * Expired counters are deleted a few at a time, after hits: each hit earns SWEEP_PER_HIT looks
   * at a counter file (at most SWEEP_MAX_BATCH saved up), and once SWEEP_MIN_BATCH are earned a
   * sweep spends them on one counter folder (round robin over the folders, each read on from where
   * the last look stopped). So a hit costs a few small reads at most, and files are looked at
   * faster than hits can create them (one per hit at most). Sweeps run in the background, one at
   * a time; close() waits for the one in flight.
   */
  const counterFolders = new Set<string>();
  const cursors = new Map<string, Dir>();
  let credit = 0;
  let sweepTurn = 0;
  let sweeping: Promise<void> | null = null;
  let closed = false;
  const afterHit = (folder: string): void => {
    counterFolders.add(folder);
    credit = Math.min(SWEEP_MAX_BATCH, credit + SWEEP_PER_HIT);
    if (credit < SWEEP_MIN_BATCH || sweeping !== null || closed) return;
    const budget = credit;
    credit = 0;
    const next = [...counterFolders][sweepTurn++ % counterFolders.size] as string;
    sweeping = sweepCounters(next, budget)
      .catch(async () => {
        // Best effort: start that folder afresh next time.
        await cursors
          .get(next)
          ?.close()
          .catch(() => undefined);
        cursors.delete(next);
      })
      .finally(() => {
        sweeping = null;
      });
  };

  const sweepCounters = async (folder: string, budget: number): Promise<void> => {
    let cursor = cursors.get(folder);
    if (cursor === undefined) {
      cursor = await opendir(folder);
      cursors.set(folder, cursor);
    }
    let wrapped = false;
    for (let looked = 0; looked < budget; looked += 1) {
      const entry = await cursor.read();
      if (entry === null) {
        cursors.delete(folder);
        await cursor.close();
        // Entries deleted while a listing runs may hide others from it: spend what is left of the
        // budget on one fresh listing rather than drop it.
        if (wrapped) return;
        wrapped = true;
        cursor = await opendir(folder);
        cursors.set(folder, cursor);
        continue;
      }
      if (!entry.isFile() || !entry.name.endsWith('.json')) continue;
      const base = path.join(folder, entry.name.slice(0, -'.json'.length));
      if (!isExpiredCounter(await readOptional(`${base}.json`), now())) continue;
      // Deleted under its lock, and only if still expired: a hit may have restarted it meanwhile.
      await queue.run(base, () =>
        withFileLock(`${base}.lock`, lockOptions('a counter'), async () => {
          if (isExpiredCounter(await readOptional(`${base}.json`), now())) await unlink(`${base}.json`).catch(ignoreMissing);
        }),
      );
    }
  };

  return {
    counterOf,
    countHit,
    async close(): Promise<void> {
      closed = true;
      await sweeping;
      for (const cursor of cursors.values()) await cursor.close().catch(() => undefined);
      cursors.clear();
    },
  };
}
