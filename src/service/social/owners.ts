// Social: owner records, their secrets and the pets they hold.
/**
 * Owners (docs/design.md §8): an owner is a record `life_~owner:<owner id>` holding the SHA-256 of its
 * secret and the index of the pets it holds. The secret (`<owner id>.<256 random bits,
 * base64url>`) carries the owner id, so a request's Bearer secret finds its record in one read,
 * never a scan; only its hash is stored, compared in constant time.
 *
 * The truth of who holds a pet is the pet's `meta.owners` (changed by compare-and-set with the
 * pet); the owner's list is an index. Order of the two writes: the index first, then the pet —
 * so a crash in between leaves an index entry for a pet that does not name the owner (never a pet
 * the owner cannot find). Listing shows only pets whose meta names the owner, and prunes index
 * entries that do not once they are older than INDEX_GRACE_MS (a creation still in flight is
 * younger). Leaving writes the pet first, then the index: the same kind of leftover, the same
 * repair.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  ConflictRetriesExhaustedError,
  CorruptStateError,
  ForbiddenError,
  LimitReachedError,
  NotFoundError,
  UnauthorizedError,
} from '../../errors.js';
import type { RecordRef, StorageDriver, StoredRecord } from '../../storage/index.js';
import type { Clock } from '../clock.js';
import { createExpiringMap } from '../expiring-map.js';
import { rateLimited } from '../pets/rate-limits.js';

/** `own_` + 128 random bits, base64url. */
export const OWNER_ID_PATTERN = /^own_[A-Za-z0-9_-]{22}$/;
const OWNER_SECRET_PATTERN = /^(own_[A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]{43}$/;
/** The Bearer secret has the shape of an owner secret (its owner id inside). */
export function looksLikeOwnerSecret(bearer: string | null): bearer is string {
  return bearer !== null && OWNER_SECRET_PATTERN.test(bearer);
}

/** An index entry younger than this may belong to a creation or adoption still in flight: never pruned. */
export const INDEX_GRACE_MS = 60_000;
/** Verified secrets remembered (owners are never deleted and their secrets never change). */
const VERIFIED_MEMO_MS = 60_000;
const VERIFIED_MEMO_ENTRIES = 10_000;
/** Owners one client address may create per hour (each is a stored record: strangers must not fill the store). */
export const OWNERS_PER_CLIENT_PER_HOUR = 20;
const HOUR_MS = 3_600_000;
/** Compare-and-set attempts on one owner record. */
const MAX_ATTEMPTS = 20;

/** What `life_~owner:<id>` holds (JSON). */
interface OwnerRecord {
  secret_hash: string;
  created_at: string;
  /** The index: pet ids with the wall time (ms) each was added. */
  pets: { id: string; added_ms: number }[];
}

export interface OwnerIndexEntry {
  id: string;
  addedMs: number;
}

export interface Owners {
  /**
   * A new owner: its id and secret (shown once). `client` (an address bucket, or null when not
   * counted): at most OWNERS_PER_CLIENT_PER_HOUR owners per hour from it, else RateLimitedError.
   */
  create(client?: string | null): Promise<{ owner_id: string; secret: string }>;
  /** The owner id a Bearer secret proves, or null (no secret, not an owner secret, or a wrong one). */
  resolve(bearer: string | null): Promise<string | null>;
  /** resolve, for routes that need an owner: UnauthorizedError without a secret, ForbiddenError for one that is no owner's. */
  require(bearer: string | null): Promise<string>;
  /** Throws NotFoundError unless the owner exists. */
  assertExists(ownerId: string): Promise<void>;
  /** The owner's index. */
  index(ownerId: string): Promise<OwnerIndexEntry[]>;
  /** Adds a pet to the owner's index (LimitReachedError past maxPetsPerOwner); false when it was listed already. */
  addPet(ownerId: string, petId: string): Promise<boolean>;
  /** Removes pets from the owner's index; no change for ids not listed. */
  removePets(ownerId: string, petIds: readonly string[]): Promise<void>;
}

export interface OwnersOptions {
  storage: StorageDriver;
  clock: Clock;
  /** MAX_PETS_PER_OWNER. @default 20 */
  maxPetsPerOwner?: number;
}

const refOf = (ownerId: string): RecordRef => ({ purpose: 'owner', subject: ownerId });
const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

export function createOwners(options: OwnersOptions): Owners {
  const { storage, clock } = options;
  const maxPets = options.maxPetsPerOwner ?? 20;
  const verified = createExpiringMap<string>(VERIFIED_MEMO_ENTRIES);

  const decode = (ownerId: string, stored: StoredRecord | null): OwnerRecord | null => {
    if (stored === null) return null;
    try {
      const record = JSON.parse(stored.value) as OwnerRecord;
      if (typeof record.secret_hash === 'string' && Array.isArray(record.pets)) return record;
    } catch {
      // reported below
    }
    throw new CorruptStateError(`the record of owner ${ownerId} cannot be read`);
  };

  const load = async (ownerId: string): Promise<{ record: OwnerRecord; version: number }> => {
    const [stored] = await storage.loadRecords([refOf(ownerId)]);
    const record = decode(ownerId, stored ?? null);
    if (record === null || stored === null || stored === undefined) throw new NotFoundError(`no owner ${ownerId}`);
    return { record, version: stored.version };
  };

  /** Changes the owner's record by compare-and-set (`change` returns null for no change); true when it saved. */
  const update = async (ownerId: string, change: (record: OwnerRecord) => OwnerRecord | null): Promise<boolean> => {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const { record, version } = await load(ownerId);
      const next = change(record);
      if (next === null) return false;
      const saved = await storage.saveRecord(refOf(ownerId), { expectedVersion: version, value: JSON.stringify(next) });
      if (saved.ok) return true;
    }
    throw new ConflictRetriesExhaustedError(`owner ${ownerId} is being changed by too many requests at once; try again`);
  };

  const resolve = async (bearer: string | null): Promise<string | null> => {
    const match = bearer === null ? null : OWNER_SECRET_PATTERN.exec(bearer);
    if (bearer === null || match === null) return null;
    const ownerId = match[1] as string;
    const hash = sha256(bearer);
    const key = hash.toString('hex');
    const nowMs = clock.nowMs();
    if (verified.get(key, nowMs) === ownerId) return ownerId;
    const [stored] = await storage.loadRecords([refOf(ownerId)]);
    const record = decode(ownerId, stored ?? null);
    if (record === null || !/^[0-9a-f]{64}$/.test(record.secret_hash)) return null;
    if (!timingSafeEqual(hash, Buffer.from(record.secret_hash, 'hex'))) return null;
    verified.set(key, ownerId, nowMs + VERIFIED_MEMO_MS, nowMs);
    return ownerId;
  };

  return {
    async create(client = null) {
      if (client !== null) {
        const counted = await storage.hit('rl-owners', client, HOUR_MS);
        if (counted.count > OWNERS_PER_CLIENT_PER_HOUR) {
          const resetS = Math.max(1, Math.ceil(counted.resetInMs / 1000));
          const status = { policy: 'client', limit: OWNERS_PER_CLIENT_PER_HOUR, remaining: 0, resetS, windowS: HOUR_MS / 1000 } as const;
          throw rateLimited([`${OWNERS_PER_CLIENT_PER_HOUR} owners created from this client`], resetS, status.windowS, [status]);
        }
      }
      const ownerId = `own_${randomBytes(16).toString('base64url')}`;
      const secret = `${ownerId}.${randomBytes(32).toString('base64url')}`;
      const record: OwnerRecord = {
        secret_hash: sha256(secret).toString('hex'),
        created_at: new Date(clock.nowMs()).toISOString(),
        pets: [],
      };
      const saved = await storage.saveRecord(refOf(ownerId), { expectedVersion: 0, value: JSON.stringify(record) });
      // 128 random bits do not collide; a conflict here means something else wrote the key.
      if (!saved.ok) throw new ConflictRetriesExhaustedError('could not create the owner; try again');
      return { owner_id: ownerId, secret };
    },

    resolve,

    async require(bearer) {
      if (bearer === null) throw new UnauthorizedError('send Authorization: Bearer <your owner secret> (POST /api/owners makes one)');
      const ownerId = await resolve(bearer);
      if (ownerId === null) throw new ForbiddenError('the Bearer secret is not an owner secret');
      return ownerId;
    },

    async assertExists(ownerId) {
      if (!OWNER_ID_PATTERN.test(ownerId)) throw new NotFoundError(`no owner ${ownerId}`);
      await load(ownerId);
    },

    async index(ownerId) {
      const { record } = await load(ownerId);
      return record.pets.map((entry) => ({ id: entry.id, addedMs: entry.added_ms }));
    },

    addPet: (ownerId, petId) =>
      update(ownerId, (record) => {
        if (record.pets.some((entry) => entry.id === petId)) return null;
        if (record.pets.length >= maxPets) {
          throw new LimitReachedError(`an owner may hold at most ${maxPets} pets (MAX_PETS_PER_OWNER)`);
        }
        return { ...record, pets: [...record.pets, { id: petId, added_ms: clock.nowMs() }] };
      }),

    async removePets(ownerId, petIds) {
      await update(ownerId, (record) => {
        const pets = record.pets.filter((entry) => !petIds.includes(entry.id));
        return pets.length === record.pets.length ? null : { ...record, pets };
      });
    },
  };
}
