/**
 * The client's fetch (src/client/retry.ts) and its errors against a scripted fetch: one
 * Idempotency-Key per change across its retries, bounded tries, reads never retried, the Bearer
 * secret on every request, refusals as PetLifeError with the wire code.
 */
import { describe, expect, it } from 'vitest';
import { createPetLifeClient, PetLifeError } from '../../src/client/index.js';
import { clientFetch, DEFAULT_RETRY } from '../../src/client/retry.js';

type Step = Response | Error;

function scripted(steps: Step[]) {
  const seen: Array<{ method: string; url: string; headers: Headers; body: string }> = [];
  const fetch = (async (input: Request | string, init?: RequestInit) => {
    const request = new Request(input, init);
    seen.push({ method: request.method, url: request.url, headers: request.headers, body: await request.text() });
    const step = steps.shift();
    if (step === undefined) throw new Error('no more answers scripted');
    if (step instanceof Error) throw step;
    return step;
  }) as typeof globalThis.fetch;
  return { fetch, seen };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const unavailable = () => json(503, { error: { code: 'storage_unavailable', message: 'storage is down' } });
const pauses: number[] = [];
const fakeSleep = async (ms: number) => {
  pauses.push(ms);
};

function fetchWith(steps: Step[], secret: string | null = null, tries = 3) {
  const script = scripted(steps);
  const wrapped = clientFetch({
    fetch: script.fetch,
    secret: () => secret,
    retry: { ...DEFAULT_RETRY, tries },
    sleep: fakeSleep,
    random: () => 0.5,
  });
  return { wrapped, seen: script.seen };
}

describe('client fetch', () => {
  it('retries a change answered 503 with the same Idempotency-Key and body', async () => {
    pauses.length = 0;
    const { wrapped, seen } = fetchWith([unavailable(), new TypeError('fetch failed'), json(200, { ok: true })]);
    const response = await wrapped(new Request('http://pets.test/api/pet/a/interact', { method: 'POST', body: '{"action":"feed"}' }));
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(3);
    const keys = seen.map((request) => request.headers.get('idempotency-key'));
    expect(keys[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(keys).size).toBe(1);
    expect(seen.map((request) => request.body)).toEqual(Array(3).fill('{"action":"feed"}'));
    // Full jitter on a doubling backoff: 0.5 × 250, then 0.5 × 500.
    expect(pauses).toEqual([125, 250]);
  });

  it('keeps a key the caller gave, and honours Retry-After within the bound', async () => {
    pauses.length = 0;
    const { wrapped, seen } = fetchWith([json(503, {}, { 'retry-after': '2' }), json(201, {})]);
    await wrapped(new Request('http://pets.test/api/pets', { method: 'POST', body: '{}', headers: { 'idempotency-key': 'mine-1' } }));
    expect(seen.map((request) => request.headers.get('idempotency-key'))).toEqual(['mine-1', 'mine-1']);
    expect(pauses).toEqual([2000]);
  });

  it('stops after the last try: the 503 is answered, a network error thrown', async () => {
    const gaveUp = fetchWith([unavailable(), unavailable()], null, 2);
    expect((await gaveUp.wrapped(new Request('http://pets.test/x', { method: 'POST', body: '{}' }))).status).toBe(503);
    expect(gaveUp.seen).toHaveLength(2);
    const unreachable = fetchWith([new TypeError('a'), new TypeError('b')], null, 2);
    await expect(unreachable.wrapped(new Request('http://pets.test/x', { method: 'POST', body: '{}' }))).rejects.toThrow('b');
  });

  it('sends a read once, without a key, and the secret on everything', async () => {
    const { wrapped, seen } = fetchWith([unavailable()], 'owner-secret');
    expect((await wrapped(new Request('http://pets.test/api/pet/a/state'))).status).toBe(503);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.headers.get('idempotency-key')).toBeNull();
    expect(seen[0]?.headers.get('authorization')).toBe('Bearer owner-secret');
  });
});

describe('createPetLifeClient', () => {
  it('throws refusals as PetLifeError with the wire code', async () => {
    const { fetch } = scripted([json(400, { error: { code: 'invalid_action', message: 'action must be one of feed, play, greet' } })]);
    const client = createPetLifeClient({ baseUrl: 'http://pets.test', fetch });
    const error = await client.interact('a', 'feed').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PetLifeError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_action', message: 'action must be one of feed, play, greet' });
  });

  it('names a refusal without a JSON body by its status', async () => {
    const { fetch } = scripted([new Response('<html>bad gateway</html>', { status: 502 })]);
    const client = createPetLifeClient({ baseUrl: 'http://pets.test', fetch });
    await expect(client.state('a')).rejects.toMatchObject({ status: 502, code: 'http_502' });
  });
});
