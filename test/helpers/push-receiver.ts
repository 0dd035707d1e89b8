/**
 * A local Web Push endpoint for tests (docs/design.md §13): what a browser's push service does
 * with a push, checked as strictly as the RFCs say. A test makes a subscription (fresh P-256 key
 * pair and auth secret, as a browser does) and gets its endpoint on 127.0.0.1; each POST there
 * must carry `Content-Encoding: aes128gcm`, a TTL, and `Authorization: vapid t=<JWT>, k=<key>`
 * whose JWT is ES256-signed by that key with `aud` = the endpoint's origin and `exp` within 24 h
 * (RFC 8292); the body is decrypted with the subscription's private key and auth secret
 * (RFC 8188/8291). Accepted pushes are recorded; a failed check answers 400/401/403 and is
 * recorded as rejected with its reason. `answerWith` makes it answer 410, 500, … instead.
 */
import { createECDH, createDecipheriv, createPublicKey, hkdfSync, randomBytes, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestSubscription {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface ReceivedPush {
  subscriptionId: string;
  /** The decrypted payload. */
  text: string;
  ttl: number;
  urgency: string | null;
  /** The VAPID key that signed it (base64url) and the JWT's claims. */
  vapidKey: string;
  claims: { aud: string; exp: number; sub: string };
}

export interface RejectedPush {
  subscriptionId: string;
  status: number;
  reason: string;
}

export interface PushReceiver {
  readonly origin: string;
  subscribe(): TestSubscription;
  readonly received: ReceivedPush[];
  readonly rejected: RejectedPush[];
  /** Answer every push (or one subscription's) with this status instead of taking it; null: take them again. */
  answerWith(status: number | null, subscriptionId?: string): void;
  /** Hold every answer this long (to test the sender's timeout). */
  delayAnswers(ms: number): void;
  close(): Promise<void>;
}

interface Keys {
  ecdh: ReturnType<typeof createECDH>;
  publicKey: Buffer;
  auth: Buffer;
}

class Refusal extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const MAX_BODY = 8192;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Checks the VAPID header (RFC 8292 §2-3); returns the key and the claims. */
function checkVapid(header: string | undefined, origin: string, nowS: number): { vapidKey: string; claims: ReceivedPush['claims'] } {
  const match = /^vapid\s+t=([A-Za-z0-9_.-]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  if (!match) throw new Refusal(401, `Authorization is not "vapid t=…, k=…": ${JSON.stringify(header ?? null)}`);
  const [, token, key] = match as unknown as [string, string, string];
  const parts = token.split('.');
  if (parts.length !== 3) throw new Refusal(401, 'the VAPID token is not a JWT');
  const [head, body, signature] = parts as [string, string, string];
  const point = Buffer.from(key, 'base64url');
  if (point.length !== 65 || point[0] !== 4) throw new Refusal(401, 'k is not an uncompressed P-256 point');
  const jwk = { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') };
  const header_ = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as { alg?: string };
  if (header_.alg !== 'ES256') throw new Refusal(401, `the JWT's alg is ${String(header_.alg)}, not ES256`);
  const signed = verify(
    'sha256',
    Buffer.from(`${head}.${body}`),
    { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  );
  if (!signed) throw new Refusal(403, 'the JWT signature does not verify with k');
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<ReceivedPush['claims']>;
  if (claims.aud !== origin) throw new Refusal(403, `aud ${JSON.stringify(claims.aud)} is not the endpoint's origin ${origin}`);
  if (typeof claims.exp !== 'number' || claims.exp <= nowS || claims.exp > nowS + 24 * 3600) {
    throw new Refusal(403, `exp ${String(claims.exp)} is not within the next 24 h`);
  }
  if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub))
    throw new Refusal(403, 'sub is not a mailto: or https: contact');
  return { vapidKey: key, claims: claims as ReceivedPush['claims'] };
}

/** Decrypts an aes128gcm body (RFC 8188 framing, RFC 8291 keys) with the subscription's keys. */
function decryptAes128gcm(body: Buffer, keys: Keys): string {
  if (body.length < 21) throw new Refusal(400, 'the body is shorter than the aes128gcm header');
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const idLength = body[20] as number;
  const senderKey = body.subarray(21, 21 + idLength);
  const ciphertext = body.subarray(21 + idLength);
  if (idLength !== 65) throw new Refusal(400, `keyid is ${idLength} bytes, not the sender's 65-byte public key`);
  if (ciphertext.length > recordSize || ciphertext.length < 17) throw new Refusal(400, 'the push is not one aes128gcm record');
  const shared = keys.ecdh.computeSecret(senderKey);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), keys.publicKey, senderKey]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, keys.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
  } catch {
    throw new Refusal(400, 'the body does not decrypt with the subscription keys');
  }
  // Padding: the data, then the last-record delimiter 0x02, then zeros.
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end -= 1;
  if (end < 0 || plain[end] !== 2) throw new Refusal(400, 'the record does not end with the last-record delimiter');
  return plain.subarray(0, end).toString('utf8');
}

export async function startPushReceiver(): Promise<PushReceiver> {
  const subscriptions = new Map<string, Keys>();
  const received: ReceivedPush[] = [];
  const rejected: RejectedPush[] = [];
  const answers = new Map<string, number>();
  let answerAll: number | null = null;
  let delayMs = 0;
  let origin = '';

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      const id = /^\/push\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '')?.[1] ?? '';
      const keys = subscriptions.get(id);
      const forced = answers.get(id) ?? answerAll;
      try {
        if (req.method !== 'POST') throw new Refusal(405, `${req.method} is not POST`);
        if (keys === undefined) throw new Refusal(404, `no subscription ${id}`);
        if (forced !== null) {
          res.writeHead(forced, { 'content-type': 'text/plain' }).end(`answering ${forced} as told`);
          return;
        }
        const { vapidKey, claims } = checkVapid(req.headers.authorization, origin, Math.floor(Date.now() / 1000));
        if (req.headers['content-encoding'] !== 'aes128gcm') throw new Refusal(400, 'Content-Encoding is not aes128gcm');
        const ttl = Number(req.headers['ttl']);
        if (!Number.isInteger(ttl) || ttl < 0) throw new Refusal(400, 'no valid TTL header');
        const text = decryptAes128gcm(body, keys);
        const urgency = typeof req.headers['urgency'] === 'string' ? req.headers['urgency'] : null;
        received.push({ subscriptionId: id, text, ttl, urgency, vapidKey, claims });
        res.writeHead(201, { location: `${origin}/message/${received.length}` }).end();
      } catch (error) {
        const status = error instanceof Refusal ? error.status : 400;
        rejected.push({ subscriptionId: id, status, reason: (error as Error).message });
        res.writeHead(status, { 'content-type': 'text/plain' }).end((error as Error).message);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    received,
    rejected,
    subscribe() {
      const ecdh = createECDH('prime256v1');
      const publicKey = ecdh.generateKeys();
      const auth = randomBytes(16);
      const id = randomBytes(9).toString('base64url');
      subscriptions.set(id, { ecdh, publicKey, auth });
      return { id, endpoint: `${origin}/push/${id}`, keys: { p256dh: publicKey.toString('base64url'), auth: auth.toString('base64url') } };
    },
    answerWith(status, subscriptionId) {
      if (subscriptionId === undefined) answerAll = status;
      else if (status === null) answers.delete(subscriptionId);
      else answers.set(subscriptionId, status);
    },
    delayAnswers(ms) {
      delayMs = ms;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
