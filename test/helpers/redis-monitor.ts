/**
 * What the Redis server itself saw (docs/design.md §11: round trips and commands counted by the server, not
 * by the driver): a MONITOR connection recording every command whose arguments mention a marker
 * (a pet id prefix unique to the test), so tests sharing one Redis do not see each other's.
 */
import { createClient } from '@redis/client';

export interface SeenCommand {
  /** The client's address as the server saw it (`127.0.0.1:port`). */
  client: string;
  /** Upper-case command name (MGET, EVALSHA, EVAL…). */
  name: string;
  /** The whole line as MONITOR printed it. */
  line: string;
}

export interface RedisMonitor {
  /** Commands clients sent so far that mention `marker` (in any argument); not those scripts ran. */
  seen(marker: string): SeenCommand[];
  /** How many of them per command name, e.g. { MGET: 100, EVALSHA: 100 }. */
  countByName(marker: string): Record<string, number>;
  /** Waits until the server has echoed everything sent so far (a PING from another client is seen last). */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedisMonitor(url: string): Promise<RedisMonitor> {
  const monitor = createClient({ url, RESP: 2 });
  const pinger = createClient({ url, RESP: 2 });
  monitor.on('error', () => undefined);
  pinger.on('error', () => undefined);
  await Promise.all([monitor.connect(), pinger.connect()]);
  const lines: string[] = [];
  let waiting: { token: string; resolve: () => void } | null = null;
  await monitor.monitor((line: string) => {
    lines.push(line);
    if (waiting !== null && line.includes(waiting.token)) waiting.resolve();
  });
  const parse = (line: string): SeenCommand | null => {
    const match = /^\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line);
    return match === null ? null : { client: match[1] as string, name: (match[2] as string).toUpperCase(), line };
  };
  // Commands a script runs are echoed too, as from client `lua`: only what clients sent counts.
  const seen = (marker: string): SeenCommand[] =>
    lines
      .filter((line) => line.includes(marker))
      .flatMap((line) => {
        const command = parse(line);
        return command === null || command.client === 'lua' ? [] : [command];
      });
  return {
    seen,
    countByName(marker) {
      const counts: Record<string, number> = {};
      for (const command of seen(marker)) counts[command.name] = (counts[command.name] ?? 0) + 1;
      return counts;
    },
    async settle() {
      const token = `settle-${process.pid}-${Math.random().toString(36).slice(2)}`;
      const echoed = new Promise<void>((resolve) => {
        waiting = { token, resolve };
      });
      await pinger.sendCommand(['ECHO', token]);
      await echoed;
      waiting = null;
    },
    async stop() {
      await Promise.all([monitor.close().catch(() => monitor.destroy()), pinger.close().catch(() => pinger.destroy())]);
    },
  };
}
