/**
 * REDIS_CLUSTER_NODES parsed (pure: the backend choice checks it without loading the cluster
 * driver). `host:port` entries or `redis://` / `rediss://` URLs; the credentials and
 * TLS of the first URL apply to every node, the ones the client discovers included.
 */

import { redactRedisUrl } from './redis-transport.js';

/** What REDIS_CLUSTER_NODES says: the seed nodes and the credentials/TLS every node uses. */
export interface ClusterNodes {
  /** `redis://host:port` (or `rediss://…`, credentials included) per node given. */
  urls: string[];
  /** Credentials and TLS (from the first URL that has them). */
  username?: string;
  password?: string;
  tls: boolean;
  /** Redacted, for logs: `127.0.0.1:7101,127.0.0.1:7102` or `rediss://***@h:p,…`. */
  target: string;
}

/** Parses REDIS_CLUSTER_NODES (TypeError naming the bad entry). */
export function parseClusterNodes(nodes: string | readonly string[]): ClusterNodes {
  const entries = (typeof nodes === 'string' ? nodes.split(',') : [...nodes]).map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 0) throw new TypeError('REDIS_CLUSTER_NODES needs at least one host:port');
  let username: string | undefined;
  let password: string | undefined;
  let tls: boolean | undefined;
  const urls = entries.map((entry) => {
    const isUrl = /^rediss?:\/\//i.test(entry);
    let parsed: URL;
    try {
      parsed = new URL(isUrl ? entry : `redis://${entry}`);
    } catch {
      throw new TypeError(`REDIS_CLUSTER_NODES: ${JSON.stringify(redactRedisUrl(entry))} is not host:port or a redis:// URL`);
    }
    if (!parsed.hostname || !/^\d+$/.test(parsed.port) || (parsed.pathname !== '' && parsed.pathname !== '/')) {
      throw new TypeError(`REDIS_CLUSTER_NODES: ${JSON.stringify(redactRedisUrl(entry))} must be host:port (a cluster has no databases)`);
    }
    if (isUrl) {
      tls ??= parsed.protocol === 'rediss:';
      if (parsed.password && password === undefined) {
        password = decodeURIComponent(parsed.password);
        if (parsed.username) username = decodeURIComponent(parsed.username);
      }
    }
    return parsed;
  });
  const secure = tls ?? false;
  return {
    urls: urls.map((url) => {
      const copy = new URL(url.toString());
      copy.protocol = secure ? 'rediss:' : 'redis:';
      if (password !== undefined && !copy.password) {
        copy.password = encodeURIComponent(password);
        if (username !== undefined) copy.username = encodeURIComponent(username);
      }
      return copy.toString().replace(/\/$/, '');
    }),
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    tls: secure,
    target: entries.map((entry) => (/^rediss?:\/\//i.test(entry) ? redactRedisUrl(entry) : entry)).join(','),
  };
}
