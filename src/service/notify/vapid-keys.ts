/**
 * VAPID keys (RFC 8292, docs/design.md §13): the P-256 pair this deployment signs every Web Push
 * with. Browsers bind a subscription to the public key it was made with, so every instance must
 * sign with the same pair, and the pair must outlive restarts: taken from the environment when
 * set, otherwise generated once and kept in storage as the record `life_~vapid:keys`. The record
 * is written create-only (expected version 0): instances racing on a fresh store each generate a
 * pair, exactly one write wins, and the losers read the winner's pair back.
 */
import { createECDH } from 'node:crypto';
import { ConfigError, CorruptStateError } from '../../errors.js';
import type { RecordRef, StorageDriver } from '../../storage/types.js';

export interface VapidKeys {
  /** Uncompressed P-256 point (65 bytes), base64url: what the page passes as applicationServerKey. */
  publicKey: string;
  /** The private scalar (32 bytes), base64url. */
  privateKey: string;
  /** The contact the push services see in the JWT's `sub`: a `mailto:` or `https:` URL. */
  subject: string;
}

/** Used when VAPID_SUBJECT is unset; push services accept it, operators should set their own. */
export const DEFAULT_VAPID_SUBJECT = 'mailto:pet-life@example.com';

const RECORD: RecordRef = { purpose: 'vapid', subject: 'keys' };

interface StoredPair {
  public_key: string;
  private_key: string;
  created_at: string;
}

function decode(text: string): Buffer | null {
  return /^[A-Za-z0-9_-]+$/.test(text) ? Buffer.from(text, 'base64url') : null;
}

/** The public key of a private scalar, or null when the text is not a valid P-256 private key. */
function publicKeyOf(privateKey: string): string | null {
  const raw = decode(privateKey);
  if (raw === null || raw.length !== 32) return null;
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(raw);
    return ecdh.getPublicKey().toString('base64url');
  } catch {
    return null;
  }
}

function checkSubject(subject: string): string {
  let url: URL;
  try {
    url = new URL(subject);
  } catch {
    throw new ConfigError([`VAPID_SUBJECT must be a mailto: or https: URL, got ${JSON.stringify(subject)}`]);
  }
  if (url.protocol !== 'mailto:' && url.protocol !== 'https:') {
    throw new ConfigError([`VAPID_SUBJECT must be a mailto: or https: URL, got ${JSON.stringify(subject)}`]);
  }
  return subject;
}

function padded32(key: Buffer): Buffer {
  return key.length >= 32 ? key : Buffer.concat([Buffer.alloc(32 - key.length), key]);
}

function generatePair(): StoredPair {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    public_key: ecdh.getPublicKey().toString('base64url'),
    // getPrivateKey drops leading zero bytes (1 pair in 256): a VAPID private key is always 32.
    private_key: padded32(ecdh.getPrivateKey()).toString('base64url'),
    created_at: new Date().toISOString(),
  };
}

function readStored(value: string): StoredPair {
  try {
    const pair = JSON.parse(value) as Partial<StoredPair>;
    if (typeof pair.public_key === 'string' && typeof pair.private_key === 'string' && publicKeyOf(pair.private_key) === pair.public_key) {
      return pair as StoredPair;
    }
  } catch {
    // reported below
  }
  throw new CorruptStateError('the stored VAPID key pair (life_~vapid:keys) cannot be read');
}

/**
 * The deployment's VAPID keys: `fromEnv` when it carries both keys (checked to be one P-256 pair),
 * else the pair kept in storage, generated and stored create-only on first use. One key without
 * the other, a key that is not P-256, or a pair that does not match is a ConfigError.
 */
export async function loadVapidKeys(storage: StorageDriver, fromEnv: Partial<VapidKeys> = {}): Promise<VapidKeys> {
  const subject = checkSubject(fromEnv.subject ?? DEFAULT_VAPID_SUBJECT);
  const { publicKey, privateKey } = fromEnv;
  if (publicKey !== undefined || privateKey !== undefined) {
    if (publicKey === undefined || privateKey === undefined) {
      throw new ConfigError(['set both VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY, or neither (then a pair is generated and kept in storage)']);
    }
    const derived = publicKeyOf(privateKey);
    if (derived === null) throw new ConfigError(['VAPID_PRIVATE_KEY is not a base64url P-256 private key (32 bytes)']);
    if (derived !== publicKey) throw new ConfigError(['VAPID_PUBLIC_KEY is not the public key of VAPID_PRIVATE_KEY']);
    return { publicKey, privateKey, subject };
  }
  const [stored] = await storage.loadRecords([RECORD]);
  if (stored) {
    const pair = readStored(stored.value);
    return { publicKey: pair.public_key, privateKey: pair.private_key, subject };
  }
  const fresh = generatePair();
  const saved = await storage.saveRecord(RECORD, { expectedVersion: 0, value: JSON.stringify(fresh) });
  if (saved.ok) return { publicKey: fresh.public_key, privateKey: fresh.private_key, subject };
  // Another instance stored its pair first: everyone signs with that one.
  const [winner] = await storage.loadRecords([RECORD]);
  if (!winner) throw new CorruptStateError('the VAPID key pair was stored by another instance but cannot be read back');
  const pair = readStored(winner.value);
  return { publicKey: pair.public_key, privateKey: pair.private_key, subject };
}
