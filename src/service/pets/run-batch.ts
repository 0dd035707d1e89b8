// Request path: many plans on many pets in two storage round trips.
/**
 * Many plans on many pets in two storage round trips (docs/design.md §11): every pet
 * is loaded with ONE loadMany (the plans' rate-limit hits counted in it), each pet's plans run in
 * order on that one loaded pet, and every pet that needs it is saved with ONE saveMany of
 * compare-and-sets. Each pet is atomic (its plans are saved together or not at all); the batch is
 * not (a plan that throws is that plan's own failure; the others of its pet and the other pets go
 * on). On a conflict only the conflicting pets are loaded again and their plans redone, with the
 * jittered backoff of runOnPet, up to `maxAttempts`.
 *
 * The pieces are runOnPet's (hydrate, bring to now, life events, newborn mark, TTL, corrupt-pet
 * overwrite) and the plans are the ones `perform` builds, so a batched operation answers what the
 * single route answers. Each plan sees the pet as the plans before it left it, on a copy of its
 * own (a shallow copy with its own meta: the engine state is replaced, never edited in place, but
 * a catch-up edits meta), so that the answer it presents after the save is its own moment, not the
 * last plan's, and a plan that throws leaves nothing behind.
 *
 * A pet whose stored state cannot be read answers each plan its CorruptStateError, except that
 * from the first plan that starts over (a reset) on, the pet's plans run one by one through
 * runOnPet, which overwrites it (one more round trip each: a rare path kept simple).
 */
import { ConflictRetriesExhaustedError, CorruptStateError } from '../../errors.js';
import {
  MAX_EVENTS_PER_SAVE,
  type ExtraRecord,
  type HitRequest,
  type HitResult,
  type LoadManyResult,
  type PetEventDraft,
  type PetRecord,
  type SaveRequest,
} from '../../storage/index.js';
import { bringPetToNow, hydratePet, marksOf, type LivePet } from './live-pet.js';
import type { RequestTiming } from '../observer.js';
import { lifeEventDrafts } from '../events/pet-events.js';
import { markNewborn, runOnPet, ttlOf, type Plan, type RunDeps, type RunResult } from './run-on-pet.js';
import { systemsForSave } from './stored-systems.js';

/** One plan of a batch, on its pet. */
export interface BatchItem<R> {
  petId: string;
  plan: Plan<R>;
}

/** What became of one item: the run (as runOnPet answers it) or the error it failed with. */
export type BatchOutcome<R> = { ok: true; run: RunResult<R> } | { ok: false; error: unknown };

/** One plan's step on the loaded pet, before the save decides its version. */
type Step<R> =
  | { kind: 'failed'; error: unknown }
  | { kind: 'replayed'; result: R; pet: LivePet }
  | { kind: 'applied'; result: R; pet: LivePet };

/** One pet's plans as applied in one attempt: the save it needs (null: none) and each plan's step. */
interface Applied<R> {
  steps: Map<number, Step<R>>;
  save: SaveRequest | null;
  nowMs: number;
  loadedVersion: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `items` (ids already checked), grouped by pet; answers one outcome per item, in order. */
export async function runBatch<R>(
  deps: RunDeps,
  items: readonly BatchItem<R>[],
  timing?: RequestTiming,
): Promise<{ outcomes: BatchOutcome<R>[]; roundTrips: number }> {
  const outcomes: (BatchOutcome<R> | undefined)[] = items.map(() => undefined);
  let roundTrips = 0;
  /** Times one storage call into the request's storage time. */
  const timed = async <T>(call: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await call();
    } finally {
      if (timing !== undefined) timing.storageMs += performance.now() - started;
    }
  };

  // The pets in order of first appearance, each with its items in order.
  const groups = new Map<string, number[]>();
  items.forEach((item, index) => {
    const group = groups.get(item.petId);
    if (group === undefined) groups.set(item.petId, [index]);
    else group.push(index);
  });
  // Each item's hits, counted once: in the first loadMany (retries load without them).
  const hits: HitRequest[] = [];
  const hitSlices = items.map((item) => {
    const start = hits.length;
    hits.push(...(item.plan.hits ?? []));
    return { start, end: hits.length };
  });
  let counts: readonly HitResult[] = [];
  const countsOf = (index: number): HitResult[] => {
    const slice = hitSlices[index] as { start: number; end: number };
    return counts.slice(slice.start, slice.end);
  };
  /** Items refused by their rate limits: never retried (a request counts and is refused once). */
  const refused = new Set<number>();

  const fail = (indexes: readonly number[], error: unknown): void => {
    for (const index of indexes) outcomes[index] ??= { ok: false, error };
  };

  let pending = [...groups.keys()];
  const corrupt: Array<{ petId: string; error: CorruptStateError }> = [];
  for (let attempt = 1; pending.length > 0; attempt += 1) {
    const loadItems = pending.map((petId) => {
      const extras = [...new Set((groups.get(petId) ?? []).flatMap((index) => items[index]?.plan.extras ?? []))];
      return extras.length > 0 ? { petId, extras } : { petId };
    });
    let loaded: LoadManyResult[];
    try {
      roundTrips += 1;
      const answer = await timed(() => deps.storage.loadMany(loadItems, attempt === 1 && hits.length > 0 ? { hits } : {}));
      loaded = answer.records;
      if (attempt === 1) counts = answer.hits;
    } catch (error) {
      for (const petId of pending) fail(groups.get(petId) ?? [], error);
      break;
    }

    const saving: Array<{ petId: string; applied: Applied<R> }> = [];
    pending.forEach((petId, position) => {
      const group = groups.get(petId) ?? [];
      const result = loaded[position] as LoadManyResult;
      try {
        if (!result.ok) throw result.error;
        const applied = applyGroup(deps, items, group, petId, result.record, {
          checkHits: attempt === 1 && hits.length > 0,
          countsOf,
          refused,
          outcomes,
        });
        if (applied.save === null) settle(group, applied, applied.loadedVersion, false, [], countsOf, outcomes);
        else saving.push({ petId, applied });
      } catch (error) {
        if (error instanceof CorruptStateError) corrupt.push({ petId, error });
        else fail(group, error);
      }
    });

    if (saving.length === 0) break;
    let saved: Awaited<ReturnType<typeof deps.storage.saveMany>>;
    try {
      roundTrips += 1;
      saved = await timed(() =>
        deps.storage.saveMany(saving.map(({ petId, applied }) => ({ petId, request: applied.save as SaveRequest }))),
      );
    } catch (error) {
      for (const { petId } of saving) fail(groups.get(petId) ?? [], error);
      break;
    }
    const conflicted: string[] = [];
    saving.forEach(({ petId, applied }, position) => {
      const group = groups.get(petId) ?? [];
      const result = saved[position];
      if (result?.ok) {
        settle(group, applied, result.version, true, result.eventIds, countsOf, outcomes);
        return;
      }
      if (result !== undefined && 'error' in result) {
        fail(group, result.error);
        return;
      }
      deps.observer?.conflict(attempt < deps.maxAttempts);
      if (attempt >= deps.maxAttempts) {
        fail(
          group,
          new ConflictRetriesExhaustedError(`pet ${petId} is being changed by too many requests at once (${attempt} attempts); try again`),
        );
      } else conflicted.push(petId);
    });
    pending = conflicted;
    if (pending.length > 0) await sleep(deps.backoffMs(attempt));
  }

  // Corrupt pets: their plans fail with the error, until one starts over; from there on, one by one.
  await Promise.all(
    corrupt.map(async ({ petId, error }) => {
      const group = (groups.get(petId) ?? []).filter((index) => !refused.has(index));
      const from = group.findIndex((index) => items[index]?.plan.overwritesCorrupt !== undefined);
      fail(from < 0 ? group : group.slice(0, from), error);
      if (from < 0) return;
      for (const index of group.slice(from)) {
        const { hits: _hits, checkHits: _checkHits, ...plan } = (items[index] as BatchItem<R>).plan;
        try {
          const answer = await runOnPet(deps, petId, timing === undefined ? plan : { ...plan, timing });
          roundTrips += answer.roundTrips;
          outcomes[index] = { ok: true, run: answer.value };
        } catch (failure) {
          outcomes[index] = { ok: false, error: failure };
        }
      }
    }),
  );

  return {
    outcomes: outcomes.map((outcome) => outcome ?? { ok: false, error: new Error('batch item left without an outcome') }),
    roundTrips,
  };
}

interface GroupContext<R> {
  /** The first attempt: each item's counts are checked (its checkHits) before it runs. */
  checkHits: boolean;
  countsOf: (index: number) => HitResult[];
  refused: Set<number>;
  outcomes: (BatchOutcome<R> | undefined)[];
}

/**
 * One pet's plans, in order, on the record loaded (runOnPet's steps: hydrate, bring to now,
 * precondition, apply), and the save they need. Throws CorruptStateError for a pet the engine
 * cannot read.
 */
function applyGroup<R>(
  deps: RunDeps,
  items: readonly BatchItem<R>[],
  group: readonly number[],
  petId: string,
  record: PetRecord | null,
  context: GroupContext<R>,
): Applied<R> {
  // The first plan that may create the pet names it (a GET's ?timezone=).
  const birth = group.map((index) => items[index]?.plan.birth).find((value) => value !== undefined);
  const defaults = birth ? { ...deps.defaults, ...birth } : deps.defaults;
  const nowMs = deps.clock.nowMs();
  const base = hydratePet(petId, record, nowMs, defaults);
  const marks = marksOf(base);
  bringPetToNow(base, nowMs, deps.timeScale);
  const lifeEvents = lifeEventDrafts(base.away, base.state.timezone, nowMs);

  const steps = new Map<number, Step<R>>();
  const extras: ExtraRecord[] = [];
  const events: PetEventDraft[] = [...lifeEvents];
  let changed = false;
  let current: LivePet = base;
  for (const index of group) {
    const { plan } = items[index] as BatchItem<R>;
    if (context.refused.has(index)) continue;
    if (context.checkHits && plan.checkHits !== undefined) {
      try {
        plan.checkHits(context.countsOf(index));
      } catch (error) {
        context.refused.add(index);
        context.outcomes[index] = { ok: false, error };
        continue;
      }
    }
    // A copy of its own: a failed plan leaves the pet as it found it, an applied one keeps its moment.
    const view: LivePet = { ...current, meta: { ...current.meta } };
    try {
      const early = plan.precondition?.(view);
      if (early) {
        steps.set(index, { kind: 'replayed', result: early.replay, pet: view });
        continue;
      }
      const change = plan.apply(view, nowMs);
      steps.set(index, { kind: 'applied', result: change.result, pet: view });
      changed ||= change.changed;
      extras.push(...(change.extras ?? []));
      events.push(...(change.events ?? []));
      // The next plan sees what this one did: its records (a repeated key replays) and no `away` (shown once).
      current = { ...view, away: null, record: withExtras(view.record, change.extras ?? []) };
    } catch (error) {
      steps.set(index, { kind: 'failed', error });
    }
  }

  const applied = [...steps].filter(([, step]) => step.kind === 'applied');
  const saves = applied.some(([index]) => items[index]?.plan.savesNothing !== true);
  const mustSave = saves && (changed || extras.length > 0 || events.length > 0 || base.created || base.away !== null);
  if (!mustSave) {
    // Nothing saved: answer what is stored (runOnPet's rule), never ahead of it.
    if (base.away === null) {
      for (const [, step] of applied)
        if (step.kind === 'applied') step.pet.meta = { ...step.pet.meta, world_ms: marks.worldMs, wall_ms: marks.wallMs };
    }
    return { steps, save: null, nowMs, loadedVersion: base.loadedVersion };
  }
  const version = base.loadedVersion + 1;
  const meta = { ...markNewborn(current, changed || extras.length > 0), version };
  current.meta = meta;
  return {
    steps,
    nowMs,
    loadedVersion: base.loadedVersion,
    save: {
      expectedVersion: base.loadedVersion,
      meta,
      systems: systemsForSave(current.state),
      ...(extras.length > 0 ? { extras } : {}),
      // Many plans on one pet may make more events than one save takes: the oldest life events go first.
      ...(events.length > 0 ? { events: events.slice(-MAX_EVENTS_PER_SAVE) } : {}),
      ...ttlOf(deps, meta),
    },
  };
}

/** The record as the next plan sees it: with the extras the plans before it wrote. */
function withExtras(record: PetRecord | null, extras: readonly ExtraRecord[]): PetRecord | null {
  if (extras.length === 0) return record;
  const written = Object.fromEntries(extras.map((extra) => [extra.name, extra.value]));
  const base: PetRecord = record ?? { version: 0, meta: null, systems: {}, extras: {}, raw: [] };
  return { ...base, extras: { ...base.extras, ...written } };
}

/** Every step of one pet's attempt as its item's outcome, at `version` (the saved one, or the loaded one). */
function settle<R>(
  group: readonly number[],
  applied: Applied<R>,
  version: number,
  saved: boolean,
  eventIds: readonly string[],
  countsOf: (index: number) => HitResult[],
  outcomes: (BatchOutcome<R> | undefined)[],
): void {
  for (const index of group) {
    const step = applied.steps.get(index);
    if (step === undefined) continue; // refused by its limits: its outcome is set
    if (step.kind === 'failed') {
      outcomes[index] = { ok: false, error: step.error };
      continue;
    }
    const replayed = step.kind === 'replayed';
    outcomes[index] = {
      ok: true,
      run: {
        result: step.result,
        pet: step.pet,
        version: replayed ? applied.loadedVersion : version,
        saved: saved && !replayed,
        nowMs: applied.nowMs,
        hits: countsOf(index),
        eventIds: replayed ? [] : eventIds,
      },
    };
  }
}
