/**
 * A TCP proxy in front of a Redis server that counts round trips at the socket (DESIGN §15):
 * a round trip is a burst of bytes the client wrote before the server answered anything, so
 * commands written together (a pipeline, a script call) count once, and commands sent one after
 * another's reply count once each — what MONITOR cannot tell apart. Loopback only.
 */
import net from 'node:net';

export interface CountingProxy {
  /** `redis://127.0.0.1:<port>` of the proxy. */
  url: string;
  /** Round trips since the last reset, over every connection. */
  roundTrips(): number;
  reset(): void;
  close(): Promise<void>;
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const { hostname, port } = new URL(target);
  let trips = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client).add(upstream);
    // A new trip starts with the first bytes the client writes after the server last answered.
    let awaitingReply = false;
    client.on('data', (chunk) => {
      if (!awaitingReply) trips += 1;
      awaitingReply = true;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      awaitingReply = false;
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  const db = new URL(target).pathname;
  return {
    url: `redis://127.0.0.1:${address.port}${db === '/' ? '' : db}`,
    roundTrips: () => trips,
    reset: () => {
      trips = 0;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
