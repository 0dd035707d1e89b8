// Social: owners' pets, family pets and friends over the pet service.
/**
 * Owners' pets, family pets and friends (docs/design.md §8), over the pet service
 * (every pet write is an Operation run by perform: rate limits, access — the claim secret, an
 * owner's secret or the admin token —, idempotency, compare-and-set) and the owners' records
 * (owners.ts). Changes between two pets (a friendship made or ended) go through the sender's
 * outbox like a visit (outbox.ts): exactly once on both.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { fadedFamiliarity, simplify, type Lang, type SimplifiedState } from '../../engine/index.js';
import {
  AlreadyExistsError,
  CorruptStateError,
  ForbiddenError,
  InvalidInputError,
  LimitReachedError,
  NotFoundError,
  NotFriendsError,
} from '../../errors.js';
import { assertPetId, PET_ID_PATTERN, type StorageDriver } from '../../storage/index.js';
import { type AccessPolicy, hashSecret, isPetOwner, OPEN_ACCESS } from '../pets/access.js';
import type { Clock } from '../clock.js';
import type { LivePet } from '../pets/live-pet.js';
import { createOperation, type Operation, type PetBirth } from '../pets/operations.js';
import { MAX_FRIENDS_PER_PET, withOutboxEntry } from './outbox.js';
import { createOwnerOffers, type OwnerOffer } from './owner-offers.js';
import { INDEX_GRACE_MS, type Owners } from './owners.js';
import { petEventDraft } from '../events/pet-events.js';
import type { PetService, RequestContext, Served } from '../pets/pet-service.js';
import type { StateDocument } from '../pets/types.js';
import { daysSinceVisit, visitOperation, type VisitResult } from './visits.js';

export { MAX_FRIENDS_PER_PET };
/** An invite code is valid this long (one use). */
export const INVITE_TTL_MS = 24 * 3_600_000;
/** Invite codes: 128 random bits, base64url. */
export const INVITE_CODE_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** What a request brings (perform's context without the rendering). */
export type CallContext = Omit<RequestContext<unknown, unknown>, 'render' | 'status'>;

/** A pet in a list: an owner's pets, a pet's friends. */
export interface PetSummary {
  device_id: string;
  pet_name: string;
  simplified_state: SimplifiedState;
}

export interface FriendSummary extends PetSummary {
  /** ISO 8601, when they became friends. */
  since: string;
  /** The pair's familiarity now (faded since their last visit), [0, 1]. */
  familiarity: number;
  /** ISO 8601 of their last visit, or null. */
  last_visit: string | null;
}

export interface SocialOptions {
  service: PetService;
  owners: Owners;
  storage: StorageDriver;
  clock: Clock;
  /** The access policy (the admin token removes owners). @default OPEN_ACCESS */
  access?: AccessPolicy;
  /** MAX_OWNERS_PER_PET. @default 8 */
  maxOwnersPerPet?: number;
}

export interface Social {
  createOwnedPet(ownerId: string, petId: string, birth: PetBirth, lang: Lang, ctx: CallContext): Promise<Served<StateDocument>>;
  ownedPets(ownerId: string): Promise<PetSummary[]>;
  adopt(ownerId: string, petId: string, claimSecret: string, ctx: CallContext): Promise<Served<{ device_id: string; owners: string[] }>>;
  /** An offer of the pet to an owner (docs/design.md §8): it holds the pet only once it accepts. */
  offerOwner(petId: string, forOwner: string | null, ctx: CallContext): Promise<Served<OwnerOffer>>;
  acceptOffer(ownerId: string, code: string, ctx: CallContext): Promise<Served<{ device_id: string; owners: string[] }>>;
  /** Removes another owner from the pet: the admin token only (docs/design.md §8). */
  removeOwner(petId: string, ownerId: string, ctx: CallContext): Promise<Served<{ device_id: string; owners: string[] }>>;
  leave(petId: string, ctx: CallContext): Promise<Served<{ device_id: string; owners: string[] }>>;
  invite(petId: string, ctx: CallContext): Promise<Served<{ code: string; device_id: string; expires_at: string }>>;
  accept(petId: string, code: string, ctx: CallContext): Promise<Served<FriendSummary>>;
  friends(petId: string, ctx: CallContext): Promise<Served<{ device_id: string; friends: FriendSummary[] }>>;
  unfriend(petId: string, friendId: string, ctx: CallContext): Promise<Served<{ device_id: string; friend_id: string }>>;
  visit(petId: string, friendId: string, ctx: CallContext): Promise<Served<VisitResult>>;
}

const asIs = <T>(value: T): T => value;
const summaryOf = (pet: LivePet): PetSummary => ({
  device_id: pet.petId,
  pet_name: pet.meta.pet_name,
  simplified_state: simplify(pet.state),
});

/** The pet an invite record names (CorruptStateError when it names none). */
function inviterOf(code: string, value: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = null;
  }
  const petId = (parsed as { pet_id?: unknown } | null)?.pet_id;
  if (typeof petId !== 'string' || !PET_ID_PATTERN.test(petId)) throw new CorruptStateError(`invite ${code} names no pet`);
  return petId;
}

function assertStored(pet: LivePet): void {
  if (pet.created) throw new NotFoundError(`no pet ${pet.petId}`);
}

/** When an invite record expires (0 for one made before it said: never put back). */
function expiresMsOf(value: string): number {
  try {
    const expires = (JSON.parse(value) as { expires_ms?: unknown } | null)?.expires_ms;
    return typeof expires === 'number' ? expires : 0;
  } catch {
    return 0;
  }
}

/** The pet's owners after the change, as answered. */
const ownersAnswer = (pet: LivePet) => () => ({ device_id: pet.petId, owners: [...(pet.meta.owners ?? [])] });

export function createSocial(options: SocialOptions): Social {
  const { service, owners, storage, clock } = options;
  const maxOwners = options.maxOwnersPerPet ?? 8;
  const perform = async <T>(petId: string, operation: Operation<T>, ctx: CallContext, status = 200): Promise<Served<T>> =>
    (await service.perform(petId, operation, { ...ctx, render: asIs, status })).value;

  /** Adds `owner` to the pet (limit MAX_OWNERS_PER_PET); no change when it is one already. */
  const withOwner = (pet: LivePet, owner: string, nowMs: number) => {
    const current = pet.meta.owners ?? [];
    if (current.includes(owner)) return { changed: false, present: ownersAnswer(pet) };
    if (current.length >= maxOwners) throw new LimitReachedError(`a pet may have at most ${maxOwners} owners (MAX_OWNERS_PER_PET)`);
    pet.meta = { ...pet.meta, owners: [...current, owner] };
    // No owner id in the event: the log is open to strangers, and an id is what an offer or a
    // friend's lookup would be aimed at (docs/design.md §8, §9).
    return { changed: true, present: ownersAnswer(pet), events: [petEventDraft('owner_added', pet, nowMs)] };
  };

  /**
   * Index first, then the pet (owners.ts); a pet write that fails takes back the index entry it
   * added (never one that was there before: the owner may hold the pet already).
   */
  const offers = createOwnerOffers({ service, owners, storage, clock, withOwner, access: options.access ?? OPEN_ACCESS });

  const indexThenPet = async <T>(owner: string, petId: string, write: () => Promise<T>): Promise<T> => {
    const added = await owners.addPet(owner, petId);
    try {
      return await write();
    } catch (error) {
      // Best effort: a leftover entry is harmless (listing checks the pet) and pruned later.
      if (added) await owners.removePets(owner, [petId]).catch(() => undefined);
      throw error;
    }
  };

  /** The accept of a taken invite code: the accepting pet's write (its friend limit checked in it). */
  const acceptTaken = async (petId: string, code: string, value: string, ctx: CallContext): Promise<Served<FriendSummary>> => {
    const inviter = inviterOf(code, value);
    const [other] = await service.peek([inviter]);
    if (other === null || other === undefined) throw new NotFoundError('the pet that made this invite is not stored any more');
    if (Object.keys(other.meta.friends ?? {}).length >= MAX_FRIENDS_PER_PET) {
      throw new LimitReachedError(`${inviter} already has ${MAX_FRIENDS_PER_PET} friends`);
    }
    const operation: Operation<FriendSummary> = {
      access: 'write',
      check: (pet) => {
        assertStored(pet);
        if (pet.petId === inviter) throw new InvalidInputError('invalid_body', 'a pet cannot befriend itself');
        if (pet.meta.friends?.[inviter] !== undefined) throw new AlreadyExistsError(`${pet.petId} and ${inviter} are friends already`);
        if (Object.keys(pet.meta.friends ?? {}).length >= MAX_FRIENDS_PER_PET) {
          throw new LimitReachedError(`a pet may have at most ${MAX_FRIENDS_PER_PET} friends`);
        }
      },
      apply: (pet, nowMs) => {
        const since = new Date(nowMs).toISOString();
        const friends = { ...(pet.meta.friends ?? {}), [inviter]: { since, familiarity: 0, visited_ms: null } };
        pet.meta = withOutboxEntry({ ...pet.meta, friends }, { to: inviter, kind: 'befriend', at: since }).meta;
        return {
          changed: true,
          events: [petEventDraft('befriended', pet, nowMs, { with: inviter })],
          present: () => ({ ...summaryOf(other), since, familiarity: 0, last_visit: null }),
        };
      },
    };
    return perform(petId, operation, ctx, 201);
  };

  return {
    createOwnedPet: (ownerId, petId, birth, lang, ctx) =>
      indexThenPet(ownerId, petId, () => perform(petId, createOperation(birth, lang, ownerId), ctx, 201)),

    async ownedPets(ownerId) {
      const index = await owners.index(ownerId);
      const pets = await service.peek(index.map((entry) => entry.id));
      const nowMs = clock.nowMs();
      const listed: PetSummary[] = [];
      const stale: string[] = [];
      index.forEach((entry, position) => {
        const pet = pets[position] ?? null;
        if (pet !== null && isPetOwner(pet.meta, ownerId)) listed.push(summaryOf(pet));
        else if (nowMs - entry.addedMs > INDEX_GRACE_MS) stale.push(entry.id);
      });
      // The repair of a crash between the index write and the pet's (owners.ts).
      if (stale.length > 0) await owners.removePets(ownerId, stale);
      return listed;
    },

    adopt: (ownerId, petId, claimSecret, ctx) => {
      assertPetId(petId);
      const sent = hashSecret(claimSecret);
      const operation: Operation<{ device_id: string; owners: string[] }> = {
        // The claim secret in the body is the proof (checked below), not the Bearer.
        access: 'create',
        check: (pet) => {
          assertStored(pet);
          const claim = pet.meta.claim_hash;
          if (claim === undefined) throw new ForbiddenError('this pet is not claimed: claim it first, then adopt it with its secret');
          if (!/^[0-9a-f]{64}$/i.test(claim) || !timingSafeEqual(sent, Buffer.from(claim, 'hex'))) {
            throw new ForbiddenError('the secret does not open this pet');
          }
        },
        apply: (pet, nowMs) => {
          // The claim becomes ownership: its secret stops opening the pet, so that nobody who
          // leaves (or is removed) keeps access through it (docs/design.md §8).
          const { claim_hash: _claim, ...meta } = pet.meta;
          pet.meta = meta;
          const added = withOwner(pet, ownerId, nowMs);
          return { ...added, changed: true };
        },
      };
      return indexThenPet(ownerId, petId, () => perform(petId, operation, ctx));
    },

    offerOwner: (petId, forOwner, ctx) => offers.offer(petId, forOwner, ctx),
    acceptOffer: (ownerId, code, ctx) => offers.accept(ownerId, code, ctx),
    removeOwner: (petId, ownerId, ctx) => offers.remove(petId, ownerId, ctx),

    async leave(petId, ctx) {
      const owner = ctx.owner ?? null;
      if (owner === null) throw new ForbiddenError('only an owner of the pet can leave it: send your owner secret');
      const served = await perform(
        petId,
        {
          access: 'write',
          check: (pet) => {
            assertStored(pet);
            if (!isPetOwner(pet.meta, owner)) throw new ForbiddenError('you are not an owner of this pet');
          },
          apply: (pet, nowMs) => {
            const remaining = (pet.meta.owners ?? []).filter((id) => id !== owner);
            const { owners: _owners, ...rest } = pet.meta;
            pet.meta = remaining.length === 0 ? rest : { ...rest, owners: remaining };
            return { changed: true, present: ownersAnswer(pet), events: [petEventDraft('owner_left', pet, nowMs)] };
          },
        },
        ctx,
      );
      // The pet first, then the index (owners.ts).
      await owners.removePets(owner, [petId]);
      return served;
    },

    async invite(petId, ctx) {
      await perform(
        petId,
        { access: 'write', savesNothing: true, check: assertStored, apply: () => ({ changed: false, present: () => null }) },
        ctx,
      );
      const code = randomBytes(16).toString('base64url');
      const nowMs = clock.nowMs();
      const saved = await storage.saveRecord(
        { purpose: 'invite', subject: code },
        { expectedVersion: 0, value: JSON.stringify({ pet_id: petId, expires_ms: nowMs + INVITE_TTL_MS }), ttlMs: INVITE_TTL_MS },
      );
      if (!saved.ok) throw new AlreadyExistsError('could not make a new invite code; try again');
      return {
        body: { code, device_id: petId, expires_at: new Date(nowMs + INVITE_TTL_MS).toISOString() },
        status: 201,
        replayed: false,
        limits: [],
      };
    },

    async accept(petId, code, ctx) {
      if (!INVITE_CODE_PATTERN.test(code)) throw new InvalidInputError('invalid_body', 'code must be an invite code (22 characters)');
      // The pet's access first: a stranger cannot use up someone's code.
      await perform(
        petId,
        { access: 'write', savesNothing: true, check: assertStored, apply: () => ({ changed: false, present: () => null }) },
        ctx,
      );
      const taken = await storage.takeRecord({ purpose: 'invite', subject: code });
      if (taken === null) throw new NotFoundError('this invite code is unknown, used or expired');
      try {
        return await acceptTaken(petId, code, taken.value, ctx);
      } catch (error) {
        // A failed accept leaves the code usable for what is left of its life (docs/design.md §8).
        const leftMs = expiresMsOf(taken.value) - clock.nowMs();
        if (leftMs > 0) {
          await storage
            .saveRecord({ purpose: 'invite', subject: code }, { expectedVersion: 0, value: taken.value, ttlMs: leftMs })
            .catch(() => undefined);
        }
        throw error;
      }
    },

    async friends(petId, ctx) {
      const served = await perform(
        petId,
        {
          access: 'read',
          savesNothing: true,
          check: assertStored,
          apply: (pet) => ({ changed: false, present: () => ({ ...(pet.meta.friends ?? {}) }) }),
        },
        ctx,
      );
      const links = served.body;
      const ids = Object.keys(links).sort();
      const pets = await service.peek(ids);
      const nowMs = clock.nowMs();
      const friends: FriendSummary[] = [];
      ids.forEach((id, index) => {
        const pet = pets[index];
        const link = links[id];
        if (pet === null || pet === undefined || link === undefined) return; // gone (expired or removed)
        friends.push({
          ...summaryOf(pet),
          since: link.since,
          familiarity: Math.round(fadedFamiliarity(link.familiarity, daysSinceVisit(link, nowMs)) * 10_000) / 10_000,
          last_visit: link.visited_ms === null ? null : new Date(link.visited_ms).toISOString(),
        });
      });
      return { ...served, body: { device_id: petId, friends } };
    },

    unfriend: (petId, friendId, ctx) => {
      assertPetId(friendId);
      return perform(
        petId,
        {
          access: 'write',
          check: (pet) => {
            assertStored(pet);
            if (pet.meta.friends?.[friendId] === undefined) throw new NotFriendsError(`${pet.petId} and ${friendId} are not friends`);
          },
          apply: (pet, nowMs) => {
            const friends = { ...(pet.meta.friends ?? {}) };
            delete friends[friendId];
            pet.meta = withOutboxEntry(
              { ...pet.meta, friends },
              { to: friendId, kind: 'unfriend', at: new Date(nowMs).toISOString() },
            ).meta;
            return {
              changed: true,
              events: [petEventDraft('unfriended', pet, nowMs, { with: friendId })],
              present: () => ({ device_id: pet.petId, friend_id: friendId }),
            };
          },
        },
        ctx,
      );
    },

    async visit(petId, friendId, ctx) {
      assertPetId(petId);
      assertPetId(friendId);
      const [friend] = await service.peek([friendId]);
      return perform(petId, visitOperation(friendId, friend ?? null), ctx);
    },
  };
}
