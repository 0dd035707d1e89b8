/**
 * Owners by consent (docs/design.md §8): a pet gets a new owner only when that owner accepts. Who
 * may change the pet (one of its owners, its claim secret, the admin token) makes an offer: a
 * one-use code, valid OFFER_TTL_MS, optionally for one owner id only. The owner to be accepts it
 * with its own secret; only then is the pet added to its index and counted in its
 * MAX_PETS_PER_OWNER. An offer made by an owner lapses when that owner no longer holds the pet.
 * A failed accept (a limit, an outage) puts the code back, so that it can be used once it can
 * succeed; a successful one uses it up.
 *
 * Removal: an owner leaves by itself (social.ts); another owner is removed only with the admin
 * token — owners are equals, and no co-owner may take a family pet from the others.
 */
import { randomBytes } from 'node:crypto';
import { AlreadyExistsError, CorruptStateError, ForbiddenError, InvalidInputError, NotFoundError } from '../../errors.js';
import { assertPetId, PET_ID_PATTERN, type RecordRef, type StorageDriver } from '../../storage/index.js';
import { type AccessPolicy, bearerHashOf, isPetOwner } from '../pets/access.js';
import { timingSafeEqual } from 'node:crypto';
import { petEventDraft } from '../events/pet-events.js';
import type { Clock } from '../clock.js';
import type { LivePet } from '../pets/live-pet.js';
import type { Operation } from '../pets/operations.js';
import type { Owners } from './owners.js';
import type { PetService, Served } from '../pets/pet-service.js';
import type { CallContext } from './social.js';

/** An offer is valid this long (one use). */
export const OFFER_TTL_MS = 24 * 3_600_000;
/** Offer codes: 128 random bits, base64url. */
export const OFFER_CODE_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export interface OwnerOffer {
  code: string;
  device_id: string;
  expires_at: string;
}

export interface OwnerOffers {
  /** An offer of `petId` (to `forOwner` only, when given), by a caller who may change the pet. */
  offer(petId: string, forOwner: string | null, ctx: CallContext): Promise<Served<OwnerOffer>>;
  /** `ownerId` (verified from its secret) accepts the offer `code`: it holds the pet from now on. */
  accept(ownerId: string, code: string, ctx: CallContext): Promise<Served<{ device_id: string; owners: string[] }>>;
  /** Removes `ownerId` from the pet; the caller's Bearer must be the admin token (ForbiddenError otherwise). */
  remove(petId: string, ownerId: string, ctx: CallContext): Promise<Served<{ device_id: string; owners: string[] }>>;
}

export interface OwnerOffersOptions {
  service: PetService;
  owners: Owners;
  storage: StorageDriver;
  clock: Clock;
  /** The access policy: the admin token removes owners. */
  access: AccessPolicy;
  /** Adds the owner to the pet (MAX_OWNERS_PER_PET), as adopting does (social.ts). */
  withOwner: (pet: LivePet, owner: string, nowMs: number) => ReturnType<Operation<{ device_id: string; owners: string[] }>['apply']>;
}

/** What an offer record holds (JSON). */
interface OfferRecord {
  pet_id: string;
  /** The only owner who may accept it; null: whoever holds the code. */
  for: string | null;
  /** The owner who made it (null: the claim secret or the admin token). */
  by: string | null;
  expires_ms: number;
}

const refOf = (code: string): RecordRef => ({ purpose: 'owner-offer', subject: code });
const asIs = <T>(value: T): T => value;

function decode(code: string, value: string): OfferRecord {
  try {
    const record = JSON.parse(value) as OfferRecord;
    if (typeof record.pet_id === 'string' && PET_ID_PATTERN.test(record.pet_id) && typeof record.expires_ms === 'number') return record;
  } catch {
    // reported below
  }
  throw new CorruptStateError(`owner offer ${code} cannot be read`);
}

export function createOwnerOffers(options: OwnerOffersOptions): OwnerOffers {
  const { service, owners, storage, clock } = options;
  const perform = async <T>(petId: string, operation: Operation<T>, ctx: CallContext, status = 200): Promise<Served<T>> =>
    (await service.perform(petId, operation, { ...ctx, render: asIs, status })).value;

  /** Puts a taken code back for what is left of its life (nothing when it has expired meanwhile). */
  const putBack = async (code: string, value: string, record: OfferRecord): Promise<void> => {
    const leftMs = record.expires_ms - clock.nowMs();
    if (leftMs <= 0) return;
    await storage.saveRecord(refOf(code), { expectedVersion: 0, value, ttlMs: leftMs }).catch(() => undefined);
  };

  return {
    async offer(petId, forOwner, ctx) {
      assertPetId(petId);
      if (forOwner !== null) await owners.assertExists(forOwner);
      // Who may offer is known only from the pet: one read with write access, nothing saved.
      let by: string | null = null;
      await perform(
        petId,
        {
          access: 'write',
          savesNothing: true,
          check: (pet) => {
            if (pet.created) throw new NotFoundError(`no pet ${petId}`);
            // An offer by one of the pet's owners lapses with that owner's hold.
            by = isPetOwner(pet.meta, ctx.owner ?? null) ? (ctx.owner ?? null) : null;
          },
          apply: () => ({ changed: false, present: () => null }),
        },
        ctx,
      );
      const code = randomBytes(16).toString('base64url');
      const expiresMs = clock.nowMs() + OFFER_TTL_MS;
      const record: OfferRecord = { pet_id: petId, for: forOwner, by, expires_ms: expiresMs };
      const saved = await storage.saveRecord(refOf(code), { expectedVersion: 0, value: JSON.stringify(record), ttlMs: OFFER_TTL_MS });
      if (!saved.ok) throw new AlreadyExistsError('could not make a new offer code; try again');
      return { body: { code, device_id: petId, expires_at: new Date(expiresMs).toISOString() }, status: 201, replayed: false, limits: [] };
    },

    async remove(petId, ownerId, ctx) {
      assertPetId(petId);
      const sent = bearerHashOf(ctx.bearer ?? null);
      const admin = options.access.adminTokenHash;
      if (sent === null || admin === null || !timingSafeEqual(sent, admin)) {
        throw new ForbiddenError('only the admin token removes another owner; an owner leaves with DELETE /api/pet/{id}/owners/me');
      }
      const served = await perform(
        petId,
        {
          access: 'write',
          check: (pet) => {
            if (pet.created) throw new NotFoundError(`no pet ${petId}`);
            if (!isPetOwner(pet.meta, ownerId)) throw new NotFoundError(`${ownerId} is not an owner of ${petId}`);
          },
          apply: (pet, nowMs) => {
            const remaining = (pet.meta.owners ?? []).filter((id) => id !== ownerId);
            const { owners: _owners, ...rest } = pet.meta;
            pet.meta = remaining.length === 0 ? rest : { ...rest, owners: remaining };
            return {
              changed: true,
              present: () => ({ device_id: pet.petId, owners: remaining }),
              events: [petEventDraft('owner_removed', pet, nowMs)],
            };
          },
        },
        ctx,
      );
      // The pet first, then the index (owners.ts).
      await owners.removePets(ownerId, [petId]);
      return served;
    },

    async accept(ownerId, code, ctx) {
      if (!OFFER_CODE_PATTERN.test(code)) throw new InvalidInputError('invalid_body', 'code must be an owner offer code (22 characters)');
      // Taken first (one use under concurrent accepts); put back below when the accept fails.
      const taken = await storage.takeRecord(refOf(code));
      if (taken === null) throw new NotFoundError('this offer code is unknown, used or expired');
      const record = decode(code, taken.value);
      try {
        if (record.for !== null && record.for !== ownerId) throw new ForbiddenError('this offer is for another owner');
        const operation: Operation<{ device_id: string; owners: string[] }> = {
          // The code is the proof (the Bearer is the accepting owner's own secret).
          access: 'create',
          check: (pet) => {
            if (pet.created) throw new NotFoundError(`no pet ${record.pet_id}`);
            if (record.by !== null && !isPetOwner(pet.meta, record.by)) {
              throw new ForbiddenError('the owner who made this offer no longer holds the pet');
            }
          },
          apply: (pet, nowMs) => options.withOwner(pet, ownerId, nowMs),
        };
        // Index first, then the pet (owners.ts): MAX_PETS_PER_OWNER is checked here, at the accept.
        const added = await owners.addPet(ownerId, record.pet_id);
        try {
          return await perform(record.pet_id, operation, ctx);
        } catch (error) {
          if (added) await owners.removePets(ownerId, [record.pet_id]).catch(() => undefined);
          throw error;
        }
      } catch (error) {
        await putBack(code, taken.value, record);
        throw error;
      }
    },
  };
}
