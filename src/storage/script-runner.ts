/**
 * The one way the Redis body runs a Lua script: EVALSHA, and EVAL again for just the calls the
 * server answered NOSCRIPT (only the first time a server sees a script). A single call and a
 * pipeline take the same path; a command marked `afterScripts` (a WAIT) is sent again behind the
 * re-sent EVALs, so that it still follows the write it waits for.
 */
import type { PipelinedCommand } from './types.js';
import { scriptSha1 } from './scripts/index.js';

/** A script as the runner sends it: its text (EVAL) and its SHA-1 (EVALSHA). */
export interface LuaScript {
  text: string;
  sha1: string;
}

/** A pipelined command: a script call names its script; a WAIT is marked to follow the scripts. */
export interface ScriptedCommand extends PipelinedCommand {
  script?: LuaScript;
  /** Sent again after the EVALs when some script had to be re-sent (a WAIT after a write). */
  afterScripts?: boolean;
}

/** What the runner needs of a transport. */
export interface ScriptTransport {
  pipeline(commands: readonly PipelinedCommand[]): Promise<unknown[]>;
  evalsha(sha1: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  eval(script: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  isNoScript(error: unknown): boolean;
}

export interface ScriptRunner {
  /** One script call, one round trip (two on NOSCRIPT); a script error is thrown. */
  call(script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /** One pipeline (two on NOSCRIPT); each command's reply or Error in its place. */
  pipeline(sent: readonly ScriptedCommand[]): Promise<unknown[]>;
}

/** `text` with its EVALSHA handle. */
export function luaScript(text: string): LuaScript {
  return { text, sha1: scriptSha1(text) };
}

/** The pipelined EVALSHA of `script` on `keys` and `args`. */
export function scriptCommand(script: LuaScript, keys: readonly string[], args: readonly string[]): ScriptedCommand {
  return { args: ['EVALSHA', script.sha1, String(keys.length), ...keys, ...args], keys, script };
}

export function createScriptRunner(transport: ScriptTransport): ScriptRunner {
  const isNoScript = (reply: unknown) => reply instanceof Error && transport.isNoScript(reply);
  return {
    async call(script, keys, args) {
      try {
        return await transport.evalsha(script.sha1, keys, args);
      } catch (error) {
        if (!transport.isNoScript(error)) throw error;
        return transport.eval(script.text, keys, args);
      }
    },

    async pipeline(sent) {
      const replies = await transport.pipeline(sent);
      const missing = sent.flatMap((command, index) => (command.script !== undefined && isNoScript(replies[index]) ? [index] : []));
      if (missing.length === 0) return replies;
      const followers = sent.flatMap((command, index) => (command.afterScripts === true ? [index] : []));
      const again = [...missing, ...followers];
      const resent = await transport.pipeline(
        again.map((index) => {
          const command = sent[index] as ScriptedCommand;
          if (command.script === undefined) return command;
          return { args: ['EVAL', command.script.text, ...command.args.slice(2)], keys: command.keys };
        }),
      );
      again.forEach((index, position) => {
        replies[index] = resent[position];
      });
      return replies;
    },
  };
}
