/**
 * The body both Redis drivers share (TCP in redis.ts, Upstash REST in upstash.ts), written over
 * the few commands it needs (RedisCommands), so each driver file is only its transport:
 * connection, timeouts, retries, URL redaction. A load is one MGET of every key of the pet, a
 * counted load one EVALSHA of LOAD_COUNTED_SCRIPT, a save or replace one EVALSHA of CAS_SCRIPT, a
 * hit one EVALSHA of HIT_SCRIPT (each EVAL once on NOSCRIPT), a remove SCANs and DELs (the event
 * log `life_<id>:events` included), readEvents one XRANGE, watch one SUBSCRIBE on a connection of
 * its own (TCP only); loadMany and saveMany one pipeline each (an MGET per pet and a HIT_SCRIPT
 * per hit; a CAS_SCRIPT per pet), EVAL re-sent for just the NOSCRIPT replies. Every
 * failure becomes StorageUnavailableError, or CorruptStateError for a corrupt stored meta.
 *
 * With snapshots (a transport that tracks keys, `onInvalidate`, and `snapshotBytes` > 0; Redis TCP,
 * snapshots.ts): a load of a held pet costs nothing and one of a pet not held is one EVALSHA of
 * SNAPSHOT_LOAD_SCRIPT; a counted load of a held pet only counts (one call per counter); every
 * write is followed by a PING barrier before it resolves (see `settled`).
 */
import { createRedisDueSet } from './due-set/redis.js';
import { createHash } from 'node:crypto';
import { CorruptStateError, PetLifeError, StorageUnavailableError } from '../errors.js';
import {
  CAS_SCRIPT,
  CAS_SHA1,
  HIT_SCRIPT,
  HIT_SHA1,
  LOAD_COUNTED_SCRIPT,
  LOAD_COUNTED_SHA1,
  SNAPSHOT_LOAD_SCRIPT,
  SNAPSHOT_LOAD_SHA1,
  casArguments,
  countedHitArguments,
  hitArguments,
  isCorruptReply,
  loadCountedArguments,
  weightedHitArguments,
  parseCasReply,
  parseHitReply,
  parseLoadCountedReply,
  petTtlOf,
  snapshotLoadValues,
  type CountedLoadCall,
} from './cas-script.js';
import { EVENT_LOG_MAX, EVENTS_CHANNEL, assertEventLogMax, decodeEvent, readEventsOptions } from './events.js';
import { RECORD_SAVE_SCRIPT, RECORD_TAKE_SCRIPT, assertRecordSave, decodeRecord, parseRecordSaveReply, recordKey } from './records.js';
import { type KeyLayout, PET_ID_PATTERN, PLAIN_LAYOUT, decodeLoad, encodeValue, loadKeyList, petKeys } from './keys.js';
import { createSnapshotStore, type SnapshotStore } from './snapshots.js';
import { SYSTEM_NAMES } from '../engine/types.js';
import { assertDistinctPets, assertReplaced, loadResult, saveResult, saveTtl, type WriteRequest, weightOf } from './requests.js';
import type {
  DriverName,
  HitRequest,
  HitResult,
  LoadManyItem,
  LoadManyResult,
  LoadOptions,
  PetEvent,
  PipelinedCommand,
  PetRecord,
  ReadEventsOptions,
  RecordRef,
  RecordSaveRequest,
  RecordSaveResult,
  ReplaceRequest,
  SaveManyItem,
  SaveManyResult,
  SaveRequest,
  SaveResult,
  ScriptStatus,
  StorageDriver,
  StorageInspector,
  StoredKey,
} from './types.js';

/**
 * What the shared body asks of a transport. Each command is one round trip, counted by the
 * transport (roundTrips); replies come back as the server sent them (strings, not parsed).
 */
export interface RedisCommands {
  mget(keys: readonly string[]): Promise<unknown>;
  evalsha(sha1: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  eval(script: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /** One SCAN step: the next cursor ('0' or 0 when done) and the keys of this batch. */
  scan(cursor: string, match: string, count: number): Promise<readonly [string | number, readonly string[]]>;
  del(keys: readonly string[]): Promise<unknown>;
  /** XRANGE key start + COUNT count: [[id, [field, value, …]], …]. */
  xrange(key: string, start: string, count: number): Promise<unknown>;
  /**
   * SUBSCRIBEs to `channel` on a connection of its own (opened on the first call); absent when the
   * transport cannot (Upstash REST). Resolves once subscribed; the function it returns unsubscribes.
   */
  subscribe?(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;
  ping(): Promise<unknown>;
  /**
   * Present when the transport keeps client-side tracking on (RESP3 CLIENT TRACKING ON NOLOOP) on
   * the one connection every command above goes through: `listener` hears every key Redis says
   * changed, in the order the connection received it, and null whenever everything must be
   * forgotten (a FLUSHDB, a lost or closed connection: invalidations may have been missed).
   */
  onInvalidate?(listener: (key: string | null) => void): void;
  /**
   * Any other command, one round trip (operator tools: TYPE, PTTL, STRLEN, TIME, SCRIPT EXISTS…).
   * `key` routes it on a cluster (the node holding that key); without one a cluster sends it to
   * one master.
   */
  call(args: readonly string[], key?: string): Promise<unknown>;
  /**
   * Sends `commands` together, in order, as ONE round trip (TCP: written at once on the
   * connection; Upstash: one REST pipeline request; a cluster: one per node, in parallel, each
   * command routed by its keys). A command that failed has its Error in its place; the others'
   * replies are unaffected. Not atomic: other clients' commands may interleave. Commands for one
   * node go out in order on one connection, so a WAIT placed after a write waits for that write.
   */
  pipeline(commands: readonly PipelinedCommand[]): Promise<unknown[]>;
  /** True when a failed EVALSHA says the server does not know the script (EVAL follows). */
  isNoScript(error: unknown): boolean;
  /**
   * Runs one operation (one or more commands) within the transport's limits, e.g. a deadline.
   * Its failures are mapped to our errors by the caller.
   */
  guard<T>(what: string, operation: () => Promise<T>): Promise<T>;
  roundTrips(): number;
  close(): Promise<void>;
}

export interface ScriptedStorageOptions {
  name: DriverName;
  /** Names the driver in error messages (`redis`, `upstash`). */
  label: string;
  /** The redacted URL (StorageDriver.target; in messages). */
  target: string;
  /** Time to live of a pet's keys in ms, refreshed on every save (checked by the driver). @default undefined (no TTL) */
  ttlMs?: number | undefined;
  /** The reason given for a failure without a message. @default '' */
  blankReason?: string;
  /** Events kept per pet (XADD MAXLEN ~). @default EVENT_LOG_MAX */
  eventLogMax?: number | undefined;
  /** How keys are spelled (keys.ts). @default PLAIN_LAYOUT */
  layout?: KeyLayout;
  /**
   * Counts a counted load's hits apart from the pet's read (Redis Cluster: the counters and the
   * pet live in different slots, so one script cannot touch both): the pet's MGET and one
   * HIT_SCRIPT per counter go out together in one pipeline. Needs `pipeline`. @default false
   */
  splitCountedLoad?: boolean;
  /**
   * REDIS_WAIT_REPLICAS: after each compare-and-set, `WAIT <n> <waitTimeoutMs>` in the same
   * pipeline on the same connection; a change acknowledged by fewer replicas in time is a
   * StorageUnavailableError saying it may be applied. Needs `pipeline`. @default 0 (no WAIT)
   */
  waitReplicas?: number;
  /** WAIT's timeout in ms. @default 1000 */
  waitTimeoutMs?: number;
  /**
   * Snapshot budget in bytes (snapshots.ts); 0 or absent: no snapshots. Only used when the
   * transport tracks keys (onInvalidate). @default 0
   */
  snapshotBytes?: number | undefined;
}

export function createScriptedStorage(commands: RedisCommands, options: ScriptedStorageOptions): StorageDriver {
  const { name, label, target, ttlMs, blankReason = '', eventLogMax = EVENT_LOG_MAX, snapshotBytes = 0 } = options;
  const { layout = PLAIN_LAYOUT, splitCountedLoad = false, waitReplicas = 0, waitTimeoutMs = 1000 } = options;
  assertEventLogMax(eventLogMax);
  if (!Number.isSafeInteger(waitReplicas) || waitReplicas < 0) throw new RangeError('waitReplicas must be a non-negative integer');
  if (!Number.isSafeInteger(waitTimeoutMs) || waitTimeoutMs < 1) throw new RangeError('waitTimeoutMs must be a positive integer');
  const pipeline = commands.pipeline.bind(commands);
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

  /** EVALSHA, then EVAL when the server does not know the script yet (a second round trip). */
  const evalScript = async (script: string, sha1: string, keys: string[], args: string[]): Promise<unknown> => {
    try {
      return await commands.evalsha(sha1, keys, args);
    } catch (error) {
      if (!commands.isNoScript(error)) throw error;
      return commands.eval(script, keys, args);
    }
  };

  /**
   * One pipeline; script calls (EVALSHA) the server does not know yet are sent again with EVAL,
   * just those, in a second round trip (only the first time a server sees the script).
   */
  const pipelineScripts = async (sent: readonly ScriptedCommand[]): Promise<unknown[]> => {
    const replies = await commands.pipeline(sent);
    const missing = sent.flatMap((command, index) => (command.script !== undefined && commands.isNoScript(replies[index]) ? [index] : []));
    if (missing.length === 0) return replies;
    const again = await commands.pipeline(
      missing.map((index) => {
        const command = sent[index] as ScriptedCommand;
        return { args: ['EVAL', command.script as string, ...command.args.slice(2)], keys: command.keys };
      }),
    );
    missing.forEach((index, position) => {
      replies[index] = again[position];
    });
    return replies;
  };

  /**
   * The pet's snapshot when one is held and no extra record is asked for (those are never held);
   * undefined otherwise. Pending I/O is handled first (one turn of the event loop), so that an
   * invalidation already received is applied before the snapshot is trusted.
   */
  const held = async (petId: string, extras: readonly string[]): Promise<PetRecord | null | undefined> => {
    if (snapshots === null || extras.length > 0) return undefined;
    await new Promise<void>((resolve) => setImmediate(resolve));
    return snapshots.get(petId, Date.now());
  };

  /** Until when a pet read or written at `sentMs` may be held: never past its expiry. */
  const heldUntil = (sentMs: number, leftMs: number | null | undefined): number =>
    leftMs === null || leftMs === undefined ? Number.POSITIVE_INFINITY : sentMs + leftMs;

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
      const reply = await run('load', () => evalScript(SNAPSHOT_LOAD_SCRIPT, SNAPSHOT_LOAD_SHA1, keys, [String(1 + SYSTEM_NAMES.length)]));
      const record = decodeLoad(petId, snapshotLoadValues(reply, keys.length), extras);
      ticket.read(record, heldUntil(sentMs, petTtlOf(reply, 1)));
      return record;
    } finally {
      ticket.abandon();
    }
  };

  /** One EVALSHA of CAS_SCRIPT: a save, or a replace (`expectedVersion: 'any'`). */
  const write = async (petId: string, request: WriteRequest): Promise<SaveResult> => {
    const { keys, args } = casArguments(petId, request, ttlMs, Date.now(), eventLogMax, layout);
    const base = snapshots?.peek(petId);
    const ticket = snapshots?.begin(petId);
    const sentMs = Date.now();
    try {
      const { reply, result } = await compareAndSet(petId, keys, args);
      if (result.ok) {
        ticket?.wrote(snapshots === null ? undefined : afterWrite(petId, base, request), heldUntil(sentMs, saveTtl(request, ttlMs)));
        await settled();
      } else if (result.record !== undefined) ticket?.read(result.record, heldUntil(sentMs, petTtlOf(reply, 3)));
      return result;
    } catch (error) {
      // A failed or timed-out save may still have been applied: the snapshot cannot be trusted.
      ticket?.wrote();
      throw error;
    } finally {
      ticket?.abandon();
    }
  };

  /**
   * With snapshots, a write is acknowledged only after a PING sent once its reply was received has
   * been answered (one PING shared by the writes that finished meanwhile). Redis writes its
   * invalidation pushes to other instances in the same event-loop turn as the write's reply, but in
   * no fixed order (measured here: the reply first in 1000 of 1000 saves, the push up to 90 ms
   * later on a busy machine); it reads the PING only in a later turn. So once the PONG is here,
   * every other instance's push for this write was already written to its socket, before anyone
   * could learn of the write from us: the next read there sees it (docs/storage.md, Snapshots).
   */
  const settled = snapshots === null ? async (): Promise<void> => undefined : sharedBarrier(() => run('save', () => commands.ping()));

  /**
   * The compare-and-set and `WAIT n timeout` in one pipeline on one connection (one round trip;
   * EVAL and WAIT again on NOSCRIPT). A save acknowledged by fewer than n replicas may be lost by
   * a failover, so it is not acknowledged: a StorageUnavailableError (503) that says the change
   * may be applied, which a retry with the same Idempotency-Key settles.
   */
  const writeAndWait = async (
    send: RedisCommands['pipeline'],
    petId: string,
    keys: string[],
    args: string[],
  ): Promise<{ reply: unknown; result: SaveResult }> => {
    const wait = { args: ['WAIT', String(waitReplicas), String(waitTimeoutMs)], keys: [keys[0] as string] };
    const attempt = async (script: readonly string[]): Promise<[unknown, unknown]> => {
      const [reply, acked] = await send([{ args: [...script, String(keys.length), ...keys, ...args], keys }, wait]);
      return [reply, acked];
    };
    return run(
      'save',
      async () => {
        let [reply, acked] = await attempt(['EVALSHA', CAS_SHA1]);
        if (reply instanceof Error && commands.isNoScript(reply)) [reply, acked] = await attempt(['EVAL', CAS_SCRIPT]);
        if (reply instanceof Error) throw reply;
        const result = parseCasReply(reply, petId);
        if (result.ok && !(Number(acked) >= waitReplicas)) {
          const got = acked instanceof Error ? `WAIT failed (${acked.message.slice(0, 100)})` : `${Number(acked)} acknowledged`;
          throw new StorageUnavailableError(
            `${label} ${target}: save of ${petId} may be applied but is not on ${waitReplicas} replica(s) within ${waitTimeoutMs} ms: ${got}`,
          );
        }
        return { reply, result };
      },
      petId,
    );
  };

  /**
   * REDIS_WAIT_REPLICAS for a saveMany: one WAIT per saved pet, routed to the pet's node, in one
   * pipeline after the compare-and-sets (a second round trip; a single save puts its WAIT in its
   * own pipeline). A save on fewer replicas may be lost by a failover: the whole call is then a
   * StorageUnavailableError saying the changes may be applied (Idempotency-Key settles a retry).
   */
  const waitForReplicas = async (petIds: readonly string[]): Promise<void> => {
    if (petIds.length === 0) return;
    const waits = petIds.map((petId) => ({
      args: ['WAIT', String(waitReplicas), String(waitTimeoutMs)],
      keys: [petKeys(petId, layout).meta],
    }));
    const acks = await run('save', () => pipeline(waits));
    const short = acks.findIndex((acked) => !(Number(acked) >= waitReplicas));
    if (short >= 0) {
      const acked = acks[short];
      const got = acked instanceof Error ? `WAIT failed (${acked.message.slice(0, 100)})` : `${Number(acked)} acknowledged`;
      throw new StorageUnavailableError(
        `${label} ${target}: saves of ${petIds.length} pet(s) may be applied but ${petIds[short]} is not on ${waitReplicas} replica(s) within ${waitTimeoutMs} ms: ${got}`,
      );
    }
  };

  /** One compare-and-set (with its WAIT when REDIS_WAIT_REPLICAS asks for one): the raw reply and its result. */
  const compareAndSet = async (petId: string, keys: string[], args: string[]): Promise<{ reply: unknown; result: SaveResult }> => {
    if (waitReplicas > 0) return writeAndWait(pipeline, petId, keys, args);
    const reply = await run('save', () => evalScript(CAS_SCRIPT, CAS_SHA1, keys, args), petId);
    return { reply, result: parseCasReply(reply, petId) };
  };

  /**
   * A counted load as one pipeline: the pet's MGET and one HIT_SCRIPT (by its weight) per
   * counter, each routed to its own slot's node (splitCountedLoad); counters that met NOSCRIPT go
   * again as EVAL. The record is decoded exactly as LOAD_COUNTED_SCRIPT's.
   */
  const splitLoadCounted = (
    send: RedisCommands['pipeline'],
    petId: string,
    call: CountedLoadCall,
    hits: readonly HitRequest[],
  ): Promise<{ record: PetRecord | null; hits: HitResult[] }> =>
    run(
      'load',
      async () => {
        const counters = call.keys.slice(0, call.hits);
        const petKeyList = call.keys.slice(call.hits);
        const hitArgs = (index: number): string[] => [String(hits[index]?.windowMs), String(weightOf(hits[index] as HitRequest))];
        const hitCommand = (script: readonly string[], key: string, index: number) => ({
          args: [...script, '1', key, ...hitArgs(index)],
          keys: [key],
        });
        const replies = await send([
          { args: ['MGET', ...petKeyList], keys: petKeyList },
          ...counters.map((key, index) => hitCommand(['EVALSHA', HIT_SHA1], key, index)),
        ]);
        const missing = counters.flatMap((key, index) => (isNoScriptReply(replies[index + 1]) ? [{ key, index }] : []));
        if (missing.length > 0) {
          const again = await send(missing.map(({ key, index }) => hitCommand(['EVAL', HIT_SCRIPT], key, index)));
          missing.forEach(({ index }, at) => {
            replies[index + 1] = again[at];
          });
        }
        const failed = replies.find((reply) => reply instanceof Error);
        if (failed !== undefined) throw failed;
        const flat = replies.slice(1).flatMap((reply) => (Array.isArray(reply) ? reply.slice(0, 2) : [reply]));
        return parseLoadCountedReply(petId, call, [flat, replies[0]]);
      },
      petId,
    );
  const isNoScriptReply = (reply: unknown): boolean => reply instanceof Error && commands.isNoScript(reply);

  const watch = commands.subscribe?.bind(commands);

  /** Every key matching `pattern` (SCAN to the end, or until `limit` keys are found). */
  const scanAll = async (pattern: string, limit = Number.POSITIVE_INFINITY): Promise<string[]> => {
    const found = new Set<string>();
    let cursor = '0';
    do {
      const [next, batch] = await commands.scan(cursor, pattern, 500);
      cursor = String(next);
      for (const key of batch) found.add(key);
    } while (cursor !== '0' && found.size < limit);
    return [...found];
  };

  const inspector: StorageInspector = {
    async listPets(listOptions = {}): Promise<string[]> {
      const limit = listOptions.limit ?? 100;
      const keys = await run('list pets', () => scanAll(layout.metaPattern, limit));
      const ids = keys
        .map((key) => layout.petIdOfMeta(key))
        .filter((id): id is string => id !== null)
        .sort();
      return ids.slice(0, limit);
    },

    async describePet(petId: string): Promise<StoredKey[]> {
      const { pattern } = petKeys(petId, layout);
      return run(
        'inspect',
        async () => {
          const keys = (await scanAll(pattern)).sort();
          const described: StoredKey[] = [];
          for (const key of keys) {
            const type = String(await commands.call(['TYPE', key], key));
            if (type === 'none') continue; // expired between SCAN and TYPE
            const pttl = Number(await commands.call(['PTTL', key], key));
            let bytes = 0;
            let entries: number | undefined;
            if (type === 'string') bytes = Number(await commands.call(['STRLEN', key], key));
            else {
              bytes = Number(await commands.call(['MEMORY', 'USAGE', key], key).catch(() => 0)) || 0;
              if (type === 'stream') entries = Number(await commands.call(['XLEN', key], key));
              if (type === 'zset') entries = Number(await commands.call(['ZCARD', key], key));
            }
            described.push({ key, type, bytes, ttlMs: pttl >= 0 ? pttl : null, ...(entries === undefined ? {} : { entries }) });
          }
          return described;
        },
        petId,
      );
    },

    async serverTimeMs(): Promise<number> {
      const reply = await run('time', () => commands.call(['TIME']));
      if (!Array.isArray(reply) || reply.length < 2) throw new CorruptStateError(`${label} ${target}: unexpected TIME reply`);
      return Number(reply[0]) * 1000 + Math.floor(Number(reply[1]) / 1000);
    },

    async scripts(): Promise<ScriptStatus[]> {
      const known = [
        { name: 'CAS_SCRIPT', sha1: CAS_SHA1 },
        { name: 'HIT_SCRIPT', sha1: HIT_SHA1 },
        { name: 'LOAD_COUNTED_SCRIPT', sha1: LOAD_COUNTED_SHA1 },
        // Run only with snapshots (Redis over TCP with SNAPSHOTS on).
        ...(snapshots === null ? [] : [{ name: 'SNAPSHOT_LOAD_SCRIPT', sha1: SNAPSHOT_LOAD_SHA1 }]),
      ];
      const reply = await run('script exists', () => commands.call(['SCRIPT', 'EXISTS', ...known.map((script) => script.sha1)]));
      if (!Array.isArray(reply)) throw new CorruptStateError(`${label} ${target}: unexpected SCRIPT EXISTS reply`);
      return known.map((script, index) => ({ ...script, loaded: Number(reply[index]) === 1 }));
    },
  };

  return {
    name,
    target,
    load,

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
              const reply = await evalScript(LOAD_COUNTED_SCRIPT, LOAD_COUNTED_SHA1, one.keys, one.args);
              return parseLoadCountedReply(petId, one, reply).hits[0] as HitResult;
            }),
          ),
        );
        const snapshot = snapshots?.get(petId, Date.now());
        return { record: snapshot === undefined ? await load(petId, loadOptions) : snapshot, hits };
      }
      if (splitCountedLoad) return splitLoadCounted(pipeline, petId, call, loadOptions.hits);
      const ticket = snapshots?.begin(petId);
      const sentMs = Date.now();
      try {
        const reply = await run('load', () => evalScript(LOAD_COUNTED_SCRIPT, LOAD_COUNTED_SHA1, call.keys, call.args));
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
        return { args: ['EVALSHA', HIT_SHA1, String(keys.length), ...keys, ...args], keys, script: HIT_SCRIPT };
      });
      const extrasOf = items.map((item) => item.extras ?? []);
      for (const [index, item] of items.entries()) {
        const keys = loadKeyList(item.petId, extrasOf[index], layout);
        sent.push({ args: ['MGET', ...keys], keys });
      }
      if (sent.length === 0) return { records: [], hits: [] };
      const replies = await run('load', () => pipelineScripts(sent));
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

    save: (petId: string, request: SaveRequest): Promise<SaveResult> => write(petId, request),

    async saveMany(items: readonly SaveManyItem[]): Promise<SaveManyResult[]> {
      assertDistinctPets(items);
      const nowMs = Date.now();
      const sent: ScriptedCommand[] = items.map(({ petId, request }) => {
        const { keys, args } = casArguments(petId, request, ttlMs, nowMs, eventLogMax, layout);
        return { args: ['EVALSHA', CAS_SHA1, String(keys.length), ...keys, ...args], keys, script: CAS_SCRIPT };
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
          replies = await run('save', () => pipelineScripts(sent));
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
      return assertReplaced(await write(petId, { ...request, expectedVersion: 'any' }));
    },

    async remove(petId: string): Promise<void> {
      const keys = petKeys(petId, layout);
      const ticket = snapshots?.begin(petId);
      // Our own DEL sends us no invalidation (NOLOOP): the snapshot goes whatever happens.
      await run('remove', async () => {
        const found = new Set<string>([keys.meta, ...Object.values(keys.systems), keys.events]);
        let cursor = '0';
        do {
          const [next, batch] = await commands.scan(cursor, keys.pattern, 200);
          cursor = String(next);
          for (const key of batch) found.add(key);
        } while (cursor !== '0');
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

    async loadRecords(refs: readonly RecordRef[]) {
      const keys = refs.map((ref) => recordKey(ref, layout));
      if (keys.length === 0) return [];
      // One pipeline of one GET per record: each touches one global key (a cluster routes each to
      // its own shard, one round trip per node in parallel).
      const values = await run('load records', () => pipeline(keys.map((key) => ({ args: ['GET', key], keys: [key] }))));
      return keys.map((key, index) => decodeRecord(key, failedReply(values[index], 'load records') as string | null));
    },

    async saveRecord(ref: RecordRef, request: RecordSaveRequest): Promise<RecordSaveResult> {
      const key = recordKey(ref, layout);
      assertRecordSave(request);
      const args = [String(request.expectedVersion), request.value, request.ttlMs == null ? '' : String(request.ttlMs)];
      return parseRecordSaveReply(await run('save record', () => evalScript(RECORD_SAVE_SCRIPT, RECORD_SAVE_SHA1, [key], args)));
    },

    async takeRecord(ref: RecordRef) {
      const key = recordKey(ref, layout);
      const raw = await run('take record', () => evalScript(RECORD_TAKE_SCRIPT, RECORD_TAKE_SHA1, [key], []));
      return decodeRecord(key, typeof raw === 'string' ? raw : null);
    },

    ...(watch === undefined
      ? {}
      : {
          // Anyone who can PUBLISH can write on the channel: only pet ids are passed on.
          watch: (onEvents: (petId: string) => void): Promise<() => Promise<void>> =>
            run('watch', () => watch(EVENTS_CHANNEL, (message) => PET_ID_PATTERN.test(message) && onEvents(message))),
        }),

    async hit(purpose: string, subject: string, windowMs: number): Promise<HitResult> {
      const { keys, args } = hitArguments(purpose, subject, windowMs, layout);
      return parseHitReply(await run('hit', () => evalScript(HIT_SCRIPT, HIT_SHA1, keys, args)));
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

/** A pipelined command as the shared body sends it: a script call names its script, for EVAL on NOSCRIPT. */
interface ScriptedCommand extends PipelinedCommand {
  script?: string;
}
const RECORD_SAVE_SHA1 = createHash('sha1').update(RECORD_SAVE_SCRIPT).digest('hex');
const RECORD_TAKE_SHA1 = createHash('sha1').update(RECORD_TAKE_SCRIPT).digest('hex');
/** A function that resolves once a `ping` started after the call has answered; calls in one turn share it. */
function sharedBarrier(ping: () => Promise<unknown>): () => Promise<void> {
  let next: Promise<void> | null = null;
  return () => {
    if (next !== null) return next;
    const started = Promise.resolve().then(async () => {
      next = null;
      await ping();
    });
    next = started;
    return started;
  };
}

/**
 * What the pet is after a successful write, when fully known: every system given (a replace, or
 * a save that writes them all, as the service's do), or the others taken from the held snapshot
 * the save was prepared against. Undefined when not known (the snapshot is then dropped).
 */
function afterWrite(petId: string, base: PetRecord | null | undefined, request: WriteRequest): PetRecord | null | undefined {
  const replace = request.expectedVersion === 'any';
  const usable = base !== undefined && (base === null ? request.expectedVersion === 0 : base.version === request.expectedVersion);
  const raw: (string | null)[] = [encodeValue(request.meta)];
  for (const [index, name] of SYSTEM_NAMES.entries()) {
    const state = request.systems[name];
    if (state !== undefined) raw.push(encodeValue(state));
    else if (replace) raw.push(null);
    else if (usable) raw.push(base === null ? null : (base.raw[index + 1] ?? null));
    else return undefined;
  }
  try {
    return decodeLoad(petId, raw);
  } catch {
    return undefined;
  }
}

/** XRANGE's reply as events: [[id, ['e', json]], …]; entries that are not ours are skipped. */
function parseXrange(petId: string, reply: unknown): PetEvent[] {
  if (!Array.isArray(reply)) throw new CorruptStateError(`unexpected XRANGE reply: ${JSON.stringify(reply).slice(0, 200)}`);
  const events: PetEvent[] = [];
  for (const entry of reply as unknown[]) {
    if (!Array.isArray(entry)) continue;
    const [id, fields] = entry as [unknown, unknown];
    if (typeof id !== 'string' || !Array.isArray(fields)) continue;
    const at = fields.indexOf('e');
    const raw: unknown = at >= 0 && at % 2 === 0 ? fields[at + 1] : undefined;
    const event = typeof raw === 'string' ? decodeEvent(id, petId, raw) : null;
    if (event !== null) events.push(event);
  }
  return events;
}

function toStorageError(error: unknown, where: string, what: string, blankReason: string, petId?: string): Error {
  if (error instanceof PetLifeError) return error;
  // Replies can quote the whole command (Upstash does); keep messages short.
  const message = (error instanceof Error ? error.message : String(error)).slice(0, 300);
  if (isCorruptReply(message)) {
    return new CorruptStateError(`${where}: ${message}`, { cause: error, ...(petId === undefined ? {} : { petId }) });
  }
  return new StorageUnavailableError(`${where}: ${what} failed: ${message || blankReason}`, { cause: error });
}
