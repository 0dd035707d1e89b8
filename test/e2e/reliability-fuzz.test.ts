/**
 * Reliability (docs/reliability.md), bad input: no input crashes the server, and none touches a key or a file. A seeded
 * fast-check generator builds malformed requests — bad ids (`:`, `*`, `/`, `..`, `%2e%2e`,
 * spaces, unicode, 10 KB, empty) in paths, queries and bodies; bodies that are not JSON,
 * truncated, too large, deeply nested, of the wrong type or with bad hours and actions; wrong
 * methods, content types and routes; bad compatibility query strings — and sends 5,000 to a
 * file-backed and 5,000 to a Redis-backed server process (plus a table of named cases to each),
 * 32 at a time. Every request is malformed by construction, so every answer must be a 4xx with
 * a JSON error body (the compatibility envelope on those routes), the process must stay up and
 * exit cleanly, and neither DATA_DIR nor Redis may hold anything afterwards.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { createClient } from '@redis/client';
import { afterAll, describe, expect, it } from 'vitest';
import {
  closeRawAgent,
  countStatuses,
  LOAD_TEST_ENV,
  reportFigures,
  runPool,
  sendRaw,
  type HttpResult,
  type RawRequest,
} from '../helpers/load.js';
import { startRedisServer, type RedisProcess } from '../helpers/redis-process.js';
import { describeWithRedis } from '../helpers/redis.js';
import { startServersPerTest, PROJECT_ROOT, type ServerProcess } from '../helpers/server-process.js';

/** Generated requests per backend (files, Redis): 10,000 in all, plus the named table twice. */
const GENERATED_PER_BACKEND = 5_000;
const CONCURRENCY = 32;
const SEED = 0x5eed;

const start = startServersPerTest(LOAD_TEST_ENV);
afterAll(() => closeRawAgent());

// ── the generator ──

/** Valid ids, used only in requests that are malformed elsewhere: they must never be created. */
const VALID_IDS = ['fuzz-a', 'Fuzz_B', 'z9'] as const;
const PET_ID = /^[A-Za-z0-9_-]{1,64}$/;
const ACTIONS = ['feed', 'play', 'greet'];
const JSON_TYPE = { 'content-type': 'application/json' };

/** A request and the family it was drawn from. */
interface FuzzCase {
  kind: string;
  request: RawRequest;
}

const SAFE = [...'abcXYZ019_-'];
const BAD_CHARS = [
  ':',
  '*',
  '.',
  ' ',
  '~',
  '!',
  '$',
  '&',
  "'",
  '(',
  ')',
  '+',
  ',',
  ';',
  '=',
  '@',
  '"',
  '<',
  '>',
  '[',
  ']',
  '^',
  '`',
  '{',
  '|',
  '}',
  '\\',
  '/',
  '?',
  '#',
  '%',
  '\u0000',
  '\t',
  '\n',
  '\u007f',
  'é',
  'ß',
  '猫',
  '🐱',
  '\u202e',
  '\u200b',
  '\ufeff',
  'İ',
  '\u212a', // KELVIN SIGN, which case-folds to K
];
const part = fc.string({ unit: fc.constantFrom(...SAFE), maxLength: 12 });

/** Ids that are not 1–64 of [A-Za-z0-9_-], whatever layer decodes them. */
const badId: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 5, arbitrary: fc.tuple(part, fc.constantFrom(...BAD_CHARS), part).map(([a, c, b]) => a + c + b) },
    { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...SAFE), minLength: 65, maxLength: 300 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 10_240 }).map((n) => 'x'.repeat(n)) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 16 }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '',
        '../etc',
        '../../x',
        '%2e%2e',
        '..%2f..',
        'life_*',
        '*',
        'a:b',
        ':meta',
        'x:meta',
        'a b',
        ' ',
        '猫',
        '🐱🐱',
        'x'.repeat(10_240),
      ),
    },
  )
  // '.' and '..' alone are dot segments: a URL that resolves them names another route (table below).
  .filter((id) => !PET_ID.test(id) && !/^\.{1,2}$/.test(id));

/** An id as a path segment: percent-encoded, or as written when it is plain ASCII a URL keeps apart. */
const idInPath = (id: string, raw: boolean): string =>
  raw && /^[\x21-\x7e]+$/.test(id) && !/[/?#%\\]/.test(id) ? id : encodeURIComponent(id);

const ID_ROUTES: ReadonlyArray<{ method: string; suffix: string; body?: string }> = [
  { method: 'GET', suffix: '/state' },
  { method: 'POST', suffix: '/interact', body: '{"action":"feed"}' },
  { method: 'POST', suffix: '/catchup', body: '{"hours":1}' },
  { method: 'POST', suffix: '/reset' },
  { method: 'PATCH', suffix: '', body: '{"pet_name":"Mochi"}' },
  { method: 'GET', suffix: '/forecast' },
];

const badIdInPath: fc.Arbitrary<FuzzCase> = fc.tuple(badId, fc.boolean(), fc.constantFrom(...ID_ROUTES)).map(([id, raw, route]) => ({
  kind: 'bad id in path',
  request: {
    method: route.method,
    path: `/api/pet/${idInPath(id, raw)}${route.suffix}`,
    ...(route.body === undefined ? {} : { headers: JSON_TYPE, body: route.body }),
  },
}));

/** A device_id that is not a valid id string: a bad string, or another JSON type. */
const badDeviceValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: badId },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(123, 0, -1, null, true, false, [], ['fuzz-a'], {}, { id: 'fuzz-a' }, 1e308) },
);

const badIdInCompat: fc.Arbitrary<FuzzCase> = fc.oneof(
  badId.map((id) => ({ kind: 'compat bad id', request: { method: 'GET', path: `/api/pet/status?device_id=${encodeURIComponent(id)}` } })),
  badId.map((id) => ({
    kind: 'compat bad id',
    request: { method: 'POST', path: `/api/pet/catchup?device_id=${encodeURIComponent(id)}&hours=2` },
  })),
  badId.map((id) => ({ kind: 'compat bad id', request: { method: 'POST', path: `/api/debug/reset?device_id=${encodeURIComponent(id)}` } })),
  badDeviceValue.map((value) => ({
    kind: 'compat bad id',
    request: { method: 'POST', path: '/api/pet/interact', headers: JSON_TYPE, body: JSON.stringify({ device_id: value, action: 'feed' }) },
  })),
  badDeviceValue.map((value) => ({
    kind: 'compat bad id',
    request: { method: 'POST', path: '/api/pet/feed', headers: JSON_TYPE, body: JSON.stringify({ device_id: value }) },
  })),
);

/** Text that is not JSON at all, or JSON cut short. */
const notJson: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    'feed',
    'action=feed',
    '{',
    '}',
    '{"action":',
    '{action:"feed"}',
    "{'action':'feed'}",
    'undefined',
    'NaN',
    '{"action":"feed"}}',
    '{"action":"feed",}',
    '[1,2',
    '\u0000',
    '\u0000{"action":"feed"}',
    '{"hours":NaN}',
    '{"hours":Infinity}',
    '{"hours":-Infinity}',
    '{"hours":0x10}',
    '{"hours":24n}',
    '{"hours":.5}',
    '{"hours":+1}',
    '{"action":"feed"} trailing',
    '<action>feed</action>',
    '\ud800',
    '{"action":"\\x66eed"}',
  ),
  fc
    .tuple(fc.constantFrom('{"action":"feed"}', '{"hours":24}', '{"pet_name":"Mochi"}', '{"device_id":"fuzz-a","action":"feed"}'), fc.nat())
    .map(([text, cut]) => text.slice(0, cut % text.length)),
  fc.string({ maxLength: 200 }).filter((text) => {
    try {
      JSON.parse(text);
      return false;
    } catch {
      return true;
    }
  }),
);

const BAD_HOURS = [
  '-1',
  '0',
  '-0',
  '87600.0001',
  '87601',
  '1e308',
  '-1e308',
  '1e999',
  '-1e999',
  '1e-400',
  '"24"',
  '"1"',
  '""',
  'null',
  'true',
  'false',
  '[]',
  '[24]',
  '{}',
  '{"h":1}',
  '"NaN"',
  '"Infinity"',
  '9007199254740993e300',
];
const BAD_ACTIONS: unknown[] = [
  'FEED',
  'Feed',
  ' feed',
  'feed ',
  'feed\u0000',
  'dance',
  'sleep',
  'reset',
  '',
  '__proto__',
  'constructor',
  'toString',
  'feed,play',
  ['feed'],
  { action: 'feed' },
  1,
  null,
  true,
];

/** Valid JSON of the wrong shape for route `route`. */
const wrongShape = (valid: (value: unknown) => boolean): fc.Arbitrary<string> =>
  fc
    .jsonValue({ maxDepth: 3 })
    .filter((value) => !valid(value))
    .map((value) => JSON.stringify(value));

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const BODY_ROUTES = [
  {
    path: (id: string) => `/api/pet/${id}/interact`,
    method: 'POST',
    valid: (v: unknown) => isObject(v) && ACTIONS.includes(v['action'] as string),
  },
  { path: (id: string) => `/api/pet/${id}/catchup`, method: 'POST', valid: (v: unknown) => isObject(v) && typeof v['hours'] === 'number' },
  { path: (id: string) => `/api/pet/${id}`, method: 'PATCH', valid: (v: unknown) => isObject(v) && ('pet_name' in v || 'timezone' in v) },
  { path: () => '/api/pet/interact', method: 'POST', valid: (v: unknown) => isObject(v) && typeof v['device_id'] === 'string' },
  { path: () => '/api/pet/feed', method: 'POST', valid: (v: unknown) => isObject(v) && typeof v['device_id'] === 'string' },
] as const;

const badBody: fc.Arbitrary<FuzzCase> = fc
  .tuple(fc.constantFrom(...VALID_IDS), fc.constantFrom(...BODY_ROUTES), fc.nat({ max: 99 }))
  .chain(([id, route, pick]) => {
    const body: fc.Arbitrary<string> = pick < 40 ? notJson : pick < 75 ? wrongShape(route.valid) : fc.constant('');
    return body.map((text) => ({
      kind: pick < 40 ? 'body not JSON' : pick < 75 ? 'body of wrong shape' : 'empty body',
      request: { method: route.method, path: route.path(id), headers: JSON_TYPE, body: text },
    }));
  });

const badFields: fc.Arbitrary<FuzzCase> = fc.oneof(
  fc.tuple(fc.constantFrom(...VALID_IDS), fc.constantFrom(...BAD_HOURS)).map(([id, hours]) => ({
    kind: 'bad hours',
    request: { method: 'POST', path: `/api/pet/${id}/catchup`, headers: JSON_TYPE, body: `{"hours":${hours}}` },
  })),
  fc.tuple(fc.constantFrom(...VALID_IDS), fc.constantFrom(...BAD_ACTIONS), fc.boolean()).map(([id, action, compat]) => ({
    kind: 'bad action',
    request: compat
      ? { method: 'POST', path: '/api/pet/interact', headers: JSON_TYPE, body: JSON.stringify({ device_id: id, action }) }
      : { method: 'POST', path: `/api/pet/${id}/interact`, headers: JSON_TYPE, body: JSON.stringify({ action }) },
  })),
  fc
    .tuple(
      fc.constantFrom(...VALID_IDS),
      fc.constantFrom<Record<string, unknown>>(
        {},
        { pet_name: '' },
        { pet_name: '   ' },
        { pet_name: 'x'.repeat(65) },
        { pet_name: 'a\u0000b' },
        { pet_name: 'a\nb' },
        { pet_name: 42 },
        { pet_name: null },
        { pet_name: ['Mochi'] },
        { timezone: 'Mars/Base' },
        { timezone: '../../etc/localtime' },
        { timezone: '' },
        { timezone: 'x'.repeat(65) },
        { timezone: 8 },
        { pet_name: 'Mochi', timezone: 'Nowhere/Land' },
        { name: 'Mochi' },
      ),
    )
    .map(([id, body]) => ({
      kind: 'bad patch',
      request: { method: 'PATCH', path: `/api/pet/${id}`, headers: JSON_TYPE, body: JSON.stringify(body) },
    })),
  fc
    .tuple(
      fc.constantFrom(...VALID_IDS),
      fc.constantFrom<Record<string, unknown>>(
        { food_type: 7 },
        { food_type: 'x'.repeat(65) },
        { user_id: 9 },
        { user_id: 'u'.repeat(257) },
      ),
    )
    .map(([id, extra]) => ({
      kind: 'bad compat field',
      request: { method: 'POST', path: '/api/pet/feed', headers: JSON_TYPE, body: JSON.stringify({ device_id: id, ...extra }) },
    })),
);

const hugeBody: fc.Arbitrary<FuzzCase> = fc
  .tuple(fc.constantFrom(...VALID_IDS), fc.integer({ min: 16_385, max: 96_000 }), fc.boolean(), fc.boolean())
  .map(([id, size, chunked, json]) => {
    const padding = 'a'.repeat(size);
    return {
      kind: 'body too large',
      request: {
        method: 'POST',
        path: `/api/pet/${id}/interact`,
        headers: JSON_TYPE,
        body: json ? `{"action":"feed","pad":"${padding}"}` : padding,
        chunked,
      },
    };
  });

const nestedBody: fc.Arbitrary<FuzzCase> = fc
  .tuple(fc.constantFrom(...VALID_IDS), fc.integer({ min: 50, max: 8_000 }), fc.constantFrom('array', 'object', 'wrapped'))
  .map(([id, depth, shape]) => {
    const body =
      shape === 'array'
        ? '['.repeat(depth) + ']'.repeat(depth)
        : shape === 'object'
          ? `${'{"action":'.repeat(depth)}"feed"${'}'.repeat(depth)}`
          : `${'{"x":'.repeat(depth)}{"action":"feed"}${'}'.repeat(depth)}`;
    return { kind: 'deeply nested body', request: { method: 'POST', path: `/api/pet/${id}/interact`, headers: JSON_TYPE, body } };
  });

const WRONG_TYPES = [
  'text/plain',
  'text/json',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/javascript',
  'application/octet-stream',
  '*/*',
  'json',
  'application',
  'application/jsonx',
  'application/json;',
  'image/png',
  'x'.repeat(300),
];

const wrongContentType: fc.Arbitrary<FuzzCase> = fc
  .tuple(fc.constantFrom(...VALID_IDS), fc.constantFrom(...WRONG_TYPES, null), fc.nat({ max: 2 }))
  .map(([id, type, which]) => {
    const [pathName, body] =
      which === 0
        ? [`/api/pet/${id}/interact`, '{"action":"feed"}']
        : which === 1
          ? [`/api/pet/${id}/catchup`, '{"hours":1}']
          : ['/api/pet/feed', JSON.stringify({ device_id: id })];
    return {
      kind: 'wrong content type',
      request: { method: 'POST', path: pathName, body, ...(type === null ? {} : { headers: { 'content-type': type } }) },
    };
  });

/** Methods Node's parser accepts; HEAD, OPTIONS and CONNECT are left out (HEAD is GET, OPTIONS a preflight). */
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'TRACE', 'PROPFIND', 'PURGE', 'LOCK', 'MKCOL', 'COPY', 'SEARCH'];
const ROUTE_METHODS: ReadonlyArray<{ path: (id: string) => string; allowed: readonly string[] }> = [
  { path: (id) => `/api/pet/${id}/state`, allowed: ['GET'] },
  { path: (id) => `/api/pet/${id}/interact`, allowed: ['POST'] },
  { path: (id) => `/api/pet/${id}/catchup`, allowed: ['POST'] },
  { path: (id) => `/api/pet/${id}/reset`, allowed: ['POST'] },
  { path: (id) => `/api/pet/${id}`, allowed: ['PATCH'] },
  { path: (id) => `/api/pet/${id}/forecast`, allowed: ['GET'] },
  { path: (id) => `/api/pet/status?device_id=${id}`, allowed: ['GET'] },
  { path: () => '/api/pet/interact', allowed: ['POST'] },
  { path: () => '/api/pet/feed', allowed: ['POST'] },
  { path: (id) => `/api/pet/catchup?device_id=${id}`, allowed: ['POST'] },
  { path: (id) => `/api/debug/reset?device_id=${id}`, allowed: ['POST'] },
];

const wrongMethod: fc.Arbitrary<FuzzCase> = fc
  .tuple(fc.constantFrom(...VALID_IDS), fc.constantFrom(...ROUTE_METHODS), fc.constantFrom(...METHODS), fc.boolean())
  .filter(([, route, method]) => !route.allowed.includes(method))
  .map(([id, route, method, withBody]) => ({
    kind: 'wrong method',
    request: {
      method,
      path: route.path(id),
      ...(withBody ? { headers: JSON_TYPE, body: JSON.stringify({ device_id: id, action: 'feed', hours: 1 }) } : {}),
    },
  }));

const ROUTE_NAMES = ['state', 'interact', 'catchup', 'reset', 'forecast'];
const unknownRoute: fc.Arbitrary<FuzzCase> = fc
  .tuple(
    fc.constantFrom(...VALID_IDS),
    fc
      .string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'), minLength: 1, maxLength: 12 })
      .filter((word) => !ROUTE_NAMES.includes(word)),
    fc.nat({ max: 6 }),
    fc.constantFrom('GET', 'POST'),
  )
  .map(([id, word, shape, method]) => {
    const paths = [
      `/api/pet/${id}/${word}`,
      `/api/pets/${id}/state`,
      `/api/pet/${id}/state/${word}`,
      `/api/pet/${id}/state/`,
      `/api/v2/pet/${id}/state`,
      `/API/pet/${id}/state`,
      `/api/${word}/${id}`,
    ];
    return { kind: 'unknown route', request: { method, path: paths[shape] ?? paths[0] ?? '/' } };
  });

const LANGS_BAD = ['EN', 'fr', '', 'en-US', 'zh,en', 'zh-CN', '*', '../en', 'en%00'];
const FORECAST_HOURS_BAD = ['0', '169', '-1', 'abc', 'NaN', 'Infinity', '1e9', '', '0.5'];
const FORECAST_STEP_BAD = ['0', '61', '1.5', 'abc', '-5', '1e3', 'NaN'];
const COMPAT_HOURS_BAD = ['NaN', 'Infinity', '-Infinity', '-1', '0', '-0', '87601', '1e308', 'abc', '24h', '1,5', '%00', '0/0', '[]'];

const badQuery: fc.Arbitrary<FuzzCase> = fc.oneof(
  fc.tuple(fc.constantFrom(...VALID_IDS), fc.constantFrom(...LANGS_BAD), fc.constantFrom('state', 'interact')).map(([id, lang, route]) => ({
    kind: 'bad query',
    request:
      route === 'state'
        ? { method: 'GET', path: `/api/pet/${id}/state?lang=${lang}` }
        : { method: 'POST', path: `/api/pet/${id}/interact?lang=${lang}`, headers: JSON_TYPE, body: '{"action":"feed"}' },
  })),
  fc
    .tuple(
      fc.constantFrom(...VALID_IDS),
      fc.option(fc.constantFrom(...FORECAST_HOURS_BAD)),
      fc.constantFrom(...FORECAST_STEP_BAD),
      fc.boolean(),
    )
    .map(([id, hours, step, badStep]) => ({
      kind: 'bad query',
      request: {
        method: 'GET',
        path: `/api/pet/${id}/forecast?hours=${hours ?? '24'}${badStep || hours === null ? `&step_minutes=${step}` : ''}`,
      },
    })),
  fc.tuple(fc.constantFrom(...VALID_IDS), fc.constantFrom(...COMPAT_HOURS_BAD)).map(([id, hours]) => ({
    kind: 'compat bad query',
    request: { method: 'POST', path: `/api/pet/catchup?device_id=${id}&hours=${hours}` },
  })),
  fc
    .tuple(fc.constantFrom(...VALID_IDS), fc.constantFrom(...LANGS_BAD), fc.constantFrom('/api/pet/status', '/api/debug/reset'))
    .map(([id, lang, route]) => ({
      kind: 'compat bad query',
      request: { method: route === '/api/pet/status' ? 'GET' : 'POST', path: `${route}?device_id=${id}&lang=${lang}` },
    })),
  fc.constantFrom<FuzzCase>(
    { kind: 'compat bad query', request: { method: 'GET', path: '/api/pet/status' } },
    { kind: 'compat bad query', request: { method: 'GET', path: '/api/pet/status?device_id' } },
    { kind: 'compat bad query', request: { method: 'GET', path: '/api/pet/status?device_id=' } },
    { kind: 'compat bad query', request: { method: 'GET', path: '/api/pet/status?id=fuzz-a' } },
    { kind: 'compat bad query', request: { method: 'POST', path: '/api/pet/catchup?hours=2' } },
    { kind: 'compat bad query', request: { method: 'POST', path: '/api/debug/reset' } },
    { kind: 'compat bad query', request: { method: 'GET', path: '/api/pet/status?device_id=a:b&device_id=c*d' } },
    { kind: 'compat bad query', request: { method: 'GET', path: '/api/pet/status?device_id[]=fuzz-a' } },
  ),
);

const malformedRequest: fc.Arbitrary<FuzzCase> = fc.oneof(
  { weight: 6, arbitrary: badIdInPath },
  { weight: 3, arbitrary: badIdInCompat },
  { weight: 4, arbitrary: badBody },
  { weight: 3, arbitrary: badFields },
  { weight: 1, arbitrary: hugeBody },
  { weight: 1, arbitrary: nestedBody },
  { weight: 2, arbitrary: wrongContentType },
  { weight: 2, arbitrary: wrongMethod },
  { weight: 1, arbitrary: unknownRoute },
  { weight: 2, arbitrary: badQuery },
);

/** Named cases every run sends, whatever the generator draws. */
const TABLE: FuzzCase[] = [
  ...[
    '/api/pet/../state',
    '/api/pet/%2e%2e/state',
    '/api/pet/%2E%2e/state',
    '/api/pet/..%2fetc/state',
    '/api/pet/%2e%2e%2f%2e%2e%2fetc/state',
    '/api/pet/a%2Fb/state',
    '/api/pet/a%5Cb/state',
    '/api/pet/%zz/state',
    '/api/pet/%E0%A4%A/state',
    '/api/pet/%/state',
    '/api/pet/%C0%AF/state',
    '/api/pet/a%00b/state',
    '/api/pet//state',
    '/api/pet/*/state',
    '/api/pet/a:b/state',
    '/api/pet/life_x:meta/state',
    '/api/pet/a%20b/state',
    `/api/pet/${encodeURIComponent('猫🐱')}/state`,
    `/api/pet/${'x'.repeat(10_240)}/state`,
    `/api/pet/${'y'.repeat(65)}/state`,
    '/api/pet/./state',
    '/api/pet/%2e/state',
  ].map((p): FuzzCase => ({ kind: 'table: path', request: { method: 'GET', path: p } })),
  ...['/api/pet/../interact', '/api/pet/%2e%2e/interact', '/api/pet/a:b/interact', `/api/pet/${'z'.repeat(10_240)}/interact`].map(
    (p): FuzzCase => ({ kind: 'table: path', request: { method: 'POST', path: p, headers: JSON_TYPE, body: '{"action":"feed"}' } }),
  ),
  { kind: 'table: body', request: { method: 'POST', path: '/api/pet/fuzz-a/interact', headers: JSON_TYPE, body: '{"action":"feed"' } },
  { kind: 'table: body', request: { method: 'POST', path: '/api/pet/fuzz-a/catchup', headers: JSON_TYPE, body: '{"hours":NaN}' } },
  { kind: 'table: body', request: { method: 'POST', path: '/api/pet/fuzz-a/catchup', headers: JSON_TYPE, body: '{"hours":Infinity}' } },
  { kind: 'table: body', request: { method: 'POST', path: '/api/pet/fuzz-a/catchup', headers: JSON_TYPE, body: '{"hours":-1}' } },
  { kind: 'table: body', request: { method: 'POST', path: '/api/pet/fuzz-a/catchup', headers: JSON_TYPE, body: '{"hours":1e308}' } },
  { kind: 'table: body', request: { method: 'POST', path: '/api/pet/fuzz-a/catchup', headers: JSON_TYPE, body: '{"hours":"24"}' } },
  { kind: 'table: body', request: { method: 'POST', path: '/api/pet/fuzz-a/interact', headers: JSON_TYPE, body: '{"action":"dance"}' } },
  { kind: 'table: body', request: { method: 'POST', path: '/api/pet/fuzz-a/interact', headers: JSON_TYPE, body: '[{"action":"feed"}]' } },
  { kind: 'table: body', request: { method: 'POST', path: '/api/pet/fuzz-a/interact', headers: JSON_TYPE, body: 'null' } },
  {
    kind: 'table: body',
    request: { method: 'POST', path: '/api/pet/fuzz-a/interact', headers: JSON_TYPE, body: '{"__proto__":{"action":"feed"}}' },
  },
  {
    kind: 'table: body',
    request: {
      method: 'POST',
      path: '/api/pet/fuzz-a/interact',
      headers: JSON_TYPE,
      body: `{"action":"feed","pad":"${'p'.repeat(1_048_576)}"}`,
    },
  },
  {
    kind: 'table: body',
    request: {
      method: 'POST',
      path: '/api/pet/fuzz-a/interact',
      headers: JSON_TYPE,
      body: `{"action":"feed","pad":"${'p'.repeat(20_000)}"}`,
      chunked: true,
    },
  },
  {
    kind: 'table: body',
    request: { method: 'POST', path: '/api/pet/fuzz-a/interact', headers: JSON_TYPE, body: '['.repeat(8_000) + ']'.repeat(8_000) },
  },
  {
    kind: 'table: body',
    request: { method: 'POST', path: '/api/pet/feed', headers: JSON_TYPE, body: JSON.stringify({ device_id: 'x'.repeat(10_240) }) },
  },
  {
    kind: 'table: body',
    request: { method: 'POST', path: '/api/pet/feed', headers: JSON_TYPE, body: JSON.stringify({ device_id: '../../etc/passwd' }) },
  },
  { kind: 'table: method', request: { method: 'GET', path: '/api/pet/fuzz-a/interact' } },
  { kind: 'table: method', request: { method: 'DELETE', path: '/api/pet/fuzz-a' } },
  { kind: 'table: method', request: { method: 'PUT', path: '/api/pet/fuzz-a/state', headers: JSON_TYPE, body: '{"action":"feed"}' } },
  { kind: 'table: method', request: { method: 'GET', path: '/api/pet/feed', headers: JSON_TYPE, body: '{"device_id":"fuzz-a"}' } },
  {
    kind: 'table: type',
    request: { method: 'POST', path: '/api/pet/fuzz-a/interact', headers: { 'content-type': 'text/plain' }, body: '{"action":"feed"}' },
  },
  { kind: 'table: type', request: { method: 'POST', path: '/api/pet/fuzz-a/interact', body: '{"action":"feed"}' } },
  {
    kind: 'table: type',
    request: {
      method: 'POST',
      path: '/api/pet/fuzz-a/interact',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'action=feed',
    },
  },
  { kind: 'table: query', request: { method: 'POST', path: '/api/pet/catchup?device_id=fuzz-a&hours=NaN' } },
  { kind: 'table: query', request: { method: 'POST', path: '/api/pet/catchup?device_id=fuzz-a&hours=-1' } },
  { kind: 'table: query', request: { method: 'POST', path: '/api/pet/catchup?device_id=fuzz-a&hours=1e308' } },
  { kind: 'table: query', request: { method: 'GET', path: '/api/pet/status?device_id=..%2F..%2Fetc' } },
  { kind: 'table: query', request: { method: 'GET', path: '/api/pet/status?device_id=life_*' } },
  { kind: 'table: query', request: { method: 'GET', path: `/api/pet/status?device_id=${'x'.repeat(10_240)}` } },
];

// ── running and judging ──

const COMPAT_ROUTES = new Set([
  'GET /api/pet/status',
  'POST /api/pet/interact',
  'POST /api/pet/feed',
  'POST /api/pet/catchup',
  'POST /api/debug/reset',
]);

/** What is wrong with an answer to a malformed request; null when it is as it must be. */
function problemWith(request: RawRequest, result: HttpResult): string | null {
  if (result.status < 400 || result.status > 499) return `status ${result.status}${result.error ? ` (${result.error})` : ''}`;
  if (!result.contentType.startsWith('application/json')) return `content-type ${JSON.stringify(result.contentType)}`;
  const body = result.json as { success?: unknown; error?: { code?: unknown; message?: unknown }; timestamp?: unknown } | undefined;
  if (typeof body?.error?.code !== 'string' || typeof body.error.message !== 'string') return 'no {error: {code, message}}';
  if (/\n\s+at\s|node_modules/.test(result.text) || result.text.includes(PROJECT_ROOT)) return 'stack trace or server path in the answer';
  const compat = COMPAT_ROUTES.has(`${request.method} ${request.path.split('?')[0]}`);
  if (compat && (body.success !== false || typeof body.timestamp !== 'string')) return 'no compatibility envelope';
  if (!compat && 'success' in body) return 'compatibility envelope on an API route';
  return null;
}

interface FuzzRun {
  sent: number;
  byStatus: Record<string, number>;
  byCode: Record<string, number>;
  byKind: Record<string, number>;
  failures: Array<{ kind: string; method: string; path: string; body: string; problem: string; answer: string }>;
  elapsedMs: number;
}

async function fuzz(server: ServerProcess, cases: readonly FuzzCase[]): Promise<FuzzRun> {
  const started = performance.now();
  const results = await runPool(cases.length, CONCURRENCY, (index) => {
    const fuzzCase = cases[index];
    if (fuzzCase === undefined) throw new Error('no case');
    return sendRaw(server.url, fuzzCase.request, 15_000);
  });
  const run: FuzzRun = {
    sent: cases.length,
    byStatus: countStatuses(results),
    byCode: {},
    byKind: {},
    failures: [],
    elapsedMs: performance.now() - started,
  };
  results.forEach((result, index) => {
    const { kind, request } = cases[index] ?? { kind: '?', request: { method: '?', path: '?' } };
    run.byKind[kind] = (run.byKind[kind] ?? 0) + 1;
    const code = (result.json as { error?: { code?: string } } | undefined)?.error?.code ?? `none (${result.status})`;
    run.byCode[code] = (run.byCode[code] ?? 0) + 1;
    const problem = problemWith(request, result);
    if (problem !== null) {
      run.failures.push({
        kind,
        method: request.method,
        path: request.path.slice(0, 200),
        body: String(request.body ?? '').slice(0, 200),
        problem,
        answer: result.text.slice(0, 300),
      });
    }
  });
  return run;
}

/** Every file and folder under `dir`, relative, folders with a trailing '/'. */
function listTree(dir: string): string[] {
  const found: string[] = [];
  const walk = (relative: string): void => {
    for (const entry of readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const name = path.join(relative, entry.name);
      if (entry.isDirectory()) {
        found.push(`${name}/`);
        walk(name);
      } else found.push(name);
    }
  };
  walk('');
  return found.sort();
}

/** The fuzz, then what every backend must show: only 4xx JSON, still alive, clean exit. */
async function fuzzServer(backend: string, env: Record<string, string>, seed: number): Promise<FuzzRun> {
  const server = await start(env);
  const generated = fc.sample(malformedRequest, { seed, numRuns: GENERATED_PER_BACKEND });
  const run = await fuzz(server, [...TABLE, ...generated]);

  expect(run.failures.slice(0, 20)).toEqual([]);
  expect(run.failures).toHaveLength(0);
  expect(Object.keys(run.byStatus).filter((status) => !status.startsWith('4'))).toEqual([]);
  expect(server.child.exitCode).toBeNull();
  expect((await sendRaw(server.url, { method: 'GET', path: '/health' })).status).toBe(200);

  // A clean shutdown flushes the log: no request may have failed inside the server.
  expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  const errors = server.logs.filter((line) => line['level'] === 'error' || line['level'] === 'fatal');
  expect(errors.map((line) => JSON.stringify(line).slice(0, 300))).toEqual([]);
  expect(server.stderr()).toBe('');

  reportFigures(`fuzz-${backend}`, {
    requests: run.sent,
    generated: GENERATED_PER_BACKEND,
    table: TABLE.length,
    concurrency: CONCURRENCY,
    elapsed_s: Math.round(run.elapsedMs) / 1000,
    requests_per_s: Math.round((run.sent / run.elapsedMs) * 1000),
    by_status: run.byStatus,
    by_code: run.byCode,
    by_kind: run.byKind,
    failures: run.failures.length,
  });
  return run;
}

describe('reliability: malformed requests against a file-backed server (issue #5)', () => {
  const sandbox = mkdtempSync(path.join(tmpdir(), 'pet-life-fuzz-'));
  const dataDir = path.join(sandbox, 'root', 'data');
  mkdirSync(dataDir, { recursive: true });
  afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

  it('answers every one with a 4xx JSON error, never a 5xx, and writes no file anywhere', async () => {
    await fuzzServer('file', { DATA_DIR: dataDir }, SEED);
    // Nothing under DATA_DIR (every request was refused before storage), nothing beside it.
    expect(listTree(dataDir)).toEqual([]);
    expect(listTree(sandbox)).toEqual(['root/', 'root/data/']);
  }, 90_000);

  it('refuses requests Node cannot parse with a 4xx and stays up', async () => {
    const server = await start({ DATA_DIR: dataDir });
    const { port } = new URL(server.url);
    const raw = [
      ['bytes above ASCII in the path', Buffer.from('GET /api/pet/caf\xe9/state HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1')],
      [
        'a 20 KB id (request line over the header limit)',
        Buffer.from(`GET /api/pet/${'x'.repeat(20_480)}/state HTTP/1.1\r\nHost: x\r\n\r\n`),
      ],
      [
        'Content-Length and chunked together',
        Buffer.from(
          'POST /api/pet/fuzz-a/interact HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 17\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n{"action":"feed"}\r\n0\r\n\r\n',
        ),
      ],
      ['a space in the path', Buffer.from('GET /api/pet/a b/state HTTP/1.1\r\nHost: x\r\n\r\n')],
      ['an unknown method', Buffer.from('FEED /api/pet/fuzz-a/state HTTP/1.1\r\nHost: x\r\n\r\n')],
      ['garbage', Buffer.from('\x00\x01\x02 hello\r\n\r\n', 'latin1')],
    ] as const;
    const answers: Record<string, string> = {};
    for (const [name, bytes] of raw) {
      const head = await exchangeBytes(Number(port), bytes);
      answers[name] = head;
      expect(head, name).toMatch(/^HTTP\/1\.1 4\d\d /);
    }
    expect(server.child.exitCode).toBeNull();
    expect((await sendRaw(server.url, { method: 'GET', path: '/health' })).status).toBe(200);
    expect(listTree(dataDir)).toEqual([]);
    reportFigures('fuzz-protocol', { answers });
  }, 30_000);
});

describeWithRedis('reliability: malformed requests against a Redis-backed server (issue #5)', () => {
  let redis: RedisProcess | undefined;
  afterAll(async () => {
    await redis?.stop();
  });

  it('answers every one with a 4xx JSON error, never a 5xx, and writes no key', async () => {
    // A Redis of its own, so that "no key at all" is exact: other suites share TEST_REDIS_URL.
    redis = await startRedisServer();
    await fuzzServer('redis', { REDIS_URL: redis.url }, SEED + 1);
    const client = createClient({ url: redis.url, RESP: 2 });
    await client.connect();
    try {
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: '*', COUNT: 1000 })) keys.push(...batch);
      expect(keys.filter((key) => !key.startsWith('life_'))).toEqual([]);
      expect(keys).toEqual([]);
    } finally {
      await client.close();
    }
  }, 90_000);
});

/** Writes `bytes` on a fresh connection; resolves with the status line of the answer ('' if none). */
function exchangeBytes(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = '';
    const done = (): void => {
      socket.destroy();
      resolve(received.split('\r\n')[0] ?? '');
    };
    socket.setTimeout(3_000, done);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n\r\n')) done();
    });
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', () => socket.write(bytes));
  });
}
