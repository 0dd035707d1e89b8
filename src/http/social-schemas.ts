/**
 * Request and answer schemas of the owner and social routes (docs/design.md §8), as schemas.ts does for
 * the pet routes: one source for validation and /openapi.json (OpenAPI fields as zod metadata,
 * `.meta()`, so that serving requests needs plain zod only).
 */
import { z } from 'zod';
import { CURRENT_STATES } from '../engine/index.js';
import { DEVICE_ID_MESSAGE } from '../rules.js';
import { DeviceId } from './schemas.js';

const OWNER_ID_MESSAGE = 'owner_id must be an owner id as POST /api/owners answered it (own_ + 22 characters)';
const CODE_MESSAGE = 'code must be an invite code as POST /api/pet/{device_id}/friends/invite answered it (22 characters)';

export const OwnerId = z
  .string({ message: OWNER_ID_MESSAGE })
  .regex(/^own_[A-Za-z0-9_-]{22}$/, { message: OWNER_ID_MESSAGE })
  .meta({ example: 'own_3q2Xb7Jc0lTnP1sVwZ8eRa' });

export const OwnerSchema = z
  .object({
    owner_id: OwnerId,
    secret: z.string().meta({
      description:
        'Shown once; only its SHA-256 is stored. Send it as `Authorization: Bearer <secret>`: it opens every pet the owner holds.',
    }),
  })
  .meta({ id: 'Owner' });

const SimplifiedStateSchema = z.object({
  energy: z.number(),
  hunger: z.number(),
  mood: z.number(),
  current_state: z.enum(CURRENT_STATES),
});

export const PetSummarySchema = z
  .object({ device_id: z.string(), pet_name: z.string(), simplified_state: SimplifiedStateSchema })
  .meta({ id: 'PetSummary' });

export const OwnedPetsSchema = z.object({ owner_id: z.string(), pets: z.array(PetSummarySchema) }).meta({ id: 'OwnedPets' });

export const AdoptBody = z
  .object({
    device_id: DeviceId,
    secret: z
      .string({ message: 'secret must be the claim secret of the pet' })
      .min(1)
      .max(200)
      .meta({ description: "The pet's claim secret" }),
  })
  .meta({ id: 'AdoptRequest' });

export const OfferOwnerBody = z
  .object({ owner_id: OwnerId.optional().meta({ description: 'Only this owner may accept the offer; absent: whoever holds the code' }) })
  .meta({ id: 'OwnerOfferRequest' });

export const OwnerOfferSchema = z
  .object({
    code: z
      .string()
      .meta({ description: 'One use, valid 24 h: the owner to be sends it to POST /api/owners/me/offers with its own secret' }),
    device_id: z.string(),
    expires_at: z.string(),
  })
  .meta({ id: 'OwnerOffer' });

const OFFER_CODE_MESSAGE = 'code must be an owner offer code as POST /api/pet/{device_id}/owners answered it (22 characters)';
export const AcceptOfferBody = z
  .object({ code: z.string({ message: OFFER_CODE_MESSAGE }).regex(/^[A-Za-z0-9_-]{22}$/, { message: OFFER_CODE_MESSAGE }) })
  .meta({ id: 'AcceptOwnerOfferRequest' });

export const PetOwnersSchema = z
  .object({ device_id: z.string(), owners: z.array(z.string()).meta({ description: 'Owner ids holding the pet' }) })
  .meta({ id: 'PetOwners' });

export const InviteSchema = z
  .object({
    code: z.string().meta({ description: "One use, valid 24 h: the other pet's owner sends it to POST /api/pet/{its id}/friends" }),
    device_id: z.string(),
    expires_at: z.string(),
  })
  .meta({ id: 'FriendInvite' });

export const AcceptBody = z
  .object({ code: z.string({ message: CODE_MESSAGE }).regex(/^[A-Za-z0-9_-]{22}$/, { message: CODE_MESSAGE }) })
  .meta({ id: 'AcceptInviteRequest' });

// A pet summary and three more fields (documented as allOf: the PetSummary component and the rest).
export const FriendSchema = z
  .intersection(
    PetSummarySchema,
    z.object({
      since: z.string(),
      familiarity: z.number().meta({ description: "The pair's familiarity now, 0–1 (grows with visits, fades without)" }),
      last_visit: z.string().nullable(),
    }),
  )
  .meta({ id: 'Friend' });

export const FriendsSchema = z.object({ device_id: z.string(), friends: z.array(FriendSchema) }).meta({ id: 'Friends' });

export const FriendParams = z.object({
  device_id: DeviceId.meta({ param: { name: 'device_id', in: 'path' } }),
  friend_id: DeviceId.meta({ param: { name: 'friend_id', in: 'path' }, description: DEVICE_ID_MESSAGE }),
});

export const UnfriendSchema = z.object({ device_id: z.string(), friend_id: z.string() }).meta({ id: 'Unfriended' });

export const VisitBody = z.object({ friend_id: DeviceId }).meta({ id: 'VisitRequest' });

export const VisitSchema = z
  .object({
    visit_id: z.string().meta({ description: 'The same id in both pets’ `visited` events' }),
    device_id: z.string(),
    friend_id: z.string(),
    outcome: z.enum(['enjoyed', 'friend_asleep', 'visitor_asleep']),
    visitor_mood_delta: z.number(),
    friend_mood_delta: z.number(),
    familiarity: z.number(),
    visits: z.number().int().meta({ description: 'stats.visits of the visitor, this visit included' }),
    simplified_state: SimplifiedStateSchema,
    version: z.number().int(),
  })
  .meta({ id: 'Visit' });
