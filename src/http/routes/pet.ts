/** The seed's routes: `/api/pet/{device_id}/…` (DESIGN §5), plus PATCH and the forecast for the web page. */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Answer, PetService } from '../../service/index.js';
import type { AppEnv } from '../env.js';
import { pickLang } from '../lang.js';
import {
  CatchupBody,
  ErrorBody,
  ForecastQuery,
  ForecastSchema,
  InteractBody,
  LangOnlyQuery,
  PetParams,
  PetPatchBody,
  StateDocumentSchema,
} from '../schemas.js';

const json = <T>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const errors = {
  400: json(ErrorBody, 'Bad device id, action, hours, body or timezone'),
  503: json(ErrorBody, 'Storage unavailable, or too many concurrent changes to this pet'),
};
const jsonBody = <T>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });
const withBodyErrors = {
  ...errors,
  413: json(ErrorBody, 'Body larger than the limit'),
  415: json(ErrorBody, 'Body not sent as application/json'),
};

const stateRoute = createRoute({
  method: 'get',
  path: '/api/pet/{device_id}/state',
  tags: ['pet'],
  summary: 'The pet, brought to now (created on first sight)',
  description:
    'Advances the pet from its last stored instant to now. After more than an hour away the answer carries an `away` report.',
  request: { params: PetParams, query: LangOnlyQuery },
  responses: { 200: json(StateDocumentSchema, 'The state document'), ...errors },
});

const interactRoute = createRoute({
  method: 'post',
  path: '/api/pet/{device_id}/interact',
  tags: ['pet'],
  summary: 'Feed, play with or greet the pet',
  request: { params: PetParams, query: LangOnlyQuery, body: jsonBody(InteractBody) },
  responses: { 200: json(StateDocumentSchema, 'The state after the interaction, with `interaction`'), ...withBodyErrors },
});

const catchupRoute = createRoute({
  method: 'post',
  path: '/api/pet/{device_id}/catchup',
  tags: ['pet'],
  summary: "Fast-forward the pet's own clock by some simulated hours",
  description: 'Answers the new state with a `catchup` report: ticks simulated, sleeps, lowest energy, a summary and the time it took.',
  request: { params: PetParams, query: LangOnlyQuery, body: jsonBody(CatchupBody) },
  responses: { 200: json(StateDocumentSchema, 'The state after catching up, with `catchup`'), ...withBodyErrors },
});

const resetRoute = createRoute({
  method: 'post',
  path: '/api/pet/{device_id}/reset',
  tags: ['pet'],
  summary: "Start the pet's life over (keeps its name and timezone)",
  request: { params: PetParams, query: LangOnlyQuery },
  responses: { 200: json(StateDocumentSchema, 'The new life'), ...errors },
});

const patchRoute = createRoute({
  method: 'patch',
  path: '/api/pet/{device_id}',
  tags: ['pet'],
  summary: 'Rename the pet or move it to another timezone',
  description: 'A new timezone shifts its external day at once; its body clock follows over days (jet lag).',
  request: { params: PetParams, query: LangOnlyQuery, body: jsonBody(PetPatchBody) },
  responses: { 200: json(StateDocumentSchema, 'The updated state'), ...withBodyErrors },
});

const forecastRoute = createRoute({
  method: 'get',
  path: '/api/pet/{device_id}/forecast',
  tags: ['pet'],
  summary: 'The next hours of the pet, simulated without saving anything',
  request: { params: PetParams, query: ForecastQuery },
  responses: { 200: json(ForecastSchema, 'Sampled points from now'), ...errors },
});

/** Leaves the pet and the storage cost on the context for the request log. */
export function noteAnswer(c: Context<AppEnv>, deviceId: string, answer: Answer<unknown>): void {
  c.set('device', deviceId);
  c.set('roundTrips', answer.roundTrips);
}

export function registerPetRoutes(app: OpenAPIHono<AppEnv>, service: PetService): void {
  app.openapi(stateRoute, async (c) => {
    const { device_id } = c.req.valid('param');
    c.set('device', device_id);
    const lang = pickLang(c.req.valid('query').lang, c.req.header('accept-language'));
    const answer = await service.getState(device_id, { lang });
    noteAnswer(c, device_id, answer);
    return c.json(answer.value, 200);
  });

  app.openapi(interactRoute, async (c) => {
    const { device_id } = c.req.valid('param');
    c.set('device', device_id);
    const lang = pickLang(c.req.valid('query').lang, c.req.header('accept-language'));
    const answer = await service.interact(device_id, c.req.valid('json').action, { lang });
    noteAnswer(c, device_id, answer);
    return c.json(answer.value, 200);
  });

  app.openapi(catchupRoute, async (c) => {
    const { device_id } = c.req.valid('param');
    c.set('device', device_id);
    const lang = pickLang(c.req.valid('query').lang, c.req.header('accept-language'));
    const answer = await service.catchup(device_id, c.req.valid('json').hours, { lang });
    noteAnswer(c, device_id, answer);
    return c.json(answer.value, 200);
  });

  app.openapi(resetRoute, async (c) => {
    const { device_id } = c.req.valid('param');
    c.set('device', device_id);
    const lang = pickLang(c.req.valid('query').lang, c.req.header('accept-language'));
    const answer = await service.reset(device_id, { lang });
    noteAnswer(c, device_id, answer);
    return c.json(answer.value, 200);
  });

  app.openapi(patchRoute, async (c) => {
    const { device_id } = c.req.valid('param');
    c.set('device', device_id);
    const lang = pickLang(c.req.valid('query').lang, c.req.header('accept-language'));
    const body = c.req.valid('json');
    const update: { pet_name?: string; timezone?: string } = {};
    if (body.pet_name !== undefined) update.pet_name = body.pet_name;
    if (body.timezone !== undefined) update.timezone = body.timezone;
    const answer = await service.update(device_id, update, { lang });
    noteAnswer(c, device_id, answer);
    return c.json(answer.value, 200);
  });

  app.openapi(forecastRoute, async (c) => {
    const { device_id } = c.req.valid('param');
    c.set('device', device_id);
    const query = c.req.valid('query');
    const answer = await service.forecast(device_id, { hours: query.hours, stepMinutes: query.step_minutes });
    noteAnswer(c, device_id, answer);
    return c.json(answer.value, 200);
  });
}
