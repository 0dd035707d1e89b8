/**
 * What a request brings for the guards (access, rate limits, idempotency), read from its headers: the Bearer secret,
 * the client's address (the socket's, or the first X-Forwarded-For hop behind a trusted proxy),
 * the Idempotency-Key and a fingerprint of what the request asks (method, path and the validated
 * input, canonical JSON) that a repeat must match.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { InvalidInputError } from '../errors.js';
import type { AppEnv } from './env.js';

/** 1–255 visible ASCII characters, bare (as Stripe) or as a structured-field string (as the IETF draft). */
export const IDEMPOTENCY_KEY_PATTERN = /^(?:[\x21-\x7e]{1,255}|"[\x21\x23-\x5b\x5d-\x7e]{1,255}")$/;
export const IDEMPOTENCY_KEY_MESSAGE = 'Idempotency-Key must be 1–255 visible ASCII characters (no spaces)';

/** The secret of `Authorization: Bearer <secret>`; null when absent or another scheme. */
export function bearerOf(c: Context<AppEnv>): string | null {
  const header = c.req.header('authorization');
  if (header === undefined) return null;
  const match = /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
  return match?.[1] ?? null;
}

/** The Idempotency-Key (quotes of the draft's form removed); null when absent; 400 when malformed. */
export function idempotencyKeyOf(c: Context<AppEnv>): string | null {
  const raw = c.req.header('idempotency-key');
  if (raw === undefined) return null;
  const key = idempotencyKeyFrom(raw);
  if (key === null) throw new InvalidInputError('invalid_idempotency_key', IDEMPOTENCY_KEY_MESSAGE);
  return key;
}

/** Longer than any spelling of an address with brackets and a port: refused unparsed. */
const MAX_ADDRESS_TEXT = 64;

/**
 * An IP address in one spelling (IPv4-mapped IPv6 as IPv4, lowercase, no port, brackets or IPv6
 * zone id such as `%eth0`, which names the receiver's interface, not the client); null if none.
 */
export function normalizeAddress(raw: string): string | null {
  if (raw.length > MAX_ADDRESS_TEXT) return null;
  let address = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed?.[1] !== undefined) address = bracketed[1];
  else if (/^[\d.]+:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(':'));
  const zone = address.indexOf('%');
  if (zone >= 0) address = address.slice(0, zone);
  address = address.toLowerCase();
  if (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) address = address.slice(7);
  return isIP(address) === 0 ? null : address;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, an IPv4 tail as two groups). */
function ipv6Groups(address: string): number[] {
  const [head = '', tail] = address.split('::');
  const partsOf = (text: string): number[] =>
    text === ''
      ? []
      : text.split(':').flatMap((part) => {
          if (!part.includes('.')) return [Number.parseInt(part, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = part.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const left = partsOf(head);
  const right = tail === undefined ? [] : partsOf(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * The rate-limit bucket of a normalized address: an IPv4 address as it is, an IPv6 address by its
 * /64 prefix (`2001:db8:1:2::/64`), since one host or home usually holds a whole /64 and could
 * otherwise take a new bucket with every request.
 */
export function clientBucketOf(address: string): string {
  if (isIP(address) !== 6) return address;
  const prefix = ipv6Groups(address)
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':');
  return `${prefix}::/64`;
}

/**
 * The client's rate-limit bucket (clientBucketOf its address): with `trustProxy`, of the first
 * X-Forwarded-For hop (when it is an IP address); else, or failing that, of the socket's. Null when
 * neither is known (app.request() in tests, runtimes without a socket).
 */
export function clientAddressOf(c: Context<AppEnv>, trustProxy: boolean): string | null {
  if (trustProxy) {
    const first = c.req.header('x-forwarded-for')?.split(',')[0];
    const forwarded = first === undefined ? null : normalizeAddress(first);
    if (forwarded !== null) return clientBucketOf(forwarded);
  }
  let remote: string | undefined;
  try {
    remote = getConnInfo(c).remote.address;
  } catch {
    remote = undefined; // no Node socket behind this request
  }
  const address = remote === undefined ? null : normalizeAddress(remote);
  return address === null ? null : clientBucketOf(address);
}

/** JSON with object keys sorted, so that equal values give equal text. Input is already validated (shallow). */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * SHA-256 (hex) of method, path and the validated input the request acts on (body fields and
 * query parameters that change what is done; not `lang`, which only changes the wording).
 */
export function fingerprintOf(c: Context<AppEnv>, input: unknown): string {
  return fingerprintFor(c.req.method, c.req.path, input);
}

/**
 * The fingerprint of `input` sent as `method path`: a batch operation (docs/design.md §11) is fingerprinted
 * as its single route, so that one key means one change whichever way it is sent.
 */
export function fingerprintFor(method: string, path: string, input: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonicalJson(input)}`)
    .digest('hex');
}

/** An Idempotency-Key's value as used (the draft's quotes removed); null unless it is a valid key. */
export function idempotencyKeyFrom(raw: string): string | null {
  if (!IDEMPOTENCY_KEY_PATTERN.test(raw)) return null;
  const quoted = raw.length > 2 && raw.startsWith('"') && raw.endsWith('"');
  return quoted ? raw.slice(1, -1) : raw;
}
