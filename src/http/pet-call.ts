/**
 * The one way a route reaches a pet: the request's guards (Bearer secret, client address,
 * Idempotency-Key) go to PetService.perform with the operation, and the answer comes back with
 * its RateLimit headers (and `Idempotent-Replayed: true` when it is a stored first answer).
 * Leaves the pet and the storage round trips on the context for the request log.
 */
import type { Context } from 'hono';
import type { Answer, CallContext, Operation, Owners, PetService, Served } from '../service/index.js';
import type { AppEnv } from './env.js';
import type { AppMetrics } from './metrics.js';
import { conditionalJsonResponse, jsonResponse } from './json-response.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import { bearerOf, clientAddressOf, fingerprintOf, idempotencyKeyOf } from './request-guard.js';

export interface PetCallDeps {
  service: PetService;
  /** Take the client address from X-Forwarded-For (TRUST_PROXY). */
  trustProxy: boolean;
  /** A per-client limit is on: the address is needed (else it is not looked up). */
  countsClients: boolean;
  /** Counts replayed answers. */
  metrics: Pick<AppMetrics, 'replayed'>;
  /** Finds the owner an owner secret proves (docs/design.md §8): such a Bearer acts for every pet its owner holds. */
  owners: Pick<Owners, 'resolve'>;
}

export interface PetCall<T, B> {
  deviceId: string;
  operation: Operation<T>;
  /** The body answered (and, with an Idempotency-Key, stored) for the operation's value. */
  render: (value: T, nowMs: number) => B;
  /**
   * The validated input the request acts on; given, an Idempotency-Key makes the call idempotent
   * and this input is part of its fingerprint. Absent: the header is ignored.
   */
  idempotentInput?: unknown;
  /** Status of a fresh answer. @default 200 */
  status?: number;
  /** A read that may be revalidated: ETag, and 304 on a matching If-None-Match (json-response.ts). */
  conditional?: boolean;
}

/** Leaves the pet and the storage cost on the context for the request log. */
export function noteAnswer(c: Context<AppEnv>, deviceId: string, answer: Answer<unknown>): void {
  c.set('device', deviceId);
  c.set('roundTrips', answer.roundTrips);
}

/**
 * What the request in `c` carries for the service: its Bearer secret, address and, when
 * `idempotentInput` is given, its Idempotency-Key. The owner the secret proves is resolved by the
 * service (DESIGN §15: HTTP parses, the service admits).
 */
export function requestOf(c: Context<AppEnv>, deps: PetCallDeps, idempotentInput?: unknown): Omit<CallContext, 'owner'> {
  const key = idempotentInput === undefined ? null : idempotencyKeyOf(c);
  const timing = c.get('timing');
  return {
    bearer: bearerOf(c),
    client: deps.countsClients ? clientAddressOf(c, deps.trustProxy) : null,
    idempotency: key === null ? null : { key, fingerprint: fingerprintOf(c, idempotentInput) },
    ...(timing === undefined ? {} : { timing }),
  };
}

/**
 * requestOf with the owner the Bearer secret proves (one read of the owner's record unless
 * remembered): for the owner and social routes, which act on the owner itself.
 */
export async function callContextOf(c: Context<AppEnv>, deps: PetCallDeps, idempotentInput?: unknown): Promise<CallContext> {
  const request = requestOf(c, deps, idempotentInput);
  return { ...request, owner: await deps.owners.resolve(request.bearer ?? null) };
}

/** Puts what a served answer says about limits and replays into the response headers. */
export function noteServed(c: Context<AppEnv>, deps: PetCallDeps, served: Served<unknown>): void {
  const headers = c.get('headers');
  if (served.limits.length > 0) Object.assign(headers, rateLimitHeaders(served.limits));
  // The fingerprint covers method and path, so a replay's stored status is this route's status.
  if (served.replayed) {
    headers['Idempotent-Replayed'] = 'true';
    deps.metrics.replayed();
  }
}

/** Runs `call` for the request in `c`; returns the body to answer (answerPet sends it). */
async function callPet<T, B>(c: Context<AppEnv>, deps: PetCallDeps, call: PetCall<T, B>): Promise<B> {
  c.set('device', call.deviceId);
  const timing = c.get('timing');
  const started = performance.now();
  let answer: Answer<Served<B>>;
  try {
    answer = await deps.service.perform(call.deviceId, call.operation, {
      ...requestOf(c, deps, call.idempotentInput),
      render: call.render,
      ...(call.status === undefined ? {} : { status: call.status }),
    });
  } finally {
    if (timing !== undefined) timing.serviceMs += performance.now() - started;
  }
  noteAnswer(c, call.deviceId, answer);
  noteServed(c, deps, answer.value);
  return answer.value.body;
}

/** callPet, answered as JSON with the call's status (200 unless it says otherwise). */
export async function answerPet<T, B>(c: Context<AppEnv>, deps: PetCallDeps, call: PetCall<T, B>): Promise<Response> {
  const body = await callPet(c, deps, call);
  return call.conditional === true ? conditionalJsonResponse(c, body, call.status ?? 200) : jsonResponse(c, body, call.status ?? 200);
}
