/**
 * The body both Redis drivers share (TCP in redis.ts, Upstash REST in upstash.ts), written over
 * the few commands it needs (RedisCommands), so each driver file is only its transport. A load is
 * one MGET, a counted load, save, replace or hit one script call, readEvents one XRANGE, watch one
 * SUBSCRIBE (TCP only), loadMany and saveMany one pipeline each. Every failure becomes
 * StorageUnavailableError, or CorruptStateError for a corrupt stored meta. Scripts run through
 * script-runner.ts (one NOSCRIPT path); WAIT is replicas.ts; snapshot bookkeeping snapshot-io.ts;
 * records redis-records.ts; the inspector inspect/redis.ts; the due set due-set/redis.ts.
 *
 * With snapshots (docs/storage.md, snapshots.ts): a load of a held pet costs nothing, one of a pet
 * not held is one SNAPSHOT_LOAD_SCRIPT call, a counted load of a held pet only counts, and every
 * write is followed by a PING barrier before it resolves (see `settled`).
 */
import { createRedisDueSet } from './due-set/redis.js';
import { CorruptStateError } from '../errors.js';
import {
  CAS_SCRIPT,
  HIT_SCRIPT,
  LOAD_COUNTED_SCRIPT,
  SNAPSHOT_LOAD_SCRIPT,
  casArguments,
  countedCasArguments,
  countedHitArguments,
  hitArguments,
  loadCountedArguments,
  weightedHitArguments,
  parseCasReply,
  parseHitReply,
  parseLoadCountedReply,
  petTtlOf,
  snapshotLoadValues,
  type CountedLoadCall,
  type SaveCounters,
} from './scripts/index.js';
import { EVENT_LOG_MAX, EVENTS_CHANNEL, assertEventLogMax, readEventsOptions } from './events.js';
import { createRedisRecords } from './redis-records.js';
import { PET_ID_PATTERN, PLAIN_LAYOUT, decodeLoad, loadKeyList, petKeys } from './keys.js';
import { createRedisInspector, scanAll } from './inspect/redis.js';
import type { RedisCommands, ScriptedStorageOptions } from './redis-transport.js';
import { parseXrange, toStorageError } from './redis-replies.js';
import { assertReplicaPolicy, assertReplicated, type ReplicaPolicy, waitCommand } from './replicas.js';
import { createScriptRunner, luaScript, scriptCommand, type ScriptedCommand } from './script-runner.js';
import { createCompareAndSet } from './redis-cas.js';
import { afterWrite, heldReaders, heldUntil, sharedBarrier } from './snapshot-io.js';
import { createSnapshotStore, type SnapshotStore } from './snapshots.js';
import { SYSTEM_NAMES } from '../engine/types.js';
import { assertDistinctPets, assertReplaced, loadResult, saveResult, saveTtl, type WriteRequest } from './requests.js';
import type {
  HitRequest,
  HitResult,
  LoadManyItem,
  LoadManyResult,
  LoadOptions,
  PetEvent,
  PetRecord,
  ReadEventsOptions,
  ReplaceRequest,
  SaveManyItem,
  SaveManyResult,
  SaveRequest,
  SaveResult,
  StorageDriver,
} from './types.js';

const CAS = luaScript(CAS_SCRIPT);
const HIT = luaScript(HIT_SCRIPT);
const LOAD_COUNTED = luaScript(LOAD_COUNTED_SCRIPT);
const SNAPSHOT_LOAD = luaScript(SNAPSHOT_LOAD_SCRIPT);

export type { RedisCommands, ScriptedStorageOptions } from './redis-transport.js';

export function createScriptedStorage(commands: RedisCommands, options: ScriptedStorageOptions): StorageDriver {
  const { name, label, target, ttlMs, blankReason = '', eventLogMax = EVENT_LOG_MAX, snapshotBytes = 0 } = options;
  const { layout = PLAIN_LAYOUT, splitCountedLoad = false, waitReplicas = 0, waitTimeoutMs = 1000 } = options;
  assertEventLogMax(eventLogMax);
  const replicas: ReplicaPolicy = { replicas: waitReplicas, timeoutMs: waitTimeoutMs };
  assertReplicaPolicy(replicas);
  const pipeline = commands.pipeline.bind(commands);
  const scripts = createScriptRunner(commands);
  const snapshots: SnapshotStore | null =
    commands.onInvalidate !== undefined && snapshotBytes > 0 ? createSnapshotStore(snapshotBytes) : null;
  if (snapshots !== null) commands.onInvalidate?.((key) => snapshots.invalidateKey(key));

  /** Runs an operation within the transport's limits, mapping every failure to our error types. */
  const run = async <T>(what: string, operation: () => Promise<T>, petId?: string): Promise<T> => {
    try {
      return await commands.guard(what, operation);
    } catch (error) {
      throw toStorageError(error, `${label} ${target}`, what, blankReason, petId);
    }
  };

  /** A pipelined reply, or the error it carries mapped as `run` maps failures (CORRUPT names the pet). */
  const failedReply = (reply: unknown, what: string, petId?: string): unknown => {
    if (reply instanceof Error) throw toStorageError(reply, `${label} ${target}`, what, blankReason, petId);
    return reply;
  };

  const { held, heldValues } = heldReaders(snapshots);

  const load = async (petId: string, loadOptions: LoadOptions = {}): Promise<PetRecord | null> => {
    const extras = loadOptions.extras ?? [];
    const keys = loadKeyList(petId, extras, layout);
    const snapshot = await held(petId, extras);
    if (snapshot !== undefined) return snapshot;
    if (snapshots === null) {
      const values = await run('load', () => commands.mget(keys));
      if (!Array.isArray(values)) throw new CorruptStateError(`${label} ${target}: MGET returned ${typeof values}`);
      return decodeLoad(petId, values as (string | null)[], extras);
    }
    // With snapshots: the same values, and the ms the pet has left, in one script call.
    const ticket = snapshots.begin(petId);
    const sentMs = Date.now();
    try {
      const reply = await run('load', () => scripts.call(SNAPSHOT_LOAD, keys, [String(1 + SYSTEM_NAMES.length)]));
      const record = decodeLoad(petId, snapshotLoadValues(reply, keys.length), extras);
      ticket.read(record, heldUntil(sentMs, petTtlOf(reply, 1)));
      return record;
    } finally {
      ticket.abandon();
    }
  };

  /**
   * One EVALSHA of CAS_SCRIPT: a save, or a replace (`expectedVersion: 'any'`); with `counters`,
   * of COUNTED_CAS_SCRIPT instead (the request's rate-limit counters in the same call; `result`
   * null when a limit refused the write).
   */
  const write = async (
    petId: string,
    request: WriteRequest,
    counters?: SaveCounters,
  ): Promise<{ result: SaveResult | null; hits: HitResult[] }> => {
    const plain = casArguments(petId, request, ttlMs, Date.now(), eventLogMax, layout);
    const { keys, args } = counters === undefined ? plain : countedCasArguments(plain, counters, layout);
    const base = snapshots?.peek(petId);
    const ticket = snapshots?.begin(petId);
    const sentMs = Date.now();
    try {
      const { reply, result, hits } = await compareAndSet(petId, keys, args, counters?.hits.length);
      if (result?.ok === true) {
        ticket?.wrote(snapshots === null ? undefined : afterWrite(petId, base, request), heldUntil(sentMs, saveTtl(request, ttlMs)));
        await settled();
      } else if (result?.record !== undefined) ticket?.read(result.record, heldUntil(sentMs, petTtlOf(reply, 3)));
      return { result, hits };
    } catch (error) {
      // A failed or timed-out save may still have been applied: the snapshot cannot be trusted.
      ticket?.wrote();
      throw error;
    } finally {
      ticket?.abandon();
    }
  };
  const saved = async (petId: string, request: WriteRequest): Promise<SaveResult> => (await write(petId, request)).result as SaveResult;

  /**
   * With snapshots, a write is acknowledged only after a PING sent once its reply was received has
   * been answered (one PING shared by the writes that finished meanwhile). Redis writes its
   * invalidation pushes to other instances in the same event-loop turn as the write's reply, but in
   * no fixed order (the push may come well after the reply on a busy machine; docs/design.md §11);
   * it reads the PING only in a later turn. So once the PONG is here,
   * every other instance's push for this write was already written to its socket, before anyone
   * could learn of the write from us: the next read there sees it (docs/storage.md, Snapshots).
   */
  const settled = snapshots === null ? async (): Promise<void> => undefined : sharedBarrier(() => run('save', () => commands.ping()));

  /**
   * REDIS_WAIT_REPLICAS for a saveMany: one WAIT per saved pet, routed to the pet's node, in one
   * pipeline after the compare-and-sets (a second round trip; a single save puts its WAIT in its
   * own pipeline).
   */
  const waitForReplicas = async (petIds: readonly string[]): Promise<void> => {
    if (petIds.length === 0) return;
    const acks = await run('save', () => pipeline(petIds.map((petId) => waitCommand(replicas, petKeys(petId, layout).meta))));
    assertReplicated(replicas, `${label} ${target}`, petIds, acks);
  };

  /** One compare-and-set (with its WAIT when REDIS_WAIT_REPLICAS asks for one; redis-cas.ts). */
  const compareAndSet = createCompareAndSet({ scripts, replicas, run, name: `${label} ${target}` });

  /**
   * A counted load as one pipeline: the pet's MGET and one HIT_SCRIPT (by its weight) per
   * counter, each routed to its own slot's node (splitCountedLoad); counters that met NOSCRIPT go
   * again as EVAL. The record is decoded exactly as LOAD_COUNTED_SCRIPT's.
   */
  const splitLoadCounted = (
    petId: string,
    call: CountedLoadCall,
    hits: readonly HitRequest[],
  ): Promise<{ record: PetRecord | null; hits: HitResult[] }> =>
    run(
      'load',
      async () => {
        const counters = call.keys.slice(0, call.hits);
        const petKeyList = call.keys.slice(call.hits);
        const replies = await scripts.pipeline([
          { args: ['MGET', ...petKeyList], keys: petKeyList },
          ...counters.map((_, index) => {
            const { keys, args } = weightedHitArguments(hits[index] as HitRequest, layout);
            return scriptCommand(HIT, keys, args);
          }),
        ]);
        const failed = replies.find((reply) => reply instanceof Error);
        if (failed !== undefined) throw failed;
        const flat = replies.slice(1).flatMap((reply) => (Array.isArray(reply) ? reply.slice(0, 2) : [reply]));
        return parseLoadCountedReply(petId, call, [flat, replies[0]]);
      },
      petId,
    );

  const watch = commands.subscribe?.bind(commands);

  const inspector = createRedisInspector({ commands, run, layout, label, target, snapshotsOn: snapshots !== null });

  return {
    name,
    target,
    load,
    ...(snapshots === null ? {} : { heldValues }),

    async loadCounted(
      petId: string,
      loadOptions: LoadOptions & { hits: readonly HitRequest[] },
    ): Promise<{ record: PetRecord | null; hits: HitResult[] }> {
      const call = loadCountedArguments(petId, loadOptions, layout);
      if (call.hits === 0) return { record: await load(petId, loadOptions), hits: [] };
      if ((await held(petId, call.extras)) !== undefined) {
        // A held pet: only the counters, one call per counter (each touches one global key), sent
        // together (one round trip); then the snapshot as it is after that round trip.
        const hits = await run('load', () =>
          Promise.all(
            loadOptions.hits.map(async (hit) => {
              const one = countedHitArguments(hit, layout);
              const reply = await scripts.call(LOAD_COUNTED, one.keys, one.args);
              return parseLoadCountedReply(petId, one, reply).hits[0] as HitResult;
            }),
          ),
        );
        const snapshot = snapshots?.get(petId, Date.now());
        return { record: snapshot === undefined ? await load(petId, loadOptions) : snapshot, hits };
      }
      if (splitCountedLoad) return splitLoadCounted(petId, call, loadOptions.hits);
      const ticket = snapshots?.begin(petId);
      const sentMs = Date.now();
      try {
        const reply = await run('load', () => scripts.call(LOAD_COUNTED, call.keys, call.args));
        const counted = parseLoadCountedReply(petId, call, reply);
        ticket?.read(counted.record, heldUntil(sentMs, petTtlOf(reply, 2)));
        return counted;
      } finally {
        ticket?.abandon();
      }
    },

    async loadMany(
      items: readonly LoadManyItem[],
      manyOptions: { hits?: readonly HitRequest[] } = {},
    ): Promise<{ records: LoadManyResult[]; hits: HitResult[] }> {
      const hitRequests = manyOptions.hits ?? [];
      if (!Array.isArray(hitRequests)) throw new TypeError('hits must be an array of {purpose, subject, windowMs}');
      // Every id, name and hit checked before any I/O; then one pipeline: the hits (HIT_SCRIPT,
      // each on its one global key) in order, then one MGET of each pet's own keys.
      const sent: ScriptedCommand[] = hitRequests.map((request) => {
        const { keys, args } = weightedHitArguments(request, layout);
        return scriptCommand(HIT, keys, args);
      });
      const extrasOf = items.map((item) => item.extras ?? []);
      for (const [index, item] of items.entries()) {
        const keys = loadKeyList(item.petId, extrasOf[index], layout);
        sent.push({ args: ['MGET', ...keys], keys });
      }
      if (sent.length === 0) return { records: [], hits: [] };
      const replies = await run('load', () => scripts.pipeline(sent));
      const hits = hitRequests.map((_, index) => parseHitReply(failedReply(replies[index], 'load')));
      const records = items.map((item, index) =>
        loadResult(() => {
          const values = failedReply(replies[hitRequests.length + index], 'load', item.petId);
          if (!Array.isArray(values)) throw new CorruptStateError(`${label} ${target}: MGET returned ${typeof values}`);
          return decodeLoad(item.petId, values as (string | null)[], extrasOf[index]);
        }),
      );
      return { records, hits };
    },

    save: saved,

    // The counted save needs the counters' keys in the pet's script: not on a cluster (other slots).
    ...(snapshots === null || splitCountedLoad
      ? {}
      : {
          loadHeld: (petId: string) => held(petId, []),
          saveCounted: (petId: string, request: SaveRequest, counters: SaveCounters) => write(petId, request, counters),
        }),

    async saveMany(items: readonly SaveManyItem[]): Promise<SaveManyResult[]> {
      assertDistinctPets(items);
      const nowMs = Date.now();
      const sent: ScriptedCommand[] = items.map(({ petId, request }) => {
        const { keys, args } = casArguments(petId, request, ttlMs, nowMs, eventLogMax, layout);
        return scriptCommand(CAS, keys, args);
      });
      if (sent.length === 0) return [];
      // With snapshots, each pet as a single save handles it (see write): a ticket per pet, what
      // was written (or the conflict's stored pet) held afterwards, one PING barrier for them all.
      const bases = items.map(({ petId }) => snapshots?.peek(petId));
      const tickets = items.map(({ petId }) => snapshots?.begin(petId));
      const sentMs = Date.now();
      try {
        let replies: unknown[];
        try {
          replies = await run('save', () => scripts.pipeline(sent));
        } catch (error) {
          // A failed pipeline may still have been applied: no snapshot of these pets can be trusted.
          for (const ticket of tickets) ticket?.wrote();
          throw error;
        }
        const results = items.map(({ petId, request }, index) => {
          const reply = replies[index];
          const result = saveResult(() => parseCasReply(failedReply(reply, 'save', petId), petId));
          const ticket = tickets[index];
          if (ticket !== undefined && snapshots !== null) {
            if (result.ok) ticket.wrote(afterWrite(petId, bases[index], request), heldUntil(sentMs, saveTtl(request, ttlMs)));
            else if ('record' in result && result.record !== undefined) ticket.read(result.record, heldUntil(sentMs, petTtlOf(reply, 3)));
            else ticket.wrote();
          }
          return result;
        });
        if (waitReplicas > 0) await waitForReplicas(items.filter((_, index) => results[index]?.ok === true).map(({ petId }) => petId));
        if (results.some((result) => result.ok)) await settled();
        return results;
      } finally {
        for (const ticket of tickets) ticket?.abandon();
      }
    },

    async replace(petId: string, request: ReplaceRequest): Promise<SaveResult & { ok: true }> {
      return assertReplaced(await saved(petId, { ...request, expectedVersion: 'any' }));
    },

    async remove(petId: string): Promise<void> {
      const keys = petKeys(petId, layout);
      const ticket = snapshots?.begin(petId);
      // Our own DEL sends us no invalidation (NOLOOP): the snapshot goes whatever happens.
      await run('remove', async () => {
        const found = new Set<string>([keys.meta, ...Object.values(keys.systems), keys.events]);
        for (const key of await scanAll(commands, keys.pattern, Number.POSITIVE_INFINITY, 200)) found.add(key);
        await commands.del([...found]);
      }).finally(() => ticket?.wrote());
      await settled();
    },

    async readEvents(petId: string, readOptions?: ReadEventsOptions): Promise<PetEvent[]> {
      const key = petKeys(petId, layout).events;
      const { after, limit } = readEventsOptions(readOptions);
      const reply = await run('read events', () => commands.xrange(key, after === null ? '-' : `(${after}`, limit), petId);
      return parseXrange(petId, reply);
    },

    ...createRedisRecords({ run, scripts, failedReply, layout }),

    ...(watch === undefined
      ? {}
      : {
          // Anyone who can PUBLISH can write on the channel: only pet ids are passed on.
          watch: (onEvents: (petId: string) => void): Promise<() => Promise<void>> =>
            run('watch', () => watch(EVENTS_CHANNEL, (message) => PET_ID_PATTERN.test(message) && onEvents(message))),
        }),

    async hit(purpose: string, subject: string, windowMs: number): Promise<HitResult> {
      const { keys, args } = hitArguments(purpose, subject, windowMs, layout);
      return parseHitReply(await run('hit', () => scripts.call(HIT, keys, args)));
    },

    async ping(): Promise<void> {
      await run('ping', () => commands.ping());
    },

    inspector,

    dueSet: createRedisDueSet({
      layout,
      call: (what, args, key) => run(what, () => commands.call(args, key)),
      pipeline: async (what, sent) => (await run(what, () => pipeline(sent))).map((reply) => failedReply(reply, what)),
    }),

    roundTrips: () => commands.roundTrips(),

    close: async () => {
      snapshots?.clear();
      await commands.close();
    },
  };
}
