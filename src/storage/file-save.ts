/**
 * One save or replace of a pet in the file driver, under the pet's lock: the compare-and-set on
 * pet.json's version, the extras joined through the save token (file-extras.ts), the events
 * appended (file-events.ts), and pet.json written atomically last — the commit point.
 */
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import { PetLifeError } from '../errors.js';
import { removeStaleTemps, writeAtomic } from './atomic-write.js';
import { appendEvents, type EventLogState } from './file-events.js';
import { EXTRAS_DIR, promote, pruneExtras, settleExtras, writePendingExtras } from './file-extras.js';
import { readOptional } from './file-io.js';
import { lenientEvents, lenientToken, PET_FILE, type PetFile, readPetFile } from './file-pet-json.js';
import { encodeValue } from './keys.js';
import { saveTtl, type WriteRequest } from './requests.js';
import type { SaveResult } from './types.js';

/** The lock file in a pet's folder, left alone by the save's tidying up. */
export const LOCK_FILE = '.lock';

/** What a save needs of its driver's options. */
export interface SaveContext {
  now: () => number;
  /** The driver's time to live of a pet, ms (a save's own ttlMs wins). */
  ttlMs: number | undefined;
  eventLogMax: number;
}

/**
 * A save (`expectedVersion` a number) or a replace ('any') of the pet in `folder`, holding its
 * lock. The extras join the new pet.json through a random save token:
 *   1. pending extras of the previous save (its token is in the old pet.json) are promoted
 *      (renamed to final), other pending ones (of a save that crashed before its pet.json) are
 *      deleted;
 *   2. this save's extras are written as pending files named with a new token, fsynced;
 *   3. pet.json is written (atomically) with that token: from here on the extras count;
 *   4. they are promoted, and expired, superseded and over-the-bound extras are deleted.
 * A crash before 3 leaves the old pet and extras that nobody accepts (deleted at the next
 * save); after 3, the new pet and extras that readers accept (promoted at the next save).
 */
export async function saveLocked(context: SaveContext, petId: string, folder: string, request: WriteRequest): Promise<SaveResult> {
  const { now, ttlMs, eventLogMax } = context;
  const readPet = (id: string, at: string): Promise<PetFile | null> => readPetFile(id, at, now());
  await removeStaleTemps(folder, PET_FILE, LOCK_FILE, [EXTRAS_DIR]);
  const replace = request.expectedVersion === 'any';
  let old: PetFile | null;
  let oldToken: string | null;
  let corruptLog: EventLogState | null = null;
  try {
    old = await readPet(petId, folder);
    oldToken = old?.extras_token ?? null;
  } catch (error) {
    // A replace overwrites a corrupt pet; the extras its last save wrote still count.
    if (!replace || !(error instanceof PetLifeError)) throw error;
    old = null;
    const raw = await readOptional(path.join(folder, PET_FILE));
    oldToken = lenientToken(raw);
    corruptLog = lenientEvents(raw);
  }
  if (!replace) {
    const current = old?.meta?.version ?? 0;
    if (current !== request.expectedVersion) return { ok: false, version: current };
  }
  const t = now();
  const extrasDir = path.join(folder, EXTRAS_DIR);
  const finals = await settleExtras(extrasDir, oldToken, old?.extras ?? {}, t);
  const extras = request.extras ?? [];
  const { token, pending } = await writePendingExtras(extrasDir, extras, t);
  const committedLog = old === null ? corruptLog : (old.events ?? null);
  const drafts = request.events ?? [];
  // A save without events of a stored pet leaves its log as it is (no I/O): debris of a crashed
  // append is cut off by the next save that appends; a new, expired or corrupt pet's old logs go.
  const { events, eventIds, superseded } =
    drafts.length === 0 && old !== null
      ? { events: committedLog, eventIds: [], superseded: [] }
      : await appendEvents(folder, committedLog, drafts, t, eventLogMax);
  const pttl = saveTtl(request, ttlMs);
  const next: PetFile = {
    meta: request.meta,
    systems: replace ? { ...request.systems } : { ...(old?.systems ?? {}), ...request.systems },
    expires_at: pttl === undefined ? null : t + pttl,
    extras_token: token,
    // Absent for a pet without a log: pet.json stays as it was before event logs.
    ...(events === null ? {} : { events }),
  };
  await writeAtomic(path.join(folder, PET_FILE), encodeValue(next));
  for (const file of superseded) await unlink(path.join(folder, file)).catch(() => undefined);
  // Committed. What follows only tidies up: a failure must not report the save as failed.
  try {
    for (const extra of pending) finals.push(await promote(extrasDir, extra));
    await pruneExtras(extrasDir, finals, t);
  } catch {
    // The next save under the lock finishes it (pending files with the current token count).
  }
  return { ok: true, version: request.meta.version, keys: 1 + Object.keys(request.systems).length + extras.length, eventIds };
}
