/**
 * The throwaway redis-server that `npm test` (scripts/test.sh) starts on a free loopback port.
 * In CI a missing server is a failure, never a silent skip; locally the Redis-backed suites
 * are skipped with a message when TEST_REDIS_URL is unset.
 */
import { describe } from 'vitest';

export const testRedisUrl: string | undefined = process.env['TEST_REDIS_URL'];

if (!testRedisUrl && process.env['CI'] === 'true') {
  throw new Error('TEST_REDIS_URL is not set: run the suite through `npm test`, which starts redis-server');
}

/** `describe` when a test Redis is available, `describe.skip` (with a note) otherwise. */
export const describeWithRedis: typeof describe = testRedisUrl
  ? describe
  : (((name: string, ...rest: unknown[]) => {
      console.warn(`skipping "${name}": TEST_REDIS_URL is not set (run npm test)`);
      return (describe.skip as (...args: unknown[]) => unknown)(name, ...rest);
    }) as unknown as typeof describe);

/** A key prefix / pet id prefix unique to this test file run, so files can share one Redis. */
export function uniqueId(label: string): string {
  return `${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
