/**
 * Key layout, exactly as the seed: `life_<petId>:<system>` for each system, `life_<petId>:meta`,
 * other per-pet records as `life_<petId>:<name>` (e.g. `life_dev-1:idem:3fa2…`), and records tied
 * to no single pet as `life_~<purpose>:<subject>` (`~` never occurs in a pet id, so the two
 * families cannot collide). Every key starts with `life_`: one SCAN pattern, one ACL rule.
 * Ids and names are validated here, before any key or path is built. Pure: no I/O.
 */
import { SYSTEM_NAMES, type SystemName } from '../engine/types.js';
import { CorruptStateError, InvalidInputError } from '../errors.js';
import { DEVICE_ID_MESSAGE, DEVICE_ID_PATTERN } from '../rules.js';
import { META_SCHEMA, SYSTEM_SCHEMAS, firstIssue } from './schemas.js';
import type { JsonObject, PetMeta, PetRecord } from './types.js';

/** Prefix of every key the service writes. */
export const KEY_PREFIX = 'life_';

/** The channel every save that appends events PUBLISHes the pet id on (Redis and Upstash), in the CAS script. */
export const EVENTS_CHANNEL = `${KEY_PREFIX}~events`;

/** Pet ids are device ids (rules.ts): never `:`, `~`, `/`, `.` or a glob character. */
export const PET_ID_PATTERN = DEVICE_ID_PATTERN;

/**
 * Extra record names under a pet: a lowercase kind and one or more `:`-separated parts, e.g.
 * `idem:<hex>`. The mandatory `:` keeps them apart from system names and `meta`.
 */
export const EXTRA_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}(?::[A-Za-z0-9_.-]{1,128}){1,4}$/;

/**
 * At most this many extra records (idempotency records) are kept per pet: a save that would
 * leave more deletes those that expire first. 200 keyed changes in 24 h is far beyond one
 * device's retries, and bounds what a stranger can make one pet hold.
 */
export const MAX_EXTRAS_PER_PET = 200;

/** Purposes of global records (`life_~<purpose>:…`), e.g. `ratelimit`. */
export const PURPOSE_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

/** Subjects of global records: 1–200 characters, no control characters (C0, DEL, C1); an IPv6 address has `:`. */
export const SUBJECT_PATTERN = /^\P{Cc}{1,200}$/u;

/** Throws InvalidInputError('invalid_device_id') unless `id` is a valid pet id. */
export function assertPetId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !PET_ID_PATTERN.test(id)) {
    throw new InvalidInputError('invalid_device_id', DEVICE_ID_MESSAGE);
  }
}

/** Throws TypeError unless `name` is a valid extra record name (a programming error, not input). */
export function assertExtraName(name: string): void {
  if (!EXTRA_NAME_PATTERN.test(name)) {
    throw new TypeError(`extra record name must match ${String(EXTRA_NAME_PATTERN)}, got ${JSON.stringify(name)}`);
  }
}

/** The keys of one pet. */
export interface PetKeys {
  /** `life_<id>:meta` */
  meta: string;
  /** `life_<id>:<system>` for every system, in SYSTEM_NAMES order. */
  systems: Record<SystemName, string>;
  /**
   * `life_<id>:extras`: the index of the pet's extra records (Redis: a sorted set of their keys
   * scored by expiry, Unix ms), kept by CAS_SCRIPT to bound them. No `:` after `extras`, so it
   * is neither an extra record name nor a system name nor `meta`.
   */
  extrasIndex: string;
  /** `life_<id>:events`: the pet's event log (Redis: a stream), appended by CAS_SCRIPT. */
  events: string;
  /** SCAN pattern matching every key of the pet (`life_<id>:*`). */
  pattern: string;
}

/**
 * How keys are spelled on one store. `plain` is the seed's layout (one Redis, Upstash, memory).
 * `cluster` (Redis Cluster, docs/design.md §10) puts the pet id in a hash tag,
 * `life_{<id>}:<system>`, so every key of one pet hashes to one slot and a pet's load and
 * compare-and-set stay single-slot; a record tied to no pet is tagged by its whole name,
 * `life_~{<purpose>:<subject>}`, so those records spread over the slots by their own tag.
 * Redis globs treat `{` and `}` literally, so the SCAN patterns below need no escaping.
 */
export interface KeyLayout {
  readonly name: 'plain' | 'cluster';
  /** `life_<id>:` or `life_{<id>}:` (id already validated). */
  petBase(id: string): string;
  /** The key of a global record (purpose and subject already validated). */
  global(purpose: string, subject: string): string;
  /** SCAN pattern matching the meta key of every pet. */
  readonly metaPattern: string;
  /** The pet id of a key matched by metaPattern, or null when it is no pet's meta. */
  petIdOfMeta(key: string): string | null;
  /**
   * What a stored key is, in this layout: one of a pet's (`name`: meta, a system, `extras`,
   * `events`, an extra record's name), a global record's, or null (not ours, or another layout's).
   */
  parseKey(key: string): { petId: string; name: string } | { purpose: string; subject: string } | null;
}

const petIdIfValid = (id: string): string | null => (PET_ID_PATTERN.test(id) ? id : null);

/** `rest` = `<id>:<name>` (plain) or `{<id>}:<name>` (cluster, `open`/`close` the braces). */
function parsePetKey(rest: string, open: string, close: string): { petId: string; name: string } | null {
  if (!rest.startsWith(open)) return null;
  const end = rest.indexOf(`${close}:`, open.length);
  if (end < 0) return null;
  const petId = petIdIfValid(rest.slice(open.length, end));
  const name = rest.slice(end + close.length + 1);
  return petId === null || name === '' ? null : { petId, name };
}

/** `life_~<purpose>:<subject>` after `life_~` (braces already stripped). */
function parseGlobal(rest: string): { purpose: string; subject: string } | null {
  const colon = rest.indexOf(':');
  if (colon < 0) return null;
  const purpose = rest.slice(0, colon);
  const subject = rest.slice(colon + 1);
  return PURPOSE_PATTERN.test(purpose) && SUBJECT_PATTERN.test(subject) ? { purpose, subject } : null;
}

/** The seed's layout: `life_<id>:<system>`, `life_~<purpose>:<subject>`. */
export const PLAIN_LAYOUT: KeyLayout = {
  name: 'plain',
  petBase: (id) => `${KEY_PREFIX}${id}:`,
  global: (purpose, subject) => `${KEY_PREFIX}~${purpose}:${subject}`,
  metaPattern: `${KEY_PREFIX}*:meta`,
  petIdOfMeta: (key) =>
    key.startsWith(KEY_PREFIX) && key.endsWith(':meta') ? petIdIfValid(key.slice(KEY_PREFIX.length, -':meta'.length)) : null,
  parseKey: (key) => {
    if (!key.startsWith(KEY_PREFIX)) return null;
    const rest = key.slice(KEY_PREFIX.length);
    if (rest.startsWith('~')) return rest.startsWith('~{') ? null : parseGlobal(rest.slice(1));
    return parsePetKey(rest, '', '');
  },
};

/** Redis Cluster's layout: `life_{<id>}:<system>`, `life_~{<purpose>:<subject>}`. */
export const CLUSTER_LAYOUT: KeyLayout = {
  name: 'cluster',
  petBase: (id) => `${KEY_PREFIX}{${id}}:`,
  global: (purpose, subject) => `${KEY_PREFIX}~{${purpose}:${subject}}`,
  metaPattern: `${KEY_PREFIX}{*}:meta`,
  petIdOfMeta: (key) =>
    key.startsWith(`${KEY_PREFIX}{`) && key.endsWith('}:meta') ? petIdIfValid(key.slice(KEY_PREFIX.length + 1, -'}:meta'.length)) : null,
  parseKey: (key) => {
    if (!key.startsWith(KEY_PREFIX)) return null;
    const rest = key.slice(KEY_PREFIX.length);
    if (rest.startsWith('~')) return rest.startsWith('~{') && rest.endsWith('}') ? parseGlobal(rest.slice(2, -1)) : null;
    return parsePetKey(rest, '{', '}');
  },
};

/** The keys of pet `id` (validated first) in `layout`. */
export function petKeys(id: string, layout: KeyLayout = PLAIN_LAYOUT): PetKeys {
  assertPetId(id);
  const base = layout.petBase(id);
  const systems = {} as Record<SystemName, string>;
  for (const name of SYSTEM_NAMES) systems[name] = base + name;
  return { meta: `${base}meta`, systems, extrasIndex: `${base}extras`, events: `${base}events`, pattern: `${base}*` };
}

/**
 * The pet a key belongs to (`life_<id>:…` → id), or null for a global record (`life_~…`) or a key
 * that is not ours. Used to map Redis' invalidation messages back to pets (snapshots.ts).
 */
export function petIdOfKey(key: string): string | null {
  if (!key.startsWith(KEY_PREFIX)) return null;
  const end = key.indexOf(':', KEY_PREFIX.length);
  if (end < 0) return null;
  const id = key.slice(KEY_PREFIX.length, end);
  return PET_ID_PATTERN.test(id) ? id : null;
}

/**
 * Whether a key an inspector lists (StoredKey.key) holds one of the pet's extra records (an
 * idempotency answer and the like): `life_<id>:<name>` whose name is an extra record's, in either
 * layout, or a file under the file driver's `<id>/extras/` folder.
 */
export function isExtraRecordKey(key: string): boolean {
  for (const layout of [PLAIN_LAYOUT, CLUSTER_LAYOUT]) {
    const parsed = layout.parseKey(key);
    if (parsed !== null && 'name' in parsed) return EXTRA_NAME_PATTERN.test(parsed.name);
  }
  return /(^|[/\\])extras[/\\]/.test(key);
}

/** `life_<id>:<name>` for an extra record (both validated), in `layout`. */
export function extraKey(id: string, name: string, layout: KeyLayout = PLAIN_LAYOUT): string {
  assertPetId(id);
  assertExtraName(name);
  return `${layout.petBase(id)}${name}`;
}

/** `life_~<purpose>:<subject>` for a record tied to no single pet (both validated), in `layout`. */
export function globalKey(purpose: string, subject: string, layout: KeyLayout = PLAIN_LAYOUT): string {
  if (!PURPOSE_PATTERN.test(purpose)) {
    throw new TypeError(`purpose must match ${String(PURPOSE_PATTERN)}, got ${JSON.stringify(purpose)}`);
  }
  if (!SUBJECT_PATTERN.test(subject)) {
    throw new TypeError('subject must be 1–200 characters without control characters');
  }
  return layout.global(purpose, subject);
}

/** Compact JSON, the stored form of every value. */
export function encodeValue(value: unknown): string {
  return JSON.stringify(value);
}

/** A deep copy of JSON data (far cheaper than structuredClone for the small objects held here). */
export function cloneJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  if (typeof value === 'object' && value !== null) {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) copy[key] = cloneJson((value as Record<string, unknown>)[key]);
    return copy as T;
  }
  return value;
}

/** Keys read by one load, in order: meta, every system, then the requested extras. */
export function loadKeyList(id: string, extras: readonly string[] = [], layout: KeyLayout = PLAIN_LAYOUT): string[] {
  const keys = petKeys(id, layout);
  return [keys.meta, ...SYSTEM_NAMES.map((name) => keys.systems[name]), ...extras.map((name) => extraKey(id, name, layout))];
}

/**
 * Turns the raw values of `loadKeyList(id, extras)` (null = absent) into a PetRecord; null when
 * nothing at all is stored. Every driver's load goes through here, so every stored record is
 * validated here, in full (schemas.ts): anything that is not what we (or the Python server)
 * write is a CorruptStateError naming the pet, with the claim_hash and version when the meta
 * still yields them leniently (see CorruptStateError).
 */
export function decodeLoad(id: string, values: readonly (string | null | undefined)[], extras: readonly string[] = []): PetRecord | null {
  if (values.every((value) => value === null || value === undefined)) return null;
  const rawMeta = values[0] ?? null;
  const meta = rawMeta === null ? null : decodeMeta(id, rawMeta);
  const systems: PetRecord['systems'] = {};
  SYSTEM_NAMES.forEach((name, index) => {
    const raw = values[index + 1];
    if (raw === null || raw === undefined) return;
    const value = decodeObject(id, name, raw, rawMeta);
    const checked = SYSTEM_SCHEMAS[name].safeParse(value);
    if (!checked.success) throw corrupt(id, `${KEY_PREFIX}${id}:${name} is invalid (${firstIssue(checked.error)})`, rawMeta);
    systems[name] = value;
  });
  const extraValues: Record<string, string | null> = {};
  extras.forEach((name, index) => {
    extraValues[name] = values[index + 1 + SYSTEM_NAMES.length] ?? null;
  });
  const raw = values.slice(0, 1 + SYSTEM_NAMES.length).map((value) => value ?? null);
  return { version: meta?.version ?? 0, meta, systems, extras: extraValues, raw };
}

/** Parses and validates a stored meta value (META_SCHEMA). */
export function decodeMeta(id: string, raw: string): PetMeta {
  const value = decodeObject(id, 'meta', raw, raw);
  const checked = META_SCHEMA.safeParse(value);
  if (!checked.success) throw corrupt(id, `${KEY_PREFIX}${id}:meta is invalid (${firstIssue(checked.error)})`, raw);
  // The parsed object itself, not zod's copy: unknown fields and key order stay as stored.
  return value as unknown as PetMeta;
}

/**
 * What can still be read from a stored meta that may be corrupt: its claim_hash (a string) and
 * version (a non-negative integer) when it is a JSON object holding them; null otherwise.
 */
export function lenientMeta(raw: string | null | undefined): {
  claimHash: string | null;
  storedVersion: number | null;
  owners: string[] | null;
} {
  let value: unknown = null;
  try {
    value = raw === null || raw === undefined ? null : JSON.parse(raw);
  } catch {
    value = null;
  }
  if (!isJsonObject(value)) return { claimHash: null, storedVersion: null, owners: null };
  const { claim_hash: claimHash, version, owners } = value;
  return {
    claimHash: typeof claimHash === 'string' ? claimHash : null,
    owners: Array.isArray(owners) && owners.every((owner) => typeof owner === 'string') ? owners : null,
    storedVersion: typeof version === 'number' && Number.isSafeInteger(version) && version >= 0 ? version : null,
  };
}

/** A CorruptStateError for pet `id`, with what `rawMeta` still yields leniently. */
export function corrupt(id: string, message: string, rawMeta: string | null | undefined, cause?: unknown): CorruptStateError {
  return new CorruptStateError(message, { petId: id, ...lenientMeta(rawMeta), ...(cause === undefined ? {} : { cause }) });
}

function decodeObject(id: string, name: string, raw: string, rawMeta: string | null): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw corrupt(id, `${KEY_PREFIX}${id}:${name} is not JSON`, rawMeta, error);
  }
  if (!isJsonObject(value)) throw corrupt(id, `${KEY_PREFIX}${id}:${name} is not a JSON object`, rawMeta);
  return value;
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
