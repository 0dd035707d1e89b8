/**
 * REDIS_WAIT_REPLICAS: `WAIT <n> <timeout>` after a compare-and-set, on the connection that wrote
 * it (docs/reliability.md). A save acknowledged by fewer than n replicas may be lost by a failover,
 * so it is not acknowledged: a StorageUnavailableError (503) that says the change may be applied,
 * which a retry with the same Idempotency-Key settles.
 */
import { StorageUnavailableError } from '../errors.js';
import type { ScriptedCommand } from './script-runner.js';

export interface ReplicaPolicy {
  /** Replicas that must acknowledge a save; 0: no WAIT. */
  replicas: number;
  /** WAIT's timeout in ms. */
  timeoutMs: number;
}

/** Checks the policy's numbers (a driver option). */
export function assertReplicaPolicy(policy: ReplicaPolicy): void {
  if (!Number.isSafeInteger(policy.replicas) || policy.replicas < 0) throw new RangeError('waitReplicas must be a non-negative integer');
  if (!Number.isSafeInteger(policy.timeoutMs) || policy.timeoutMs < 1) throw new RangeError('waitTimeoutMs must be a positive integer');
}

/** The WAIT for a write on `key`'s node, sent again behind a re-sent EVAL (script-runner.ts). */
export function waitCommand(policy: ReplicaPolicy, key: string): ScriptedCommand {
  return { args: ['WAIT', String(policy.replicas), String(policy.timeoutMs)], keys: [key], afterScripts: true };
}

/**
 * Throws when one of `acks` (WAIT replies, in the order of `petIds`) is short of the policy.
 * `where` names the driver in the message.
 */
export function assertReplicated(policy: ReplicaPolicy, where: string, petIds: readonly string[], acks: readonly unknown[]): void {
  const short = acks.findIndex((acked) => !(Number(acked) >= policy.replicas));
  if (short < 0) return;
  const acked = acks[short];
  const got = acked instanceof Error ? `WAIT failed (${acked.message.slice(0, 100)})` : `${Number(acked)} acknowledged`;
  const what =
    petIds.length === 1
      ? `save of ${petIds[0]} may be applied but is`
      : `saves of ${petIds.length} pet(s) may be applied but ${petIds[short]} is`;
  throw new StorageUnavailableError(`${where}: ${what} not on ${policy.replicas} replica(s) within ${policy.timeoutMs} ms: ${got}`);
}
