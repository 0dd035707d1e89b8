/**
 * The body both Redis drivers share (TCP in redis.ts, Upstash REST in upstash.ts), written over
 * the few commands it needs (RedisCommands), so each driver file is only its transport:
 * connection, timeouts, retries, URL redaction. A load is one MGET of every key of the pet, a
 * counted load one EVALSHA of LOAD_COUNTED_SCRIPT, a save or replace one EVALSHA of CAS_SCRIPT, a
 * hit one EVALSHA of HIT_SCRIPT (each EVAL once on NOSCRIPT), a remove SCANs and DELs (the event
 * log `life_<id>:events` included), readEvents one XRANGE, watch one SUBSCRIBE on a connection of
 * its own (TCP only). Every
 * failure becomes StorageUnavailableError, or CorruptStateError for a corrupt stored meta.
 */
import { CorruptStateError, PetLifeError, StorageUnavailableError } from '../errors.js';
import {
  CAS_SCRIPT,
  CAS_SHA1,
  HIT_SCRIPT,
  HIT_SHA1,
  LOAD_COUNTED_SCRIPT,
  LOAD_COUNTED_SHA1,
  casArguments,
  hitArguments,
  isCorruptReply,
  loadCountedArguments,
  parseCasReply,
  parseHitReply,
  parseLoadCountedReply,
  type CountedLoadCall,
} from './cas-script.js';
import { EVENT_LOG_MAX, EVENTS_CHANNEL, assertEventLogMax, decodeEvent, readEventsOptions } from './events.js';
import { type KeyLayout, PET_ID_PATTERN, PLAIN_LAYOUT, decodeLoad, loadKeyList, petKeys } from './keys.js';
import { assertReplaced, type WriteRequest, weightOf } from './requests.js';
import type {
  DriverName,
  HitRequest,
  HitResult,
  LoadOptions,
  PetEvent,
  PetRecord,
  ReadEventsOptions,
  ReplaceRequest,
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
   * Any other command, one round trip (operator tools: TYPE, PTTL, STRLEN, TIME, SCRIPT EXISTS…).
   * `key` routes it on a cluster (the node holding that key); without one a cluster sends it to
   * one master.
   */
  call(args: readonly string[], key?: string): Promise<unknown>;
  /**
   * Sends every command in one round trip (a cluster: one per node, in parallel), each routed by
   * its keys; a failed command is an Error instance in its place. Commands for one node go out
   * in order on one connection, so a WAIT placed after a write waits for that write.
   */
  pipeline?(commands: readonly PipelinedCommand[]): Promise<unknown[]>;
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

/** One command of a pipeline and the keys it touches (the cluster routes it by them). */
export interface PipelinedCommand {
  args: readonly string[];
  keys: readonly string[];
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
}

export function createScriptedStorage(commands: RedisCommands, options: ScriptedStorageOptions): StorageDriver {
  const { name, label, target, ttlMs, blankReason = '', eventLogMax = EVENT_LOG_MAX } = options;
  const { layout = PLAIN_LAYOUT, splitCountedLoad = false, waitReplicas = 0, waitTimeoutMs = 1000 } = options;
  assertEventLogMax(eventLogMax);
  if (!Number.isSafeInteger(waitReplicas) || waitReplicas < 0) throw new RangeError('waitReplicas must be a non-negative integer');
  if (!Number.isSafeInteger(waitTimeoutMs) || waitTimeoutMs < 1) throw new RangeError('waitTimeoutMs must be a positive integer');
  const pipeline = commands.pipeline?.bind(commands);
  if ((splitCountedLoad || waitReplicas > 0) && pipeline === undefined) {
    throw new TypeError(`${label}: splitCountedLoad and waitReplicas need a transport with pipeline`);
  }

  /** Runs an operation within the transport's limits, mapping every failure to our error types. */
  const run = async <T>(what: string, operation: () => Promise<T>, petId?: string): Promise<T> => {
    try {
      return await commands.guard(what, operation);
    } catch (error) {
      throw toStorageError(error, `${label} ${target}`, what, blankReason, petId);
    }
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

  const load = async (petId: string, loadOptions: LoadOptions = {}): Promise<PetRecord | null> => {
    const extras = loadOptions.extras ?? [];
    const keys = loadKeyList(petId, extras, layout);
    const values = await run('load', () => commands.mget(keys));
    if (!Array.isArray(values)) throw new CorruptStateError(`${label} ${target}: MGET returned ${typeof values}`);
    return decodeLoad(petId, values as (string | null)[], extras);
  };

  /** One EVALSHA of CAS_SCRIPT: a save, or a replace (`expectedVersion: 'any'`). */
  const write = async (petId: string, request: WriteRequest): Promise<SaveResult> => {
    const { keys, args } = casArguments(petId, request, ttlMs, Date.now(), eventLogMax, layout);
    if (waitReplicas > 0 && pipeline !== undefined) return writeAndWait(pipeline, petId, keys, args);
    return parseCasReply(await run('save', () => evalScript(CAS_SCRIPT, CAS_SHA1, keys, args), petId));
  };

  /**
   * The compare-and-set and `WAIT n timeout` in one pipeline on one connection (one round trip;
   * EVAL and WAIT again on NOSCRIPT). A save acknowledged by fewer than n replicas may be lost by
   * a failover, so it is not acknowledged: a StorageUnavailableError (503) that says the change
   * may be applied, which a retry with the same Idempotency-Key settles.
   */
  const writeAndWait = async (send: NonNullable<RedisCommands['pipeline']>, petId: string, keys: string[], args: string[]) => {
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
        const result = parseCasReply(reply);
        if (result.ok && !(Number(acked) >= waitReplicas)) {
          const got = acked instanceof Error ? `WAIT failed (${acked.message.slice(0, 100)})` : `${Number(acked)} acknowledged`;
          throw new StorageUnavailableError(
            `${label} ${target}: save of ${petId} may be applied but is not on ${waitReplicas} replica(s) within ${waitTimeoutMs} ms: ${got}`,
          );
        }
        return result;
      },
      petId,
    );
  };

  /**
   * A counted load as one pipeline: the pet's MGET and one HIT_SCRIPT (by its weight) per
   * counter, each routed to its own slot's node (splitCountedLoad); counters that met NOSCRIPT go
   * again as EVAL. The record is decoded exactly as LOAD_COUNTED_SCRIPT's.
   */
  const splitLoadCounted = (
    send: NonNullable<RedisCommands['pipeline']>,
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
      if (splitCountedLoad && pipeline !== undefined) return splitLoadCounted(pipeline, petId, call, loadOptions.hits);
      const reply = await run('load', () => evalScript(LOAD_COUNTED_SCRIPT, LOAD_COUNTED_SHA1, call.keys, call.args));
      return parseLoadCountedReply(petId, call, reply);
    },

    save: (petId: string, request: SaveRequest): Promise<SaveResult> => write(petId, request),

    async replace(petId: string, request: ReplaceRequest): Promise<SaveResult & { ok: true }> {
      return assertReplaced(await write(petId, { ...request, expectedVersion: 'any' }));
    },

    async remove(petId: string): Promise<void> {
      const keys = petKeys(petId, layout);
      await run('remove', async () => {
        const found = new Set<string>([keys.meta, ...Object.values(keys.systems), keys.events]);
        let cursor = '0';
        do {
          const [next, batch] = await commands.scan(cursor, keys.pattern, 200);
          cursor = String(next);
          for (const key of batch) found.add(key);
        } while (cursor !== '0');
        await commands.del([...found]);
      });
    },

    async readEvents(petId: string, readOptions?: ReadEventsOptions): Promise<PetEvent[]> {
      const key = petKeys(petId, layout).events;
      const { after, limit } = readEventsOptions(readOptions);
      const reply = await run('read events', () => commands.xrange(key, after === null ? '-' : `(${after}`, limit), petId);
      return parseXrange(petId, reply);
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

    roundTrips: () => commands.roundTrips(),

    close: () => commands.close(),
  };
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
