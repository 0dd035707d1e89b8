/**
 * The single compare-and-set of the Redis body (redis-commands.ts): one CAS_SCRIPT call, or one
 * COUNTED_CAS_SCRIPT call with the request's rate-limit counters in it (docs/design.md §15), with
 * its WAIT in the same pipeline when REDIS_WAIT_REPLICAS asks for one (replicas.ts).
 */
import { assertReplicated, type ReplicaPolicy, waitCommand } from './replicas.js';
import { type ScriptRunner, luaScript, scriptCommand } from './script-runner.js';
import { CAS_SCRIPT, COUNTED_CAS_SCRIPT, parseCasReply, parseCountedCasReply } from './scripts/index.js';
import type { HitResult, SaveResult } from './types.js';

const CAS = luaScript(CAS_SCRIPT);
const COUNTED_CAS = luaScript(COUNTED_CAS_SCRIPT);

/** What a compare-and-set answered: the CAS reply (for its conflict's PTTL), its result (null: a limit refused it), the counts. */
export interface CasOutcome {
  reply: unknown;
  result: SaveResult | null;
  hits: HitResult[];
}

export interface CompareAndSetDeps {
  scripts: ScriptRunner;
  replicas: ReplicaPolicy;
  /** Runs an operation mapping its failures to the storage's errors (the body's `run`). */
  run: <T>(what: string, operation: () => Promise<T>, petId?: string) => Promise<T>;
  /** `label target`, as errors name the storage. */
  name: string;
}

/** The compare-and-set on `keys` and `args`; `counted`: how many counters COUNTED_CAS_SCRIPT counts first (undefined: plain CAS). */
export function createCompareAndSet(deps: CompareAndSetDeps) {
  const { scripts, replicas, run, name } = deps;
  const outcome = (reply: unknown, petId: string, counted: number | undefined): CasOutcome => {
    if (counted === undefined) return { reply, result: parseCasReply(reply, petId), hits: [] };
    const { casReply, result, hits } = parseCountedCasReply(reply, petId, counted);
    return { reply: casReply, result, hits };
  };
  return (petId: string, keys: string[], args: string[], counted: number | undefined): Promise<CasOutcome> => {
    const script = counted === undefined ? CAS : COUNTED_CAS;
    if (replicas.replicas === 0) return run('save', async () => outcome(await scripts.call(script, keys, args), petId, counted), petId);
    // With its WAIT in one pipeline on one connection: still one round trip.
    return run(
      'save',
      async () => {
        const [reply, acked] = await scripts.pipeline([scriptCommand(script, keys, args), waitCommand(replicas, keys[0] as string)]);
        if (reply instanceof Error) throw reply;
        const parsed = outcome(reply, petId, counted);
        if (parsed.result?.ok === true) assertReplicated(replicas, name, [petId], [acked]);
        return parsed;
      },
      petId,
    );
  };
}
