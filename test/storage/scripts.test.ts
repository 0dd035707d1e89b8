/**
 * The Lua scripts of the Redis drivers (src/storage/scripts/) and their one runner: argument
 * building and reply parsing without a server, then each script run on the test Redis.
 */
import { createHash } from 'node:crypto';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_NAMES } from '../../src/engine/types.js';
import { CorruptStateError } from '../../src/errors.js';
import { EVENTS_CHANNEL } from '../../src/storage/events.js';
import { CLUSTER_LAYOUT, MAX_EXTRAS_PER_PET } from '../../src/storage/keys.js';
import { createScriptRunner, luaScript, scriptCommand } from '../../src/storage/script-runner.js';
import {
  CAS_SCRIPT,
  CAS_SHA1,
  HIT_SCRIPT,
  LOAD_COUNTED_SCRIPT,
  SNAPSHOT_LOAD_SCRIPT,
  casArguments,
  countedHitArguments,
  hitArguments,
  loadCountedArguments,
  parseCasReply,
  parseHitReply,
  parseLoadCountedReply,
  scriptSha1,
  snapshotLoadValues,
  weightedHitArguments,
} from '../../src/storage/scripts/index.js';
import { describeWithRedis, testRedisUrl, uniqueId } from '../helpers/redis.js';
import { metaFor, sampleSystems } from './contract.js';

const n = SYSTEM_NAMES.length;
const event = { type: 'interacted', pet_time: '2026-11-25T08:00:00.000+08:00', at: '2026-11-25T00:00:00.000Z', data: {} };

describe('script arguments (no server)', () => {
  it('a script handle is the SHA-1 of its text', () => {
    expect(CAS_SHA1).toBe(createHash('sha1').update(CAS_SCRIPT).digest('hex'));
    expect(luaScript(HIT_SCRIPT).sha1).toBe(scriptSha1(HIT_SCRIPT));
  });

  it('casArguments: meta, the systems, index, log, then the extras; ARGV as the script reads it', () => {
    const systems = sampleSystems();
    const { keys, args } = casArguments(
      'pet-a',
      {
        expectedVersion: 3,
        meta: metaFor(4),
        systems: { [SYSTEM_NAMES[0] as string]: systems[SYSTEM_NAMES[0] as keyof typeof systems] },
        extras: [{ name: 'idem:k', value: '{"x":1}', ttlMs: 5000 }],
        events: [event],
        ttlMs: 60_000,
      },
      undefined,
      1234.9,
      50,
    );
    expect(keys[0]).toBe('life_pet-a:meta');
    expect(keys.slice(1, 1 + n)).toEqual(SYSTEM_NAMES.map((name) => `life_pet-a:${name}`));
    expect(keys.slice(1 + n)).toEqual(['life_pet-a:extras', 'life_pet-a:events', 'life_pet-a:idem:k']);
    expect(args.slice(0, 2)).toEqual(['3', '60000']);
    expect(JSON.parse(args[2] as string).version).toBe(4);
    expect(args[3]).toBe(String(n));
    // Only the first system is written; the others are '' (unchanged).
    expect(args[4]).not.toBe('');
    expect(args.slice(5, 4 + n).every((value) => value === '')).toBe(true);
    expect(args.slice(4 + n, 11 + n)).toEqual(['4', '1234', String(MAX_EXTRAS_PER_PET), '1', '50', EVENTS_CHANNEL, 'pet-a']);
    expect(JSON.parse(args[11 + n] as string).type).toBe('interacted');
    expect(args.slice(12 + n)).toEqual(['{"x":1}', '5000']);
  });

  it('casArguments checks the id and request before anything is sent', () => {
    expect(() => casArguments('bad id!', { expectedVersion: 0, meta: metaFor(1), systems: {} }, undefined, 0)).toThrow(/id/);
    expect(() => casArguments('pet-a', { expectedVersion: -1, meta: metaFor(1), systems: {} }, undefined, 0)).toThrow(RangeError);
  });

  it('hit arguments: one counter key, window and weight; the cluster layout hashes the counter alone', () => {
    expect(hitArguments('rl', 'client:1', 60_000)).toEqual({ keys: ['life_~rl:client:1'], args: ['60000'] });
    expect(weightedHitArguments({ purpose: 'rl', subject: 's', windowMs: 1000, weight: 3 }, CLUSTER_LAYOUT)).toEqual({
      keys: ['life_~{rl:s}'],
      args: ['1000', '3'],
    });
    expect(() => hitArguments('rl', 's', 0)).toThrow(RangeError);
  });

  it('counted-load arguments: the counters first, then the pet keys; ARGV h, windows, weights, pet key count', () => {
    const call = loadCountedArguments('pet-b', {
      hits: [
        { purpose: 'rl', subject: 'a', windowMs: 1000 },
        { purpose: 'rl', subject: 'b', windowMs: 2000, weight: 2 },
      ],
      extras: ['idem:x'],
    });
    expect(call.hits).toBe(2);
    expect(call.keys.slice(0, 3)).toEqual(['life_~rl:a', 'life_~rl:b', 'life_pet-b:meta']);
    expect(call.keys.at(-1)).toBe('life_pet-b:idem:x');
    expect(call.args).toEqual(['2', '1000', '2000', '1', '2', String(1 + n)]);
    expect(countedHitArguments({ purpose: 'rl', subject: 'a', windowMs: 1000 })).toMatchObject({
      keys: ['life_~rl:a'],
      args: ['1', '1000', '1'],
    });
  });

  it('replies: parsed, or CorruptStateError when not what the script answers', () => {
    expect(parseHitReply([3, 500])).toEqual({ count: 3, resetInMs: 500 });
    expect(() => parseHitReply('x')).toThrow(CorruptStateError);
    expect(parseCasReply([1, 5, 2, []], 'pet-a')).toEqual({ ok: true, version: 5, keys: 2, eventIds: [] });
    expect(parseCasReply([0, 7, 'not values', -1], 'pet-a')).toEqual({ ok: false, version: 7 });
    expect(() => parseCasReply(null, 'pet-a')).toThrow(CorruptStateError);
    expect(snapshotLoadValues([['a', null, false], -1], 3)).toEqual(['a', null, null]);
    expect(() => snapshotLoadValues([['a'], -1], 2)).toThrow(CorruptStateError);
    const call = countedHitArguments({ purpose: 'rl', subject: 'a', windowMs: 1000 });
    expect(parseLoadCountedReply('pet-a', call, [[1, 1000], [], -1])).toEqual({ record: null, hits: [{ count: 1, resetInMs: 1000 }] });
  });
});

describe('the script runner (no server)', () => {
  const noScript = () => new Error('NOSCRIPT No matching script');
  it('one call: EVALSHA, and EVAL only on NOSCRIPT', async () => {
    const sent: string[] = [];
    const runner = createScriptRunner({
      evalsha: async () => {
        sent.push('EVALSHA');
        throw noScript();
      },
      eval: async () => {
        sent.push('EVAL');
        return 'ok';
      },
      pipeline: async () => [],
      isNoScript: (error) => error instanceof Error && error.message.startsWith('NOSCRIPT'),
    });
    expect(await runner.call(luaScript('return 1'), [], [])).toBe('ok');
    expect(sent).toEqual(['EVALSHA', 'EVAL']);
  });

  it('a pipeline re-sends just the NOSCRIPT calls as EVAL, then what must follow them (WAIT)', async () => {
    const script = luaScript('return 1');
    const pipelines: string[][] = [];
    let first = true;
    const runner = createScriptRunner({
      evalsha: async () => undefined,
      eval: async () => undefined,
      pipeline: async (commands) => {
        pipelines.push(commands.map((command) => command.args[0] as string));
        if (!first) return commands.map((_, index) => `again-${index}`);
        first = false;
        return ['mget', noScript(), 'hit', 0];
      },
      isNoScript: (error) => error instanceof Error && error.message.startsWith('NOSCRIPT'),
    });
    const replies = await runner.pipeline([
      { args: ['MGET', 'k'], keys: ['k'] },
      scriptCommand(script, ['a'], ['1']),
      scriptCommand(script, ['b'], ['1']),
      { args: ['WAIT', '1', '100'], keys: ['a'], afterScripts: true },
    ]);
    expect(pipelines).toEqual([
      ['MGET', 'EVALSHA', 'EVALSHA', 'WAIT'],
      ['EVAL', 'WAIT'],
    ]);
    expect(replies).toEqual(['mget', 'again-0', 'hit', 'again-1']);
  });
});

describeWithRedis('the scripts on the test Redis', () => {
  const client = createClient({ url: testRedisUrl ?? 'redis://127.0.0.1:6379', RESP: 2 });
  const id = uniqueId('scripts');
  const runner = createScriptRunner({
    evalsha: (sha1, keys, args) => client.sendCommand(['EVALSHA', sha1, String(keys.length), ...keys, ...args]),
    eval: (text, keys, args) => client.sendCommand(['EVAL', text, String(keys.length), ...keys, ...args]),
    // As redis.ts pipelines: written in one tick, each reply (or Error) in its place.
    pipeline: (commands) =>
      Promise.all(
        commands.map((command) =>
          client.sendCommand([...command.args]).then(
            (reply: unknown) => reply,
            (error: unknown) => error,
          ),
        ),
      ),
    isNoScript: (error) => error instanceof Error && error.message.startsWith('NOSCRIPT'),
  });
  beforeAll(async () => {
    client.on('error', () => undefined);
    await client.connect();
  });
  afterAll(async () => {
    await client.sendCommand(['DEL', `life_~rl:${id}`]);
    const keys = (await client.sendCommand(['KEYS', `life_${id}:*`])) as string[];
    if (keys.length > 0) await client.sendCommand(['DEL', ...keys]);
    await client.quit();
  });

  it('CAS: a save at the expected version, then a conflict carrying the stored pet', async () => {
    const systems = sampleSystems();
    const save = casArguments(id, { expectedVersion: 0, meta: metaFor(1), systems, events: [event] }, undefined, Date.now());
    const saved = parseCasReply(await runner.call(luaScript(CAS_SCRIPT), save.keys, save.args), id);
    expect(saved).toMatchObject({ ok: true, version: 1, keys: 1 + n });
    const stale = casArguments(id, { expectedVersion: 0, meta: metaFor(1), systems }, undefined, Date.now());
    const conflict = parseCasReply(await runner.call(luaScript(CAS_SCRIPT), stale.keys, stale.args), id);
    expect(conflict.ok).toBe(false);
    expect(conflict.version).toBe(1);
    expect(conflict.ok === false && conflict.record?.version).toBe(1);
  });

  it('HIT, the counted load and the snapshot load read what CAS wrote and count by weight', async () => {
    const hit = weightedHitArguments({ purpose: 'rl', subject: id, windowMs: 10_000, weight: 2 });
    expect(parseHitReply(await runner.call(luaScript(HIT_SCRIPT), hit.keys, hit.args)).count).toBe(2);
    const call = loadCountedArguments(id, { hits: [{ purpose: 'rl', subject: id, windowMs: 10_000 }] });
    const counted = parseLoadCountedReply(id, call, await runner.call(luaScript(LOAD_COUNTED_SCRIPT), call.keys, call.args));
    expect(counted.hits[0]?.count).toBe(3);
    expect(counted.record?.version).toBe(1);
    const keys = call.keys.slice(call.hits);
    const reply = await runner.call(luaScript(SNAPSHOT_LOAD_SCRIPT), keys, [String(1 + n)]);
    expect(JSON.parse(snapshotLoadValues(reply, keys.length)[0] as string).version).toBe(1);
  });

  it('a pipeline with a script the server has never seen: NOSCRIPT, re-sent as EVAL', async () => {
    // A text of this run's own (no SCRIPT FLUSH: other suites share the server).
    const fresh = luaScript(`${HIT_SCRIPT}-- ${id}\n`);
    const hit = hitArguments('rl', id, 10_000);
    const replies = await runner.pipeline([{ args: ['PING'], keys: [] }, scriptCommand(fresh, hit.keys, hit.args)]);
    expect(replies[0]).toBe('PONG');
    expect(parseHitReply(replies[1]).count).toBe(4);
    expect(await client.sendCommand(['SCRIPT', 'EXISTS', fresh.sha1])).toEqual([1]);
  });
});
