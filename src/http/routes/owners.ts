/**
 * Owners (docs/design.md §8): `POST /api/owners` makes one (its secret shown once);
 * `GET /api/owners/me/pets` lists the pets of the owner whose secret is sent; `POST
 * /api/owners/me/pets` adopts a pet with its claim secret; `POST /api/pet/{id}/owners` offers a
 * pet to another owner (a family pet), who accepts with `POST /api/owners/me/offers` (owners by
 * consent, docs/design.md §8); `DELETE /api/pet/{id}/owners/me` leaves it. The service work is in
 * src/service/social/owners.ts, owner-offers.ts and social.ts.
 */
import { createRoute, type DocumentedHono } from '../openapi.js';
import type { Owners, Social, StreamGate } from '../../service/index.js';
import type { AppEnv } from '../env.js';
import { jsonResponse } from '../json-response.js';
import { callContextOf, noteServed, type PetCallDeps } from '../pet-call.js';
import { servePetRoute } from '../pet-route.js';
import { bearerOf, clientAddressOf } from '../request-guard.js';
import { ErrorBody, IDEMPOTENCY_KEY_PARAMETER, PetParams } from '../schemas.js';
import {
  AcceptOfferBody,
  AdoptBody,
  OfferOwnerBody,
  OwnerId,
  OwnedPetsSchema,
  OwnerOfferSchema,
  OwnerSchema,
  PetOwnersSchema,
} from '../social-schemas.js';

export interface SocialRouteDeps extends PetCallDeps {
  owners: Owners;
  social: Social;
  /** Counts reads of no single pet in the client's limit. */
  gate: Pick<StreamGate, 'chargeClient'>;
}

const json = <T>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const jsonBody = <T>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });
const common = {
  400: json(ErrorBody, 'Bad device id, owner id or body'),
  429: json(ErrorBody, 'Too many requests (Retry-After, RateLimit headers)'),
  503: json(ErrorBody, 'Storage unavailable, or too many concurrent changes'),
};
const ownerAuth = {
  401: json(ErrorBody, 'No Bearer secret (WWW-Authenticate: Bearer)'),
  403: json(ErrorBody, 'The Bearer secret is not an owner secret, or not one of this pet'),
};
const withBody = { 413: json(ErrorBody, 'Body larger than the limit'), 415: json(ErrorBody, 'Body not sent as application/json') };
/** An owner secret (or, on a pet, its claim secret or the admin token). */
const security = [{ bearer: [] }];

const createOwnerRoute = createRoute({
  method: 'post',
  path: '/api/owners',
  tags: ['owners'],
  summary: 'Create an owner: its id and secret, shown once',
  description:
    'Send the secret as `Authorization: Bearer <secret>`: it acts for every pet the owner holds, and `POST /api/pets` with it makes pets that belong to the owner. At most 20 owners per hour per client address (when RATE_LIMIT_PER_CLIENT is on).',
  responses: { 201: json(OwnerSchema, 'The new owner'), ...common },
});

const ownedPetsRoute = createRoute({
  method: 'get',
  path: '/api/owners/me/pets',
  tags: ['owners'],
  summary: "The owner's pets with their simplified states",
  security,
  responses: { 200: json(OwnedPetsSchema, 'Every pet the owner holds, brought to now (nothing saved)'), ...common, ...ownerAuth },
});

const adoptRoute = createRoute({
  method: 'post',
  path: '/api/owners/me/pets',
  tags: ['owners'],
  summary: 'Adopt a claimed pet with its claim secret',
  description:
    'The claim becomes ownership: the owner holds the pet, and the claim secret no longer opens it (so that nobody who leaves keeps access through it).',
  security,
  parameters: [IDEMPOTENCY_KEY_PARAMETER],
  request: { body: jsonBody(AdoptBody) },
  responses: {
    200: json(PetOwnersSchema, "The pet's owners"),
    ...common,
    ...ownerAuth,
    ...withBody,
    404: json(ErrorBody, 'No such pet'),
    409: json(ErrorBody, 'MAX_PETS_PER_OWNER or MAX_OWNERS_PER_PET reached (`limit_reached`)'),
  },
});

const offerOwnerRoute = createRoute({
  method: 'post',
  path: '/api/pet/{device_id}/owners',
  tags: ['owners'],
  summary: 'Offer the pet to another owner (a family pet): a one-use code',
  description:
    'By an owner of the pet (or its claim secret, or the admin token). Nothing changes until the other owner accepts the code with POST /api/owners/me/offers and its own secret; with `owner_id`, only that owner may. An offer made by an owner lapses if that owner leaves.',
  security,
  request: { params: PetParams, body: jsonBody(OfferOwnerBody) },
  responses: {
    201: json(OwnerOfferSchema, 'The offer'),
    ...common,
    ...ownerAuth,
    ...withBody,
    404: json(ErrorBody, 'No such pet or owner'),
  },
});

const acceptOfferRoute = createRoute({
  method: 'post',
  path: '/api/owners/me/offers',
  tags: ['owners'],
  summary: 'Accept an offer of a pet: the owner whose secret is sent holds it from now on',
  description: 'A failed accept (a limit reached, an outage) leaves the code usable; a successful one uses it up.',
  security,
  request: { body: jsonBody(AcceptOfferBody) },
  responses: {
    200: json(PetOwnersSchema, "The pet's owners"),
    ...common,
    ...ownerAuth,
    ...withBody,
    404: json(ErrorBody, 'Unknown, used or expired code, or no such pet'),
    409: json(ErrorBody, 'MAX_PETS_PER_OWNER or MAX_OWNERS_PER_PET reached (`limit_reached`)'),
  },
});

const leaveRoute = createRoute({
  method: 'delete',
  path: '/api/pet/{device_id}/owners/me',
  tags: ['owners'],
  summary: 'Stop holding the pet (the owner whose secret is sent)',
  description: 'A pet left by its last owner is open again, unless it has a claim secret.',
  security,
  request: { params: PetParams },
  responses: { 200: json(PetOwnersSchema, "The pet's owners left"), ...common, ...ownerAuth, 404: json(ErrorBody, 'No such pet') },
});

const removeOwnerRoute = createRoute({
  method: 'delete',
  path: '/api/pet/{device_id}/owners/{owner_id}',
  tags: ['owners'],
  summary: 'Remove an owner from the pet (the admin token only)',
  description:
    'Owners are equals: none removes another (an owner leaves with DELETE /api/pet/{id}/owners/me). The admin token removes any owner; its open streams are closed.',
  security,
  request: { params: PetParams.extend({ owner_id: OwnerId }) },
  responses: {
    200: json(PetOwnersSchema, "The pet's owners left"),
    ...common,
    ...ownerAuth,
    404: json(ErrorBody, 'No such pet, or no such owner of it'),
  },
});

export function registerOwnerRoutes(app: DocumentedHono<AppEnv>, deps: SocialRouteDeps): void {
  const { owners, social } = deps;

  // Counted per client address when per-client limits are on (RATE_LIMIT_PER_CLIENT > 0).
  servePetRoute(app, createOwnerRoute, async (c) =>
    jsonResponse(c, await owners.create(deps.countsClients ? clientAddressOf(c, deps.trustProxy) : null), 201),
  );

  servePetRoute(app, ownedPetsRoute, async (c) => {
    const ownerId = await owners.require(bearerOf(c));
    const client = deps.countsClients ? clientAddressOf(c, deps.trustProxy) : null;
    // Counted by what it reads (docs/design.md §14): one unit before, one more per pet listed after the first.
    await deps.gate.chargeClient(client, 1);
    const pets = await social.ownedPets(ownerId);
    if (pets.length > 1) await deps.gate.chargeClient(client, pets.length - 1).catch(() => undefined);
    return jsonResponse(c, { owner_id: ownerId, pets }, 200);
  });

  servePetRoute(app, adoptRoute, async (c, { json: body }) => {
    const ownerId = await owners.require(bearerOf(c));
    c.set('device', body.device_id);
    const context = await callContextOf(c, deps, body);
    const served = await social.adopt(ownerId, body.device_id, body.secret, context);
    noteServed(c, deps, served);
    return jsonResponse(c, served.body, served.status);
  });

  servePetRoute(app, offerOwnerRoute, async (c, { param, json: body }) => {
    c.set('device', param.device_id);
    const served = await social.offerOwner(param.device_id, body.owner_id ?? null, await callContextOf(c, deps));
    noteServed(c, deps, served);
    return jsonResponse(c, served.body, served.status);
  });

  servePetRoute(app, acceptOfferRoute, async (c, { json: body }) => {
    const ownerId = await owners.require(bearerOf(c));
    const served = await social.acceptOffer(ownerId, body.code, await callContextOf(c, deps));
    c.set('device', served.body.device_id);
    noteServed(c, deps, served);
    return jsonResponse(c, served.body, served.status);
  });

  servePetRoute(app, leaveRoute, async (c, { param }) => {
    c.set('device', param.device_id);
    const context = await callContextOf(c, deps);
    // Only an owner can leave: no secret is a 401, any other secret a 403.
    if (context.owner === null) await owners.require(context.bearer ?? null);
    const served = await social.leave(param.device_id, context);
    noteServed(c, deps, served);
    return jsonResponse(c, served.body, served.status);
  });

  servePetRoute(app, removeOwnerRoute, async (c, { param }) => {
    c.set('device', param.device_id);
    const served = await social.removeOwner(param.device_id, param.owner_id, await callContextOf(c, deps));
    noteServed(c, deps, served);
    return jsonResponse(c, served.body, served.status);
  });
}
