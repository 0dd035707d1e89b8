/**
 * VAPID keys (docs/design.md §13): from the environment when set (checked to be one pair), else
 * generated once and kept in storage — instances racing on a fresh store all end with the same
 * pair (memory, and a real Redis when TEST_REDIS_URL is set).
 */
import { createECDH } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { DEFAULT_VAPID_SUBJECT, loadVapidKeys } from '../../../src/service/notify/vapid-keys.js';
import { createMemoryStorage } from '../../../src/storage/index.js';
import { createRedisStorage } from '../../../src/storage/redis.js';
import type { StorageDriver } from '../../../src/storage/types.js';
import { describeWithRedis, testRedisUrl } from '../../helpers/redis.js';

const VAPID_TEST_DB = 13;

function pair(): { publicKey: string; privateKey: string } {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  // getPrivateKey drops leading zero bytes: pad to the 32 a VAPID private key always has.
  const privateKey = ecdh.getPrivateKey();
  const padded = Buffer.concat([Buffer.alloc(32 - privateKey.length), privateKey]);
  return { publicKey: ecdh.getPublicKey().toString('base64url'), privateKey: padded.toString('base64url') };
}

async function raceOn(storages: StorageDriver[]): Promise<void> {
  const keys = await Promise.all(storages.flatMap((storage) => [loadVapidKeys(storage), loadVapidKeys(storage), loadVapidKeys(storage)]));
  const first = keys[0];
  expect(first?.publicKey).toMatch(/^[A-Za-z0-9_-]{87}$/);
  for (const k of keys) expect(k).toEqual(first);
  // The pair kept is a real pair: its private key derives its public key.
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(Buffer.from(first?.privateKey ?? '', 'base64url'));
  expect(ecdh.getPublicKey().toString('base64url')).toBe(first?.publicKey);
  // Later loads (a restart) read the same pair.
  expect(await loadVapidKeys(storages[0] as StorageDriver)).toEqual(first);
}

describe('loadVapidKeys', () => {
  it('generates one pair under a race and keeps it (memory)', async () => {
    await raceOn([createMemoryStorage()]);
  });

  it('uses the environment pair without touching storage', async () => {
    const env = pair();
    const storage = createMemoryStorage();
    const keys = await loadVapidKeys(storage, { ...env, subject: 'https://pets.example.com/contact' });
    expect(keys).toEqual({ ...env, subject: 'https://pets.example.com/contact' });
    expect(await storage.loadRecords([{ purpose: 'vapid', subject: 'keys' }])).toEqual([null]);
  });

  it('generates 32-byte private keys, also when the key has leading zero bytes', async () => {
    for (let i = 0; i < 600; i += 1) {
      const keys = await loadVapidKeys(createMemoryStorage());
      expect(Buffer.from(keys.privateKey, 'base64url').length).toBe(32);
    }
  });

  it('defaults the subject', async () => {
    expect((await loadVapidKeys(createMemoryStorage())).subject).toBe(DEFAULT_VAPID_SUBJECT);
  });

  it('refuses half a pair, a mismatched pair, a bad key and a bad subject', async () => {
    const a = pair();
    const b = pair();
    const storage = createMemoryStorage();
    await expect(loadVapidKeys(storage, { publicKey: a.publicKey })).rejects.toThrow(ConfigError);
    await expect(loadVapidKeys(storage, { privateKey: a.privateKey })).rejects.toThrow(/both/);
    await expect(loadVapidKeys(storage, { publicKey: a.publicKey, privateKey: b.privateKey })).rejects.toThrow(/not the public key/);
    await expect(loadVapidKeys(storage, { publicKey: a.publicKey, privateKey: 'not+base64' })).rejects.toThrow(/P-256/);
    await expect(loadVapidKeys(storage, { publicKey: a.publicKey, privateKey: 'AAAA' })).rejects.toThrow(/P-256/);
    await expect(loadVapidKeys(storage, { subject: 'http://example.com' })).rejects.toThrow(/VAPID_SUBJECT/);
    await expect(loadVapidKeys(storage, { subject: 'nobody' })).rejects.toThrow(/VAPID_SUBJECT/);
  });

  it('reports a stored record that is not a key pair as corrupt', async () => {
    const storage = createMemoryStorage();
    await storage.saveRecord({ purpose: 'vapid', subject: 'keys' }, { expectedVersion: 0, value: '{"public_key":"x","private_key":"y"}' });
    await expect(loadVapidKeys(storage)).rejects.toThrow(/cannot be read/);
  });
});

describeWithRedis('loadVapidKeys on Redis', () => {
  it('two instances racing on a fresh store end with the same pair', async () => {
    // The record's key is global: a database no other suite uses keeps a shared test Redis's
    // other suites (and their servers' key pair) out of the race.
    const url = new URL(testRedisUrl as string);
    url.pathname = `/${VAPID_TEST_DB}`;
    const storages = [createRedisStorage({ url: url.href }), createRedisStorage({ url: url.href })];
    const ref = { purpose: 'vapid', subject: 'keys' };
    try {
      await storages[0]?.takeRecord(ref);
      await raceOn(storages);
    } finally {
      await storages[0]?.takeRecord(ref);
      await Promise.all(storages.map((s) => s.close()));
    }
  });
});
