// Request path: stored answers for Idempotency-Key retries.
/**
 * Idempotent retries (docs/reliability.md; IETF httpapi idempotency-key draft, as Stripe does it). The first
 * answer to a request with an `Idempotency-Key` is stored under the pet as
 * `life_<petId>:idem:<sha256 hex of the key>` = {fingerprint, status, body}, written in the same
 * compare-and-set as the change it answers (so either both exist or neither) and kept 24 h. A
 * repeat reads it in its one load: same fingerprint → the stored answer, nothing applied again;
 * another fingerprint (body, method or route) → IdempotencyConflictError. Concurrent repeats: the
 * compare-and-set loser reloads, finds the record and replays it.
 *
 * Stored compactly: a record longer than COMPRESS_ABOVE characters is stored as `z` + base64 of
 * its JSON raw-deflated with a preset dictionary, when that is shorter (a state document answer
 * shrinks to under a third: see docs/storage.md); plain JSON (which starts with `{`) is still read, so records written before
 * stay valid. Storage keeps at most MAX_EXTRAS_PER_PET records per pet.
 */
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { CorruptStateError } from '../../errors.js';

/** How long a key is remembered. */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

/** What a request brings for idempotency: its key and a fingerprint of what it asks. */
export interface IdempotencyRequest {
  /** The Idempotency-Key as sent (validated by the caller). */
  key: string;
  /** Hash of method, route and canonical body: equal for a true repeat. */
  fingerprint: string;
}

/** The first answer to a key, as stored. */
export interface StoredAnswer<B = unknown> {
  fingerprint: string;
  /** HTTP status of the first answer. */
  status: number;
  /** Its JSON body. */
  body: B;
}

/** `idem:<sha256 hex>`: the extra record name of a key (the key itself never reaches storage). */
export function idempotencyRecordName(key: string): string {
  return `idem:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** Records up to this many characters are stored as plain JSON (compressing them gains little). */
export const COMPRESS_ABOVE = 256;
/** The first character of a record compressed with DICTIONARY_Z (JSON never starts with it). */
const COMPRESSED = 'z';
/** A compressed record inflating beyond this is corrupt (bodies are a few KB): no inflate bomb. */
const MAX_INFLATED_BYTES = 1 << 20;
/**
 * Preset deflate dictionary of `z` records: the skeleton of a state document answer (keys, the
 * life box's frame). It makes a typical record far smaller than deflate alone (docs/storage.md).
 * NEVER EDIT IT: stored records need it to be read. A better one takes a new prefix character.
 */
const DICTIONARY_Z = Buffer.from(
  '{"fingerprint":"","status":200,"body":{"device_id":"","pet_name":"小糖","internal_state":{"rhythm":' +
    '{"internal_phase":0.,"external_phase":0.,"phase_difference":0.,"last_calibration":17,"last_update":17},' +
    '"energy":{"energy":,"consumption_rate":,"recovery_rate":0,"circadian_value":0.,"sleep_pressure":0.,' +
    '"asleep":false,"last_update":17},"satiety":{"satiety":0.,"hunger":,"last_update":17},"mood":{"mood":,' +
    '"bond":0,"neglected":false,"last_interaction":17,"woken_by_play":null,"last_event":{"kind":"fed","at":17},' +
    '"last_update":17}},"expression":{"pulse_rate":,"pulse_symbol":"●●●●●","pulse_intensity":"","color_hex":"#",' +
    '"color_name":"","feeling":"","life_box":"┌───────────────────────┐\\n│ (^_^)       :00 │\\n│ 能量   ' +
    '██████████░░░░░░░░ │\\n│ 饥饿   ██░░░░░░░░ │\\n│ 心情   ██████░░░░ │\\n│ 脉搏   ●●●●● 次/分  │\\n' +
    '└───────────────────────┘"},"simplified_state":{"energy":,"hunger":,"mood":,"current_state":"idle"},' +
    '"stats":{"feed":,"play":0,"greet":0},"pet_time":"20-T:00:00.000Z","timezone":"UTC","last_updated":' +
    '"20-T:00:00.000Z","created_at":"20-T:00:00.000Z","version":,"interaction":{"action":"feed","event":"fed"}}}',
  'utf8',
);

export function encodeStoredAnswer(answer: StoredAnswer): string {
  const json = JSON.stringify({ fingerprint: answer.fingerprint, status: answer.status, body: answer.body });
  if (json.length <= COMPRESS_ABOVE) return json;
  const deflated = deflateRawSync(Buffer.from(json, 'utf8'), { dictionary: DICTIONARY_Z, level: 9 });
  const compressed = COMPRESSED + deflated.toString('base64');
  return compressed.length < json.length ? compressed : json;
}

/**
 * Parses a stored answer (null when absent). `B` is the body type of the route that wrote it: the
 * fingerprint covers the route, so a record that matches was written by the same route.
 */
export function decodeStoredAnswer<B>(name: string, raw: string | null | undefined): StoredAnswer<B> | null {
  if (raw === null || raw === undefined) return null;
  let value: unknown;
  try {
    const json = raw.startsWith(COMPRESSED)
      ? inflateRawSync(Buffer.from(raw.slice(1), 'base64'), { dictionary: DICTIONARY_Z, maxOutputLength: MAX_INFLATED_BYTES }).toString(
          'utf8',
        )
      : raw;
    value = JSON.parse(json);
  } catch (error) {
    throw new CorruptStateError(`idempotency record ${name} is neither JSON nor compressed JSON`, { cause: error });
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    !('fingerprint' in value) ||
    typeof value.fingerprint !== 'string' ||
    !('status' in value) ||
    typeof value.status !== 'number' ||
    !('body' in value)
  ) {
    throw new CorruptStateError(`idempotency record ${name} lacks fingerprint, status or body`);
  }
  return { fingerprint: value.fingerprint, status: value.status, body: value.body as B };
}
