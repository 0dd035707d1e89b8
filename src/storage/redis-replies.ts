/**
 * Replies of the Redis body that are not a script's: XRANGE's entries as events, and any failure
 * as our error types (CorruptStateError for a corrupt stored meta, else StorageUnavailableError).
 */
import { CorruptStateError, PetLifeError, StorageUnavailableError } from '../errors.js';
import { decodeEvent } from './events.js';
import { isCorruptReply } from './scripts/index.js';
import type { PetEvent } from './types.js';

/** XRANGE's reply as events: [[id, ['e', json]], …]; entries that are not ours are skipped. */
export function parseXrange(petId: string, reply: unknown): PetEvent[] {
  if (!Array.isArray(reply)) throw new CorruptStateError(`unexpected XRANGE reply: ${JSON.stringify(reply).slice(0, 200)}`);
  const events: PetEvent[] = [];
  for (const entry of reply as unknown[]) {
    if (!Array.isArray(entry)) continue;
    const [id, fields] = entry as [unknown, unknown];
    if (typeof id !== 'string' || !Array.isArray(fields)) continue;
    const at = fields.indexOf('e');
    const raw: unknown = at >= 0 && at % 2 === 0 ? fields[at + 1] : undefined;
    const event = typeof raw === 'string' ? decodeEvent(id, petId, raw) : null;
    if (event !== null) events.push(event);
  }
  return events;
}

export function toStorageError(error: unknown, where: string, what: string, blankReason: string, petId?: string): Error {
  if (error instanceof PetLifeError) return error;
  // Replies can quote the whole command (Upstash does); keep messages short.
  const message = (error instanceof Error ? error.message : String(error)).slice(0, 300);
  if (isCorruptReply(message)) {
    return new CorruptStateError(`${where}: ${message}`, { cause: error, ...(petId === undefined ? {} : { petId }) });
  }
  return new StorageUnavailableError(`${where}: ${what} failed: ${message || blankReason}`, { cause: error });
}
