/**
 * The address rule for URLs the server calls (docs/design.md §13) and the cron route's QStash
 * check: pure functions with an injected resolver and a signature made with the signing key.
 */
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCronAuth } from '../../../src/service/notify/cron-auth.js';
import { assertCallableUrl, isNonPublicAddress } from '../../../src/service/notify/public-address.js';

describe('the address rule', () => {
  it('tells public from non-public addresses, IPv4-mapped ones judged as IPv4', () => {
    for (const address of [
      '127.0.0.1',
      '10.0.0.8',
      '172.31.255.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fe80::1',
      'fd00:ec2::254',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      '224.0.0.1',
      'nonsense',
    ]) {
      expect(isNonPublicAddress(address), address).toBe(true);
    }
    for (const address of ['93.184.215.14', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8'])
      expect(isNonPublicAddress(address), address).toBe(false);
  });

  it('refuses a host that resolves to any non-public address, and one that does not resolve', async () => {
    const resolveTo = (addresses: string[]) => ({ allowPrivate: false, resolve: async () => addresses });
    await expect(assertCallableUrl('https://hooks.example/x', 'url', resolveTo(['93.184.215.14']))).resolves.toBeInstanceOf(URL);
    await expect(assertCallableUrl('https://hooks.example/x', 'url', resolveTo(['93.184.215.14', '10.0.0.1']))).rejects.toThrow(/public/);
    await expect(assertCallableUrl('https://hooks.example/x', 'url', resolveTo([]))).rejects.toThrow(/public/);
    const failing = { allowPrivate: false, resolve: async () => Promise.reject(new Error('ENOTFOUND')) };
    await expect(assertCallableUrl('https://nowhere.example/x', 'url', failing)).rejects.toThrow(/does not resolve/);
    await expect(assertCallableUrl('https://user:pw@hooks.example/x', 'url', resolveTo(['93.184.215.14']))).rejects.toThrow(/credentials/);
    await expect(assertCallableUrl('ftp://hooks.example/x', 'url', resolveTo(['93.184.215.14']))).rejects.toThrow(/https/);
  });

  it('allows http and private addresses only with WEBHOOK_ALLOW_PRIVATE', async () => {
    await expect(assertCallableUrl('http://127.0.0.1:8080/x', 'url', { allowPrivate: true })).resolves.toBeInstanceOf(URL);
    await expect(assertCallableUrl('http://127.0.0.1:8080/x', 'url', { allowPrivate: false })).rejects.toThrow(/https/);
  });
});

describe('the cron route authorization', () => {
  /** A QStash-style JWT (HS256) signed with `key` over an empty body. */
  const qstashJwt = (key: string, nowS: number) => {
    const b64 = (value: object | Buffer) => (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))).toString('base64url');
    const header = b64({ alg: 'HS256', typ: 'JWT' });
    const claims = b64({
      iss: 'Upstash',
      sub: '',
      exp: nowS + 300,
      nbf: nowS - 1,
      iat: nowS - 1,
      jti: 'j1',
      body: createHash('sha256').update('').digest('base64url'),
    });
    const signature = createHmac('sha256', key).update(`${header}.${claims}`).digest('base64url');
    return `${header}.${claims}.${signature}`;
  };

  it('accepts the cron secret and a QStash signature by the current or next key, nothing else', async () => {
    const auth = createCronAuth({ cronSecret: 's'.repeat(20), qstash: { current: 'current-key', next: 'next-key' } });
    const nowS = Math.floor(Date.now() / 1000);
    expect(await auth({ authorization: `Bearer ${'s'.repeat(20)}`, signature: null, body: '' })).toBe(true);
    expect(await auth({ authorization: 'Bearer nope', signature: null, body: '' })).toBe(false);
    expect(await auth({ authorization: null, signature: qstashJwt('current-key', nowS), body: '' })).toBe(true);
    expect(await auth({ authorization: null, signature: qstashJwt('next-key', nowS), body: '' })).toBe(true);
    expect(await auth({ authorization: null, signature: qstashJwt('other-key', nowS), body: '' })).toBe(false);
    expect(await auth({ authorization: null, signature: 'garbage', body: '' })).toBe(false);
    expect(await auth({ authorization: null, signature: null, body: '' })).toBe(false);
  });
});
