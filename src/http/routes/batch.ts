/**
 * Many operations and many pets in one request (docs/design.md §11):
 * `POST /api/batch` runs up to 100 operations (state, interact, catchup, reset, update) on any
 * pets and `GET /api/pets?ids=` reads up to 100 stored pets, each through PetService.batch: two
 * storage round trips for a batch (one pipelined load, one pipelined compare-and-set write), one
 * for a read. Each operation is a request of its own — the batch's Bearer secret and client, its
 * own rate-limit counts, access check and `idempotency_key` (fingerprinted as its single route, so
 * a key means one change whichever way it is sent) — and answers `{status, body}` exactly as its
 * single route would, errors included: a malformed operation is its own 400, a corrupt pet its own
 * 500; only a malformed envelope fails the whole request.
 */
import { createRoute, type DocumentedHono } from '../openapi.js';
import type { Context } from 'hono';
import { z } from 'zod';
import { InvalidInputError, type PetLifeError } from '../../errors.js';
import {
  catchupOperation,
  interactOperation,
  MAX_BATCH_OPERATIONS,
  peekOperation,
  resetOperation,
  stateOperation,
  updateOperation,
  type BatchOperation,
  type BatchResult,
  type IdempotencyRequest,
  type Operation,
} from '../../service/index.js';
import type { AppEnv } from '../env.js';
import { errorBodyOf, toWireError } from '../errors.js';
import { conditionalJsonResponse, jsonText, jsonTextResponse } from '../json-response.js';
import { langOf } from '../lang.js';
import type { Logger } from '../../log.js';
import type { PetCallDeps } from '../pet-call.js';
import { servePetRoute } from '../pet-route.js';
import {
  IDEMPOTENCY_KEY_MESSAGE,
  IDEMPOTENCY_KEY_PATTERN,
  bearerOf,
  clientAddressOf,
  fingerprintFor,
  idempotencyKeyFrom,
} from '../request-guard.js';
import { Action, DeviceId, ErrorBody, Hours, LangQuery, PetName, StateDocumentSchema, Timezone } from '../schemas.js';
import { invalidInputFrom } from '../validation.js';
import { UPDATE_MESSAGE } from '../../rules.js';

/** The batch route, and how many times the body limit of one request its body may be (16 KiB → 128 KiB). */
export const BATCH_PATH = '/api/batch';
export const BATCH_BODY_FACTOR = 8;

const IdempotencyKeyField = z
  .string({ message: IDEMPOTENCY_KEY_MESSAGE })
  .regex(IDEMPOTENCY_KEY_PATTERN, { message: IDEMPOTENCY_KEY_MESSAGE })
  .optional()
  .meta({ description: 'As the Idempotency-Key header of the single route (ignored for `state`)' });

const common = { device_id: DeviceId, lang: LangQuery, idempotency_key: IdempotencyKeyField };

/** One operation: `op` and the fields of its single route (body, and `lang`/`timezone` of its query). */
const BatchOperationSchema = z
  .discriminatedUnion('op', [
    z.object({ op: z.literal('state'), ...common, timezone: Timezone.optional() }).meta({ id: 'BatchState' }),
    z.object({ op: z.literal('interact'), ...common, action: Action }).meta({ id: 'BatchInteract' }),
    z.object({ op: z.literal('catchup'), ...common, hours: Hours }).meta({ id: 'BatchCatchup' }),
    z.object({ op: z.literal('reset'), ...common }).meta({ id: 'BatchReset' }),
    z
      .object({ op: z.literal('update'), ...common, pet_name: PetName.optional(), timezone: Timezone.optional() })
      .refine((body) => body.pet_name !== undefined || body.timezone !== undefined, { message: UPDATE_MESSAGE })
      .meta({ id: 'BatchUpdate' }),
  ])
  .meta({ id: 'BatchOperation' });
type BatchOperationInput = z.output<typeof BatchOperationSchema>;

const OPERATIONS_MESSAGE = `operations must be an array of 1 to ${MAX_BATCH_OPERATIONS} operations`;
/** What is checked as a whole: the envelope. Each operation is checked on its own. */
const BatchEnvelope = z.object({
  operations: z
    .array(z.unknown(), { message: OPERATIONS_MESSAGE })
    .min(1, { message: OPERATIONS_MESSAGE })
    .max(MAX_BATCH_OPERATIONS, { message: OPERATIONS_MESSAGE }),
});

const BatchBody = z.object({ operations: z.array(BatchOperationSchema).min(1).max(MAX_BATCH_OPERATIONS) }).meta({ id: 'BatchRequest' });

const ResultSchema = z
  .object({
    status: z.number().int().meta({ example: 200, description: 'The status its single route would answer' }),
    body: z.union([StateDocumentSchema, ErrorBody]).meta({ description: 'The body its single route would answer' }),
  })
  .meta({ id: 'BatchResult' });

const BatchAnswer = z.object({ results: z.array(ResultSchema) }).meta({ id: 'BatchResponse' });

const PetsQuery = z.object({
  ids: z.string({ message: `ids: 1 to ${MAX_BATCH_OPERATIONS} device ids, comma-separated` }).meta({
    example: 'device_1,device_2',
    description: `1 to ${MAX_BATCH_OPERATIONS} device ids, comma-separated (repeats are read once)`,
  }),
  lang: LangQuery,
});

const PetsAnswer = z
  .object({
    // A batch result and its id (documented as allOf: the BatchResult component and the rest).
    results: z.array(z.intersection(ResultSchema, z.object({ device_id: z.string() })).meta({ id: 'PetsResult' })),
  })
  .meta({ id: 'PetsResponse' });

const json = <T>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const security = [{ bearer: [] }, {}];

const batchRoute = createRoute({
  method: 'post',
  path: BATCH_PATH,
  tags: ['batch'],
  summary: `Up to ${MAX_BATCH_OPERATIONS} operations on any pets, in two storage round trips`,
  description:
    'Each operation answers what its single route would (`{status, body}`, in order). Operations on one pet apply in order and are saved together (atomic per pet); the batch is not atomic: a failed operation (its own 4xx/5xx) undoes nothing else. The Bearer secret applies to every operation; rate limits, access and `idempotency_key` are per operation. A malformed operation is its own 400; the request is a 400 only when the envelope is.',
  security,
  request: { body: { required: true, content: { 'application/json': { schema: BatchBody } } } },
  responses: {
    200: json(BatchAnswer, 'One result per operation, in order'),
    400: json(ErrorBody, 'Not a JSON object with 1–100 operations'),
    413: json(ErrorBody, `Body larger than ${BATCH_BODY_FACTOR} times the limit of one request (128 KiB)`),
    415: json(ErrorBody, 'Body not sent as application/json'),
  },
});

const petsRoute = createRoute({
  method: 'get',
  path: '/api/pets',
  tags: ['batch'],
  summary: `Up to ${MAX_BATCH_OPERATIONS} stored pets, brought to now, in one storage round trip`,
  description:
    'Reads only: a pet never stored is its own 404 (nothing is created) and the catch-up to now is not saved (the next change or single read saves it). Access as for a single read, per pet.',
  security,
  request: { query: PetsQuery },
  responses: {
    200: json(PetsAnswer, 'One result per distinct id, in order (with an ETag, as GET state)'),
    304: { description: 'Not modified: If-None-Match names the current ETag (no body)' },
    400: json(ErrorBody, `No ids, or more than ${MAX_BATCH_OPERATIONS}`),
  },
});

/** The operation and idempotency of one checked batch operation (throws the single route's input errors). */
function operationOf(c: Context<AppEnv>, input: BatchOperationInput): Omit<BatchOperation, 'petId' | 'render'> {
  const lang = langOf(c, input.lang);
  const id = input.device_id;
  /** As its single route fingerprints it: method, path and the validated body. */
  const keyed = (method: string, path: string, body: unknown): { idempotency?: IdempotencyRequest } => {
    const key = input.idempotency_key === undefined ? null : idempotencyKeyFrom(input.idempotency_key);
    return key === null ? {} : { idempotency: { key, fingerprint: fingerprintFor(method, path, body) } };
  };
  const as = (operation: Operation<unknown>) => operation;
  switch (input.op) {
    case 'state':
      return { operation: as(stateOperation(lang, input.timezone)) };
    case 'interact':
      return {
        operation: as(interactOperation(input.action, lang)),
        ...keyed('POST', `/api/pet/${id}/interact`, { action: input.action }),
      };
    case 'catchup':
      return { operation: as(catchupOperation(input.hours, lang)), ...keyed('POST', `/api/pet/${id}/catchup`, { hours: input.hours }) };
    case 'reset':
      return { operation: as(resetOperation(lang)), ...keyed('POST', `/api/pet/${id}/reset`, {}) };
    case 'update': {
      const update: { pet_name?: string; timezone?: string } = {};
      if (input.pet_name !== undefined) update.pet_name = input.pet_name;
      if (input.timezone !== undefined) update.timezone = input.timezone;
      return { operation: as(updateOperation(update, lang)), ...keyed('PATCH', `/api/pet/${id}`, update) };
    }
  }
}

/**
 * `{"results":[{"device_id"?, "status", "body"}, …]}` as JSON text, each body through jsonText: a
 * body from the read cache is frozen and its text made once for every request that answers it.
 */
function resultsText(results: ReadonlyArray<{ status: number; body: unknown }>, ids?: readonly string[]): string {
  const parts = results.map((result, index) => {
    const id = ids === undefined ? '' : `"device_id":${JSON.stringify(ids[index])},`;
    return `{${id}"status":${result.status},"body":${jsonText(result.body)}}`;
  });
  return `{"results":[${parts.join(',')}]}`;
}

export interface BatchRouteDeps extends PetCallDeps {
  log: Logger;
}

export function registerBatchRoutes(app: DocumentedHono<AppEnv>, deps: BatchRouteDeps): void {
  const asIs = (value: unknown) => value;

  /** Runs the prepared operations (failures at preparation keep their place) and answers each as its single route. */
  const answerAll = async (
    c: Context<AppEnv>,
    prepared: Array<BatchOperation | { failed: unknown }>,
  ): Promise<Array<{ status: number; body: unknown }>> => {
    const operations = prepared.filter((entry): entry is BatchOperation => !('failed' in entry));
    const timing = c.get('timing');
    const started = performance.now();
    let answer: Awaited<ReturnType<typeof deps.service.batch>>;
    try {
      answer = await deps.service.batch(operations, {
        bearer: bearerOf(c),
        client: deps.countsClients ? clientAddressOf(c, deps.trustProxy) : null,
        ...(timing === undefined ? {} : { timing }),
      });
    } finally {
      if (timing !== undefined) timing.serviceMs += performance.now() - started;
    }
    c.set('roundTrips', answer.roundTrips);
    const results = [...answer.value];
    return prepared.map((entry) => {
      const result: BatchResult = 'failed' in entry ? { ok: false, error: entry.failed } : (results.shift() as BatchResult);
      if (result.ok) {
        if (result.value.replayed) deps.metrics.replayed();
        return { status: result.value.status, body: result.value.body };
      }
      const wire = toWireError(result.error);
      if (wire.status >= 500) {
        // As app.onError logs a failed request: the details here, a safe message in the result.
        deps.log.error(
          { err: result.error, code: wire.code, path: c.req.path, request_id: c.get('requestId') ?? null },
          'batch operation failed',
        );
      }
      return { status: wire.status, body: errorBodyOf(c, wire) };
    });
  };

  servePetRoute(
    app,
    batchRoute,
    async (c, { json }) => {
      const raw = (json as unknown as { operations: unknown[] }).operations;
      const prepared = raw.map((entry): BatchOperation | { failed: unknown } => {
        const checked = BatchOperationSchema.safeParse(entry);
        if (!checked.success) return { failed: invalidInputFrom('json', checked.error) };
        try {
          return { petId: checked.data.device_id, render: asIs, ...operationOf(c, checked.data) };
        } catch (error) {
          return { failed: error };
        }
      });
      return jsonTextResponse(c, resultsText(await answerAll(c, prepared)), 200);
    },
    { bodySchema: BatchEnvelope },
  );

  servePetRoute(app, petsRoute, async (c, { query }) => {
    const ids = [...new Set(query.ids.split(',').map((id) => id.trim()))];
    if (ids.length > MAX_BATCH_OPERATIONS || (ids.length === 1 && ids[0] === '')) {
      throw new InvalidInputError('invalid_query', `ids: 1 to ${MAX_BATCH_OPERATIONS} device ids, comma-separated`);
    }
    const lang = langOf(c, query.lang);
    const prepared = ids.map((id): BatchOperation | { failed: unknown } => {
      const checked = DeviceId.safeParse(id);
      return checked.success
        ? { petId: id, operation: peekOperation(lang), render: asIs }
        : { failed: new InvalidInputError('invalid_device_id', checked.error.issues[0]?.message ?? 'invalid device id') as PetLifeError };
    });
    const results = await answerAll(c, prepared);
    return conditionalJsonResponse(c, undefined, 200, resultsText(results, ids));
  });
}
