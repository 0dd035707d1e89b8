/**
 * The seed's routes: `/api/pet/{device_id}/…` (docs/design.md §5), plus PATCH, the forecast for the web
 * page, the claim (docs/reliability.md) and `POST /api/pets` (docs/design.md §8). Every one is served
 * by servePetRoute (checked input, pet-route.ts)
 * and reaches the pet through answerPet (pet-call.ts): rate limits, the claim's access rule and,
 * on the POSTs, Idempotency-Key.
 */
import { createRoute, type DocumentedHono } from '../openapi.js';
import {
  catchupOperation,
  claimOperation,
  createOperation,
  forecastOperation,
  interactOperation,
  newPetId,
  resetOperation,
  stateOperation,
  updateOperation,
  looksLikeOwnerSecret,
  type Owners,
  type Social,
} from '../../service/index.js';
import type { AppEnv } from '../env.js';
import { langOf } from '../lang.js';
import { jsonResponse } from '../json-response.js';
import { answerPet, callContextOf, noteServed, type PetCallDeps } from '../pet-call.js';
import { bearerOf } from '../request-guard.js';
import { servePetRoute } from '../pet-route.js';
import {
  CatchupBody,
  ClaimSchema,
  ErrorBody,
  ForecastQuery,
  ForecastSchema,
  IDEMPOTENCY_KEY_PARAMETER,
  InteractBody,
  LangOnlyQuery,
  PetCreateBody,
  PetParams,
  PetPatchBody,
  StateDocumentSchema,
  StateQuery,
} from '../schemas.js';

const json = <T>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const errors = {
  400: json(ErrorBody, 'Bad device id, action, hours, body, timezone or Idempotency-Key'),
  429: json(ErrorBody, 'Too many requests to this pet or from this client (Retry-After, RateLimit headers)'),
  503: json(ErrorBody, 'Storage unavailable, or too many concurrent changes to this pet'),
};
const readErrors = {
  ...errors,
  401: json(ErrorBody, 'Claimed pet, READS_REQUIRE_AUTH on, and no Bearer secret'),
  403: json(ErrorBody, 'Claimed pet, READS_REQUIRE_AUTH on, and a wrong Bearer secret'),
};
const changeErrors = {
  ...errors,
  401: json(ErrorBody, 'The pet is claimed and no Bearer secret was sent (WWW-Authenticate: Bearer)'),
  403: json(ErrorBody, "The Bearer secret is neither the pet's nor the admin token"),
};
const jsonBody = <T>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });
const withBodyErrors = {
  ...changeErrors,
  413: json(ErrorBody, 'Body larger than the limit'),
  415: json(ErrorBody, 'Body not sent as application/json'),
};
const idempotent = {
  parameters: [IDEMPOTENCY_KEY_PARAMETER],
  422: json(ErrorBody, 'Idempotency-Key already used for another body or route'),
};
/** Open unless claimed: the claim's secret, or the admin token. */
const security = [{ bearer: [] }, {}];

const stateRoute = createRoute({
  method: 'get',
  path: '/api/pet/{device_id}/state',
  tags: ['pet'],
  summary: 'The pet, brought to now (created on first sight)',
  description:
    'Advances the pet from its last stored instant to now. After more than an hour away the answer carries an `away` report. The answer carries an `ETag` (it changes with the stored version, the simulated minute, the language and the shape); send it back in `If-None-Match` to get a 304 without a body while nothing changed. `Cache-Control: private, no-cache`: keep it, revalidate every time.',
  security,
  request: { params: PetParams, query: StateQuery },
  responses: {
    200: json(StateDocumentSchema, 'The state document'),
    304: { description: 'Not modified: If-None-Match names the current ETag (no body)' },
    ...readErrors,
  },
});

const createPetRoute = createRoute({
  method: 'post',
  path: '/api/pets',
  tags: ['pet'],
  summary: 'Create a pet, born entrained to its local time of birth (with an owner secret: the owner holds it)',
  security: [{ bearer: [] }, {}],
  description:
    'A newborn has the body clock, sleep pressure and sleep state of a pet that has always lived in its timezone, at that local minute (born at 20:00 it sleeps that night at its usual hour; at 03:00 it is asleep). Without `device_id` an id is generated (`pet_` + 128 random bits): a retry then makes another pet, so send your own id to retry safely (with an Idempotency-Key a retry answers the first 201 again; without one it is a 409).',
  parameters: idempotent.parameters,
  request: { query: LangOnlyQuery, body: { required: false, content: { 'application/json': { schema: PetCreateBody } } } },
  responses: {
    201: json(StateDocumentSchema, 'The new pet'),
    ...errors,
    403: json(ErrorBody, 'The Bearer secret has the shape of an owner secret but is no owner’s'),
    409: json(
      ErrorBody,
      'A pet with this device_id already exists (`already_exists`), or the owner holds MAX_PETS_PER_OWNER pets (`limit_reached`)',
    ),
    413: json(ErrorBody, 'Body larger than the limit'),
    415: json(ErrorBody, 'Body not sent as application/json'),
    422: idempotent[422],
  },
});

const interactRoute = createRoute({
  method: 'post',
  path: '/api/pet/{device_id}/interact',
  tags: ['pet'],
  summary: 'Feed, play with or greet the pet',
  security,
  parameters: idempotent.parameters,
  request: { params: PetParams, query: LangOnlyQuery, body: jsonBody(InteractBody) },
  responses: {
    200: json(StateDocumentSchema, 'The state after the interaction, with `interaction`'),
    ...withBodyErrors,
    422: idempotent[422],
  },
});

const catchupRoute = createRoute({
  method: 'post',
  path: '/api/pet/{device_id}/catchup',
  tags: ['pet'],
  summary: "Fast-forward the pet's own clock by some simulated hours",
  description: 'Answers the new state with a `catchup` report: ticks simulated, sleeps, lowest energy, a summary and the time it took.',
  security,
  parameters: idempotent.parameters,
  request: { params: PetParams, query: LangOnlyQuery, body: jsonBody(CatchupBody) },
  responses: { 200: json(StateDocumentSchema, 'The state after catching up, with `catchup`'), ...withBodyErrors, 422: idempotent[422] },
});

const resetRoute = createRoute({
  method: 'post',
  path: '/api/pet/{device_id}/reset',
  tags: ['pet'],
  summary: "Start the pet's life over (keeps its name, timezone and claim)",
  security,
  parameters: idempotent.parameters,
  request: { params: PetParams, query: LangOnlyQuery },
  responses: { 200: json(StateDocumentSchema, 'The new life'), ...changeErrors, 422: idempotent[422] },
});

const patchRoute = createRoute({
  method: 'patch',
  path: '/api/pet/{device_id}',
  tags: ['pet'],
  summary: 'Rename the pet or move it to another timezone',
  description: 'A new timezone shifts its external day at once; its body clock follows over days (jet lag).',
  security,
  request: { params: PetParams, query: LangOnlyQuery, body: jsonBody(PetPatchBody) },
  responses: { 200: json(StateDocumentSchema, 'The updated state'), ...withBodyErrors },
});

const forecastRoute = createRoute({
  method: 'get',
  path: '/api/pet/{device_id}/forecast',
  tags: ['pet'],
  summary: 'The next hours of the pet, simulated without saving anything',
  security,
  request: { params: PetParams, query: ForecastQuery },
  responses: { 200: json(ForecastSchema, 'Sampled points from now'), ...readErrors },
});

const claimRoute = createRoute({
  method: 'post',
  path: '/api/pet/{device_id}/claim',
  tags: ['pet'],
  summary: 'Claim the pet: from now on, changing it needs the secret answered here, once',
  description:
    'Answers 201 with a secret (256 random bits, base64url); only its SHA-256 is stored. Changes to a claimed pet need `Authorization: Bearer <secret>` (its reads too when READS_REQUIRE_AUTH is on); the admin token opens every pet.',
  security,
  request: { params: PetParams },
  responses: {
    201: json(ClaimSchema, 'The secret, shown once'),
    ...changeErrors,
    409: json(ErrorBody, 'The pet is already claimed'),
  },
});

export function registerPetRoutes(app: DocumentedHono<AppEnv>, deps: PetCallDeps & { owners: Owners; social: Social }): void {
  const asIs = <T>(value: T) => value;

  servePetRoute(app, stateRoute, (c, { param, query }) =>
    answerPet(c, deps, {
      deviceId: param.device_id,
      operation: stateOperation(langOf(c, query.lang), query.timezone),
      render: asIs,
      conditional: true,
    }),
  );

  servePetRoute(app, createPetRoute, async (c, { query, json }) => {
    const birth: { pet_name?: string; timezone?: string } = {};
    if (json.pet_name !== undefined) birth.pet_name = json.pet_name;
    if (json.timezone !== undefined) birth.timezone = json.timezone;
    // With an owner secret (docs/design.md §8) the pet belongs to the owner; a wrong one is a 403, never an unowned pet.
    const bearer = bearerOf(c);
    if (looksLikeOwnerSecret(bearer)) {
      const ownerId = await deps.owners.require(bearer);
      const deviceId = json.device_id ?? newPetId();
      c.set('device', deviceId);
      const context = await callContextOf(c, deps, json.device_id === undefined ? undefined : json);
      const served = await deps.social.createOwnedPet(ownerId, deviceId, birth, langOf(c, query.lang), context);
      noteServed(c, deps, served);
      return jsonResponse(c, served.body, served.status);
    }
    return answerPet(c, deps, {
      deviceId: json.device_id ?? newPetId(),
      operation: createOperation(birth, langOf(c, query.lang)),
      render: asIs,
      status: 201,
      // A generated id is new on every try: a stored answer under it could never be found again.
      ...(json.device_id === undefined ? {} : { idempotentInput: json }),
    });
  });

  servePetRoute(app, interactRoute, (c, { param, query, json }) =>
    answerPet(c, deps, {
      deviceId: param.device_id,
      operation: interactOperation(json.action, langOf(c, query.lang)),
      render: asIs,
      idempotentInput: json,
    }),
  );

  servePetRoute(app, catchupRoute, (c, { param, query, json }) =>
    answerPet(c, deps, {
      deviceId: param.device_id,
      operation: catchupOperation(json.hours, langOf(c, query.lang)),
      render: asIs,
      idempotentInput: json,
    }),
  );

  servePetRoute(app, resetRoute, (c, { param, query }) =>
    answerPet(c, deps, { deviceId: param.device_id, operation: resetOperation(langOf(c, query.lang)), render: asIs, idempotentInput: {} }),
  );

  servePetRoute(app, patchRoute, (c, { param, query, json }) => {
    const update: { pet_name?: string; timezone?: string } = {};
    if (json.pet_name !== undefined) update.pet_name = json.pet_name;
    if (json.timezone !== undefined) update.timezone = json.timezone;
    return answerPet(c, deps, { deviceId: param.device_id, operation: updateOperation(update, langOf(c, query.lang)), render: asIs });
  });

  servePetRoute(app, forecastRoute, (c, { param, query }) =>
    answerPet(c, deps, {
      deviceId: param.device_id,
      operation: forecastOperation({ hours: query.hours, stepMinutes: query.step_minutes }),
      render: asIs,
    }),
  );

  // Never idempotent: a stored answer would keep the secret in storage.
  servePetRoute(app, claimRoute, (c, { param }) =>
    answerPet(c, deps, { deviceId: param.device_id, operation: claimOperation(), render: asIs, status: 201 }),
  );
}
