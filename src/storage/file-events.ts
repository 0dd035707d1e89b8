/**
 * The file driver's event log (docs/design.md §9): a pet's events are JSON lines in
 * `<dir>/<petId>/events.<gen>.log`, committed by the pet.json that names the generation, its last
 * id, size and line count (EventLogState). A save appends under the pet's lock before it writes
 * pet.json, so a crash leaves lines past the committed size that no reader takes and the next
 * save cuts off; over twice the bound, the newest lines move to the next generation's file.
 */
import { open, readFile, readdir, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeAtomic } from './atomic-write.js';
import { compareEventIds, decodeEvent, encodeEvent, isEventId, nextEventId } from './events.js';
import { errorCode } from './file-io.js';
import type { PetEvent, PetEventDraft } from './types.js';

/** The committed state of a pet's event log, as pet.json holds it. */
export const EVENT_LOG_STATE_SCHEMA = z.object({
  /** The log file is `events.<gen>.log`; a compaction writes the next generation. */
  gen: z.number().int().nonnegative(),
  /** The id of the last committed event: lines after it (a crashed save's) are not events. */
  last: z.string().refine(isEventId),
  /** Committed bytes of the log file: a save first cuts the file back to this. */
  size: z.number().int().nonnegative(),
  /** Committed lines in the log file (up to 2 × the bound before a compaction). */
  count: z.number().int().nonnegative(),
});
export type EventLogState = z.infer<typeof EVENT_LOG_STATE_SCHEMA>;

/** `events.<gen>.log`: the pet's event log, JSON lines `{"id":…,"type":…,"pet_time":…,"at":…,"data":…}`. */
const EVENT_LOG_FILE = /^events\.(\d{1,15})\.log$/;
const eventLogFile = (gen: number): string => `events.${gen}.log`;

/**
 * Appends `drafts` to the pet's log in `folder` (holding its lock, before pet.json is written)
 * and returns the log state the new pet.json commits, the ids given, and the log files to
 * delete once it is committed. First it undoes what a crashed save left: a current log longer
 * than its committed size is cut back to it (saves only ever append to it), log files of other
 * generations are superseded. Over 2 × the bound, the newest `bound` committed lines and the
 * new ones go to a new generation's file instead (the old one stays intact until pet.json
 * names the new one). A pet without a committed log (new, expired, or a corrupt one replaced)
 * starts generation 0 afresh.
 */
export async function appendEvents(
  folder: string,
  committed: EventLogState | null,
  drafts: readonly PetEventDraft[],
  t: number,
  eventLogMax: number,
): Promise<{ events: EventLogState | null; eventIds: string[]; superseded: string[] }> {
  const entries = await readdir(folder).catch(() => [] as string[]);
  const logs = entries.filter((entry) => EVENT_LOG_FILE.test(entry));
  const current = committed === null ? null : eventLogFile(committed.gen);
  const superseded = logs.filter((entry) => entry !== current);
  let intact = false;
  if (committed !== null && current !== null && logs.includes(current)) {
    const size = (await stat(path.join(folder, current))).size;
    if (size > committed.size) await truncate(path.join(folder, current), committed.size);
    // Shorter than committed: cut by someone else; its ids carry on in a new generation.
    intact = size >= committed.size;
  }
  if (drafts.length === 0) {
    // Nothing to add: a log whose file is gone is no log.
    return { events: intact ? committed : null, eventIds: [], superseded };
  }
  const eventIds: string[] = [];
  let last = committed?.last ?? null;
  const lines = drafts.map((draft) => {
    const id = nextEventId(last, t);
    last = id;
    eventIds.push(id);
    return `{"id":${JSON.stringify(id)},${encodeEvent(draft).slice(1)}\n`;
  });
  const added = lines.join('');
  const addedBytes = Buffer.byteLength(added);
  const lastId = last as string;
  if (committed === null || current === null || !intact) {
    const gen = committed === null ? 0 : committed.gen + 1;
    const kept = lines.slice(-eventLogMax).join('');
    await writeAtomic(path.join(folder, eventLogFile(gen)), kept);
    return {
      events: { gen, last: lastId, size: Buffer.byteLength(kept), count: Math.min(lines.length, eventLogMax) },
      eventIds,
      superseded: superseded.filter((entry) => entry !== eventLogFile(gen)),
    };
  }
  if (committed.count + lines.length > 2 * eventLogMax) {
    const old = (await readFile(path.join(folder, current))).subarray(0, committed.size).toString('utf8');
    const all = [
      ...old
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => `${line}\n`),
      ...lines,
    ];
    const kept = all.slice(-eventLogMax);
    const content = kept.join('');
    const gen = committed.gen + 1;
    await writeAtomic(path.join(folder, eventLogFile(gen)), content);
    return {
      events: { gen, last: lastId, size: Buffer.byteLength(content), count: kept.length },
      eventIds,
      superseded: [...superseded, current].filter((entry) => entry !== eventLogFile(gen)),
    };
  }
  const handle = await open(path.join(folder, current), 'a');
  try {
    await handle.writeFile(added, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return {
    events: { gen: committed.gen, last: lastId, size: committed.size + addedBytes, count: committed.count + lines.length },
    eventIds,
    superseded,
  };
}

/**
 * The committed events of the pet in `folder`: those of the log its pet.json names (`committed`
 * reads that state), up to its last id, the newest `eventLogMax`.
 */
export async function readLog(
  petId: string,
  folder: string,
  eventLogMax: number,
  committed: () => Promise<EventLogState | null>,
): Promise<PetEvent[]> {
  for (let attempt = 1; ; attempt += 1) {
    const state = await committed();
    if (state === null) return [];
    const raw = await readFile(path.join(folder, eventLogFile(state.gen))).catch((error: unknown) => {
      if (errorCode(error) === 'ENOENT') return null;
      throw error;
    });
    // Superseded by a compaction between the two reads: read pet.json again.
    if (raw === null) {
      if (attempt >= 3) return [];
      continue;
    }
    const events: PetEvent[] = [];
    for (const line of raw.subarray(0, state.size).toString('utf8').split('\n')) {
      if (line === '') continue;
      const id = lineId(line);
      if (id === null || compareEventIds(id, state.last) > 0) continue;
      const event = decodeEvent(id, petId, line);
      if (event !== null) events.push({ ...event, id });
    }
    return events.slice(-eventLogMax);
  }
}

/** The id at the start of a log line (`{"id":"<ms>-<seq>",…`), or null. */
function lineId(line: string): string | null {
  const match = /^\{"id":"(\d{1,16}-\d{1,16})"/.exec(line);
  return match === null ? null : (match[1] as string);
}
