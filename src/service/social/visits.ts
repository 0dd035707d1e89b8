// Social: a visit between two pets and its effect on both.
/**
 * A visit (docs/design.md §8): `POST /api/pet/{id}/visit {"friend_id"}`. The effect
 * is the engine's (visitEffect, from both pets' states at the visit minute and the pair's
 * familiarity). The visitor's write applies its half, counts the visit and puts the friend's
 * half in its outbox, in one compare-and-set (with the Idempotency-Key's record when one is
 * sent); the pet service then delivers that half to the friend (outbox.ts), exactly once.
 */
import { applyVisit, visitEffect, type SimplifiedState, simplify, type VisitOutcome } from '../../engine/index.js';
import { InvalidInputError, NotFoundError, NotFriendsError } from '../../errors.js';
import type { FriendLink } from '../../storage/index.js';
import type { LivePet } from '../pets/live-pet.js';
import type { Operation } from '../pets/operations.js';
import { nextOutboxSeq, withOutboxEntry } from './outbox.js';
import { petEventDraft } from '../events/pet-events.js';

const MS_PER_DAY = 86_400_000;

/** Days since the pair's last visit (0 before the first): what familiarity fades over. */
export function daysSinceVisit(link: FriendLink, nowMs: number): number {
  return link.visited_ms === null ? 0 : (nowMs - link.visited_ms) / MS_PER_DAY;
}

/** What a visit answers. */
export interface VisitResult {
  /** `<visitor id>:<seq>`: the same in both pets' `visited` events. */
  visit_id: string;
  device_id: string;
  friend_id: string;
  outcome: VisitOutcome;
  /** Mood points the visit gave the visitor (negative: disappointed). */
  visitor_mood_delta: number;
  /** Mood points it gives the friend (delivered to the friend once, after the visitor's write). */
  friend_mood_delta: number;
  /** The pair's familiarity after the visit, [0, 1]. */
  familiarity: number;
  /** Visits the visitor has taken part in, this one included. */
  visits: number;
  simplified_state: SimplifiedState;
  version: number;
}

/**
 * The visitor's half of a visit to `friendId`; `friend` is the friend as it stands now (peeked
 * just before; null when it is not stored).
 */
export function visitOperation(friendId: string, friend: LivePet | null): Operation<VisitResult> {
  return {
    access: 'write',
    check: (pet) => {
      if (pet.created) throw new NotFoundError(`no pet ${pet.petId}`);
      if (friendId === pet.petId) throw new InvalidInputError('invalid_body', 'a pet cannot visit itself');
      if (pet.meta.friends?.[friendId] === undefined) throw new NotFriendsError(`${pet.petId} and ${friendId} are not friends`);
      if (friend === null) throw new NotFoundError(`the friend ${friendId} is not stored any more`);
    },
    apply: (pet, nowMs) => {
      const link = pet.meta.friends?.[friendId];
      if (link === undefined || friend === null) throw new NotFriendsError(`${pet.petId} and ${friendId} are not friends`);
      const effect = visitEffect(pet.state, friend.state, link.familiarity, daysSinceVisit(link, nowMs));
      pet.state = applyVisit(pet.state, effect.visitorMood);
      const friends = { ...pet.meta.friends, [friendId]: { ...link, familiarity: effect.familiarity, visited_ms: nowMs } };
      // The visit is named by the outbox entry that carries it to the friend.
      const visitId = `${pet.petId}:${nextOutboxSeq(pet.meta)}`;
      pet.meta = withOutboxEntry(
        { ...pet.meta, friends },
        {
          to: friendId,
          kind: 'visit',
          at: new Date(nowMs).toISOString(),
          visit: { id: visitId, mood: effect.friendMood, familiarity: effect.familiarity, visited_ms: nowMs, outcome: effect.outcome },
        },
      ).meta;
      const event = petEventDraft('visited', pet, nowMs, {
        visit_id: visitId,
        role: 'visitor',
        with: friendId,
        outcome: effect.outcome,
        mood_delta: effect.visitorMood,
        familiarity: effect.familiarity,
      });
      return {
        changed: true,
        events: [event],
        present: (version) => ({
          visit_id: visitId,
          device_id: pet.petId,
          friend_id: friendId,
          outcome: effect.outcome,
          visitor_mood_delta: effect.visitorMood,
          friend_mood_delta: effect.friendMood,
          familiarity: effect.familiarity,
          visits: pet.state.stats.visits ?? 0,
          simplified_state: simplify(pet.state),
          version,
        }),
      };
    },
  };
}
