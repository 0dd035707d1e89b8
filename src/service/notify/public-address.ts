/**
 * The address rule for URLs a client gives us to call (webhook URLs, push endpoints; docs/design.md
 * §13): https only, and every address the host resolves to must be public — not loopback,
 * private, link-local (cloud metadata), shared, multicast or reserved — unless the operator
 * allows private targets (WEBHOOK_ALLOW_PRIVATE, for self-hosting and tests, which also allows
 * http). Checked when the URL is registered and again before each delivery (its DNS may change).
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { InvalidInputError } from '../../errors.js';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** True for an address a request from the server must not reach (an IPv4-mapped IPv6 address is judged as IPv4). */
export function isNonPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return blocked.check(mapped[1] as string, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export interface AddressRule {
  /** WEBHOOK_ALLOW_PRIVATE: any address, and http too. */
  allowPrivate: boolean;
  /** Resolves a host to its addresses (tests inject one). @default dns.lookup, every address */
  resolve?: (host: string) => Promise<string[]>;
}

const MAX_URL_LENGTH = 2048;

const resolveAll = async (host: string): Promise<string[]> => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * The URL when it may be called; InvalidInputError('invalid_body') naming `what` otherwise (also
 * when the host does not resolve).
 */
export async function assertCallableUrl(raw: string, what: string, rule: AddressRule): Promise<URL> {
  let url: URL;
  try {
    if (raw.length > MAX_URL_LENGTH) throw new Error('too long');
    url = new URL(raw);
  } catch {
    throw new InvalidInputError('invalid_body', `${what} must be an absolute URL of at most ${MAX_URL_LENGTH} characters`);
  }
  const httpAllowed = rule.allowPrivate && url.protocol === 'http:';
  if (url.protocol !== 'https:' && !httpAllowed) throw new InvalidInputError('invalid_body', `${what} must be an https: URL`);
  if (url.username !== '' || url.password !== '') throw new InvalidInputError('invalid_body', `${what} must not carry credentials`);
  if (rule.allowPrivate) return url;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) === 0 ? await (rule.resolve ?? resolveAll)(host) : [host];
  } catch {
    throw new InvalidInputError('invalid_body', `${what}: the host ${host} does not resolve`);
  }
  if (addresses.length === 0 || addresses.some(isNonPublicAddress)) {
    throw new InvalidInputError(
      'invalid_body',
      `${what} must resolve to public addresses only (not loopback, private, link-local or metadata)`,
    );
  }
  return url;
}
