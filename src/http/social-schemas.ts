/**
 * Request and answer schemas of the owner and social routes (issue #13), as schemas.ts does for
 * the pet routes: one source for validation and /openapi.json.
 */
import { z } from '@hono/zod-openapi';
import { CURRENT_STATES } from '../engine/index.js';
import { DEVICE_ID_MESSAGE } from '../rules.js';
import { DeviceId } from './schemas.js';

const OWNER_ID_MESSAGE = 'owner_id must be an owner id as POST /api/owners answered it (own_ + 22 characters)';
const CODE_MESSAGE = 'code must be an invite code as POST /api/pet/{device_id}/friends/invite answered it (22 characters)';

export const OwnerId = z
  .string({ message: OWNER_ID_MESSAGE })
  .regex(/^own_[A-Za-z0-9_-]{22}$/, { message: OWNER_ID_MESSAGE })
  .openapi({ example: 'own_3q2Xb7Jc0lTnP1sVwZ8eRa' });

export const OwnerSchema = z
  .object({
    owner_id: OwnerId,
    secret: z.string().openapi({
      description:
        'Shown once; only its SHA-256 is stored. Send it as `Authorization: Bearer <secret>`: it opens every pet the owner holds.',
    }),
  })
  .openapi('Owner');

const SimplifiedStateSchema = z.object({
  energy: z.number(),
  hunger: z.number(),
  mood: z.number(),
  current_state: z.enum(CURRENT_STATES),
});

export const PetSummarySchema = z
  .object({ device_id: z.string(), pet_name: z.string(), simplified_state: SimplifiedStateSchema })
  .openapi('PetSummary');

export const OwnedPetsSchema = z.object({ owner_id: z.string(), pets: z.array(PetSummarySchema) }).openapi('OwnedPets');

export const AdoptBody = z
  .object({
    device_id: DeviceId,
    secret: z
      .string({ message: 'secret must be the claim secret of the pet' })
      .min(1)
      .max(200)
      .openapi({ description: "The pet's claim secret" }),
  })
  .openapi('AdoptRequest');

export const AddOwnerBody = z.object({ owner_id: OwnerId }).openapi('AddOwnerRequest');

export const PetOwnersSchema = z
  .object({ device_id: z.string(), owners: z.array(z.string()).openapi({ description: 'Owner ids holding the pet' }) })
  .openapi('PetOwners');

export const InviteSchema = z
  .object({
    code: z.string().openapi({ description: "One use, valid 24 h: the other pet's owner sends it to POST /api/pet/{its id}/friends" }),
    device_id: z.string(),
    expires_at: z.string(),
  })
  .openapi('FriendInvite');

export const AcceptBody = z
  .object({ code: z.string({ message: CODE_MESSAGE }).regex(/^[A-Za-z0-9_-]{22}$/, { message: CODE_MESSAGE }) })
  .openapi('AcceptInviteRequest');

export const FriendSchema = PetSummarySchema.extend({
  since: z.string(),
  familiarity: z.number().openapi({ description: "The pair's familiarity now, 0–1 (grows with visits, fades without)" }),
  last_visit: z.string().nullable(),
}).openapi('Friend');

export const FriendsSchema = z.object({ device_id: z.string(), friends: z.array(FriendSchema) }).openapi('Friends');

export const FriendParams = z.object({
  device_id: DeviceId.openapi({ param: { name: 'device_id', in: 'path' } }),
  friend_id: DeviceId.openapi({ param: { name: 'friend_id', in: 'path' }, description: DEVICE_ID_MESSAGE }),
});

export const UnfriendSchema = z.object({ device_id: z.string(), friend_id: z.string() }).openapi('Unfriended');

export const VisitBody = z.object({ friend_id: DeviceId }).openapi('VisitRequest');

export const VisitSchema = z
  .object({
    visit_id: z.string().openapi({ description: 'The same id in both pets’ `visited` events' }),
    device_id: z.string(),
    friend_id: z.string(),
    outcome: z.enum(['enjoyed', 'friend_asleep', 'visitor_asleep']),
    visitor_mood_delta: z.number(),
    friend_mood_delta: z.number(),
    familiarity: z.number(),
    visits: z.number().int().openapi({ description: 'stats.visits of the visitor, this visit included' }),
    simplified_state: SimplifiedStateSchema,
    version: z.number().int(),
  })
  .openapi('Visit');
