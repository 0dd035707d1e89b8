/**
 * Friends and visits (docs/design.md §8): invite codes, accepting one, the friends
 * list with their simplified states, ending a friendship, and a visit to a friend (exactly once
 * on both pets: src/service/social/outbox.ts). The service work is in src/service/social/social.ts and visits.ts.
 */
import { createRoute, type DocumentedHono } from '../openapi.js';
import type { Context } from 'hono';
import type { Served } from '../../service/index.js';
import type { AppEnv } from '../env.js';
import { jsonResponse } from '../json-response.js';
import { callContextOf, noteServed } from '../pet-call.js';
import { servePetRoute } from '../pet-route.js';
import { ErrorBody, IDEMPOTENCY_KEY_PARAMETER, PetParams } from '../schemas.js';
import {
  AcceptBody,
  FriendParams,
  FriendSchema,
  FriendsSchema,
  InviteSchema,
  UnfriendSchema,
  VisitBody,
  VisitSchema,
} from '../social-schemas.js';
import type { SocialRouteDeps } from './owners.js';

const json = <T>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const jsonBody = <T>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });
const common = {
  400: json(ErrorBody, 'Bad device id or body'),
  401: json(ErrorBody, 'The pet is claimed or has owners, and no Bearer secret was sent'),
  403: json(ErrorBody, 'The Bearer secret opens neither this pet (claim, owner) nor everything (admin token)'),
  404: json(ErrorBody, 'No such pet (or invite code)'),
  429: json(ErrorBody, 'Too many requests (Retry-After, RateLimit headers)'),
  503: json(ErrorBody, 'Storage unavailable, or too many concurrent changes'),
};
const withBody = { 413: json(ErrorBody, 'Body larger than the limit'), 415: json(ErrorBody, 'Body not sent as application/json') };
/** Open unless the pet is claimed or has owners. */
const security = [{ bearer: [] }, {}];

const inviteRoute = createRoute({
  method: 'post',
  path: '/api/pet/{device_id}/friends/invite',
  tags: ['friends'],
  summary: 'A one-use invite code, valid 24 h, to make this pet friends with another',
  security,
  request: { params: PetParams },
  responses: { 201: json(InviteSchema, 'The code'), ...common },
});

const acceptRoute = createRoute({
  method: 'post',
  path: '/api/pet/{device_id}/friends',
  tags: ['friends'],
  summary: "Accept an invite: this pet and the code's pet become friends (both ways)",
  description: 'By whoever may change this pet. The code is used up. Both pets log a `befriended` event.',
  security,
  request: { params: PetParams, body: jsonBody(AcceptBody) },
  responses: {
    201: json(FriendSchema, 'The new friend'),
    ...common,
    ...withBody,
    409: json(ErrorBody, 'Friends already (`already_exists`), or 50 friends reached (`limit_reached`)'),
  },
});

const friendsRoute = createRoute({
  method: 'get',
  path: '/api/pet/{device_id}/friends',
  tags: ['friends'],
  summary: "The pet's friends with their simplified states",
  security,
  request: { params: PetParams },
  responses: { 200: json(FriendsSchema, 'Friends, brought to now (nothing saved)'), ...common },
});

const unfriendRoute = createRoute({
  method: 'delete',
  path: '/api/pet/{device_id}/friends/{friend_id}',
  tags: ['friends'],
  summary: 'End a friendship, on both sides',
  security,
  request: { params: FriendParams },
  responses: { 200: json(UnfriendSchema, 'Ended'), ...common, 403: json(ErrorBody, 'Not friends (`not_friends`), or a wrong secret') },
});

const visitRoute = createRoute({
  method: 'post',
  path: '/api/pet/{device_id}/visit',
  tags: ['friends'],
  summary: 'The pet visits a friend',
  description:
    'The effect on both depends on both states (docs/life-model.md §Visits): both awake, both moods and the pair’s familiarity rise; a sleeping friend is not woken and the visitor is a little disappointed; a hungry visitor enjoys it less. Both pets count it in `stats.visits` and log a `visited` event, exactly once (send an Idempotency-Key to retry safely).',
  security,
  parameters: [IDEMPOTENCY_KEY_PARAMETER],
  request: { params: PetParams, body: jsonBody(VisitBody) },
  responses: {
    200: json(VisitSchema, 'The visit'),
    ...common,
    ...withBody,
    403: json(ErrorBody, 'Not friends (`not_friends`), or a wrong secret'),
    422: json(ErrorBody, 'Idempotency-Key already used for another body or route'),
  },
});

export function registerSocialRoutes(app: DocumentedHono<AppEnv>, deps: SocialRouteDeps): void {
  const { social } = deps;
  const answer = async <B>(c: Context<AppEnv>, petId: string, serve: () => Promise<Served<B>>): Promise<Response> => {
    c.set('device', petId);
    const served = await serve();
    noteServed(c, deps, served);
    return jsonResponse(c, served.body, served.status);
  };

  servePetRoute(app, inviteRoute, async (c, { param }) =>
    answer(c, param.device_id, async () => social.invite(param.device_id, await callContextOf(c, deps))),
  );
  servePetRoute(app, acceptRoute, async (c, { param, json: body }) =>
    answer(c, param.device_id, async () => social.accept(param.device_id, body.code, await callContextOf(c, deps))),
  );
  servePetRoute(app, friendsRoute, async (c, { param }) =>
    answer(c, param.device_id, async () => social.friends(param.device_id, await callContextOf(c, deps))),
  );
  servePetRoute(app, unfriendRoute, async (c, { param }) =>
    answer(c, param.device_id, async () => social.unfriend(param.device_id, param.friend_id, await callContextOf(c, deps))),
  );
  servePetRoute(app, visitRoute, async (c, { param, json: body }) =>
    answer(c, param.device_id, async () => social.visit(param.device_id, body.friend_id, await callContextOf(c, deps, body))),
  );
}
