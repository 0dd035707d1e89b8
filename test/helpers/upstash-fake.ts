/**
 * A local stand-in for Upstash's REST API (node:http on 127.0.0.1, port 0), backed by a real
 * Redis through node-redis `sendCommand`, so EVAL, MGET, pipelines and transactions behave as on
 * the server and @upstash/redis's own HTTP path is exercised. What it speaks, matching what
 * @upstash/redis 1.39 sends (pkg/http.ts):
 *   POST /            body ["CMD", arg…]          → {"result": …} | 400 {"error": "…"}
 *   POST /pipeline    body [["CMD", …], …]        → [{"result"}|{"error"}, …]
 *   POST /multi-exec  body [["CMD", …], …]        → same, run in MULTI/EXEC
 *   Authorization: Bearer <token>                 → else 401 {"error": "Unauthorized"}
 *   Upstash-Encoding: base64                      → every string in a result base64-encoded,
 *                                                   except the status "OK" (the client keeps it)
 * Arguments may arrive as JSON numbers or booleans; they are sent to Redis as strings.
 */
import http from 'node:http';
import type net from 'node:net';
import { createClient } from '@redis/client';

export interface UpstashFake {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly token: string;
  /** HTTP requests served so far (each one is a round trip for the client). */
  requests(): number;
  /** Every command received, in order (for assertions on what the driver sends). */
  readonly log: string[][];
  close(): Promise<void>;
}

export interface UpstashFakeOptions {
  /** The Redis that executes the commands (e.g. TEST_REDIS_URL, optionally with `/<db>`). */
  redisUrl: string;
  /** @default 'test-token' */
  token?: string;
}

type Reply = { result: unknown } | { error: string };

export async function startUpstashFake(options: UpstashFakeOptions): Promise<UpstashFake> {
  const token = options.token ?? 'test-token';
  const redis = createClient({ url: options.redisUrl, RESP: 2, socket: { connectTimeout: 2000, reconnectStrategy: false } });
  redis.on('error', () => undefined);
  await redis.connect();
  let served = 0;
  const log: string[][] = [];

  const run = async (command: unknown): Promise<Reply> => {
    const args = toArgs(command);
    log.push(args);
    try {
      return { result: await redis.sendCommand(args) };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  };

  const transaction = async (commands: unknown[]): Promise<Reply[]> => {
    const multi = redis.multi();
    for (const command of commands) {
      const args = toArgs(command);
      log.push(args);
      multi.addCommand(args);
    }
    try {
      const replies = (await multi.exec()) as unknown[];
      return replies.map((result) => ({ result }));
    } catch (error) {
      const replies = (error as { replies?: unknown[] }).replies;
      if (!Array.isArray(replies)) return commands.map(() => ({ error: String(error) }));
      return replies.map((reply) => (reply instanceof Error ? { error: reply.message } : { result: reply }));
    }
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      served += 1;
      const send = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: 'Unauthorized' });
      if (req.method !== 'POST') return send(405, { error: 'Method not allowed' });
      let body: unknown;
      try {
        body = JSON.parse(await readBody(req));
      } catch {
        return send(400, { error: 'ERR failed to parse command' });
      }
      const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
      const encode = (reply: Reply): Reply => ('result' in reply && base64 ? { result: toBase64(reply.result) } : reply);
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/') {
        const reply = await run(body);
        return 'error' in reply ? send(400, reply) : send(200, encode(reply));
      }
      if (path === '/pipeline' || path === '/multi-exec') {
        if (!Array.isArray(body) || !body.every(Array.isArray)) return send(400, { error: 'ERR expected an array of commands' });
        const replies = path === '/pipeline' ? await sequential(body, run) : await transaction(body);
        return send(200, replies.map(encode));
      }
      return send(404, { error: 'Not found' });
    })().catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: String(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests: () => served,
    log,
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await redis.close().catch(() => redis.destroy());
    },
  };
}

async function sequential(commands: unknown[], run: (command: unknown) => Promise<Reply>): Promise<Reply[]> {
  const replies: Reply[] = [];
  for (const command of commands) replies.push(await run(command));
  return replies;
}

function toArgs(command: unknown): string[] {
  if (!Array.isArray(command) || command.length === 0) throw new TypeError('a command is a non-empty array');
  return command.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg)));
}

/** Upstash's base64 response encoding: strings encoded (bar "OK"), numbers and null as they are. */
function toBase64(value: unknown): unknown {
  if (typeof value === 'string') return value === 'OK' ? value : Buffer.from(value, 'utf8').toString('base64');
  if (Array.isArray(value)) return value.map(toBase64);
  return value;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
