/**
 * A batch (POST /api/batch, GET /api/pets?ids=): each operation planned as its own request
 * (request-plan.ts), every pet loaded in one round trip and every changed pet saved in one
 * (run-batch.ts); a pet owing its friends a change is finished as after any request (outbox.ts).
 */
import { InvalidInputError } from '../../errors.js';
import { assertPetId } from '../../storage/index.js';
import type { IdempotencyRequest } from './idempotency.js';
import type { RequestTiming } from '../observer.js';
import type { Operation } from './operations.js';
import { planRequest, type PlanDeps, type Served, type Step } from './request-plan.js';
import { runBatch, type BatchItem } from './run-batch.js';
import type { RunDeps, RunResult } from './run-on-pet.js';
import type { Answer } from './types.js';

/** Operations one batch holds at most (POST /api/batch, GET /api/pets?ids=). */
export const MAX_BATCH_OPERATIONS = 100;

/** One operation of a batch: as `perform` takes it, on its pet. */
export interface BatchOperation {
  petId: string;
  operation: Operation<unknown>;
  /** Turns the operation's value into the body answered (and stored, with a key). */
  render: (value: unknown, nowMs: number) => unknown;
  /** Makes this change idempotent (ignored by read-only operations). */
  idempotency?: IdempotencyRequest | null;
  /** Status of a fresh answer. @default 200 */
  status?: number;
}

/** What the batch request brings, for each of its operations. */
export interface BatchContext {
  bearer?: string | null;
  /** The owner id the Bearer secret was verified as (DESIGN §8); null or absent when none. */
  owner?: string | null;
  client?: string | null;
  /** A trusted caller: no access check, no limits (as RequestContext.trusted). */
  trusted?: boolean;
  timing?: RequestTiming;
}

/** One operation's answer: served, or the error it failed with (the HTTP layer maps it). */
export type BatchResult = { ok: true; value: Served<unknown> } | { ok: false; error: unknown };

/** What a batch needs of the service. */
export interface BatchDeps {
  run: RunDeps;
  plan: PlanDeps;
  resolveOwner: (bearer: string | null) => Promise<string | null>;
  finishOutbox: <R>(petId: string, answer: Answer<RunResult<R>>) => Promise<Answer<RunResult<R>>>;
}

export async function performBatch(
  deps: BatchDeps,
  operations: readonly BatchOperation[],
  context: BatchContext = {},
): Promise<Answer<BatchResult[]>> {
  if (operations.length > MAX_BATCH_OPERATIONS) {
    throw new InvalidInputError('invalid_body', `a batch holds at most ${MAX_BATCH_OPERATIONS} operations, got ${operations.length}`);
  }
  const owner = context.owner !== undefined ? context.owner : await deps.resolveOwner(context.bearer ?? null);
  const results: (BatchResult | undefined)[] = operations.map(() => undefined);
  const items: BatchItem<Step<unknown, unknown>>[] = [];
  const serving: Array<{ index: number; serve: (ran: RunResult<Step<unknown, unknown>>) => Served<unknown> }> = [];
  operations.forEach((entry, index) => {
    try {
      assertPetId(entry.petId);
      // Each operation is its own request: the batch's Bearer secret and client, its own key.
      const { plan, serve } = planRequest(deps.plan, entry.petId, entry.operation, {
        bearer: context.bearer ?? null,
        owner,
        client: context.client ?? null,
        idempotency: entry.idempotency ?? null,
        render: entry.render,
        ...(entry.status === undefined ? {} : { status: entry.status }),
        ...(context.trusted === undefined ? {} : { trusted: context.trusted }),
      });
      items.push({ petId: entry.petId, plan });
      serving.push({ index, serve });
    } catch (error) {
      results[index] = { ok: false, error };
    }
  });
  const { outcomes, roundTrips } = await runBatch(deps.run, items, context.timing);
  // A pet still owing its friends a visit's half (DESIGN §8) is finished here too, as by any request.
  const lastRuns = new Map<string, RunResult<Step<unknown, unknown>>>();
  outcomes.forEach((outcome, position) => {
    if (outcome.ok) lastRuns.set((items[position] as (typeof items)[number]).petId, outcome.run);
  });
  await Promise.all([...lastRuns].map(([petId, ran]) => deps.finishOutbox(petId, { value: ran, roundTrips: 0, attempts: 1 })));
  outcomes.forEach((outcome, position) => {
    const { index, serve } = serving[position] as (typeof serving)[number];
    if (!outcome.ok) {
      results[index] = outcome;
      return;
    }
    try {
      results[index] = { ok: true, value: serve(outcome.run) };
    } catch (error) {
      results[index] = { ok: false, error };
    }
  });
  return { value: results as BatchResult[], roundTrips, attempts: 1 };
}
