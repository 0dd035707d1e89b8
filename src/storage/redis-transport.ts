/**
 * What the two Redis TCP transports (redis.ts, redis-cluster.ts) share and that loads no
 * @redis/client: the redacted form of a URL, and the deadline every operation runs under.
 */
import { StorageUnavailableError } from '../errors.js';

/** The URL with its password replaced by `***` (for logs and `target`). */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/**
 * Runs `operation` under a deadline of `timeoutMs`: past it, `onTimeout` runs (e.g. the connection
 * is given up) and the call fails with StorageUnavailableError(`<where>: <what> timed out …`). The
 * operation may still settle later; its outcome is then ignored.
 */
export async function withDeadline<T>(
  where: string,
  what: string,
  timeoutMs: number,
  onTimeout: () => void,
  operation: () => Promise<T>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new StorageUnavailableError(`${where}: ${what} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  const work = operation();
  work.catch(() => undefined); // may settle after the deadline
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
