/**
 * A local Standard Webhooks receiver for tests (docs/design.md §13): verifies every delivery's
 * signature with the `standardwebhooks` package and the endpoint's secret, and counts each
 * `webhook-id` it accepted. It can be "down" (answers 503 without counting) for a while.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedDelivery {
  id: string;
  type: string;
  deviceId: string;
  eventId: string;
  at: number;
}

export interface WebhookReceiver {
  readonly url: string;
  /** The endpoint's secret, once registered (deliveries before that are refused as unsigned). */
  secret: string | null;
  /** Accepted deliveries, in order (a repeated id appears again). */
  readonly accepted: ReceivedDelivery[];
  /** Deliveries whose signature did not verify (must stay 0). */
  badSignatures: number;
  /** Attempts answered 503 while down. */
  refused: number;
  down: boolean;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const receiver: Omit<WebhookReceiver, 'url' | 'close'> = { secret: null, accepted: [], badSignatures: 0, refused: 0, down: false };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (receiver.down) {
        receiver.refused += 1;
        response.writeHead(503).end();
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
      try {
        if (receiver.secret === null) throw new Error('no secret yet');
        const payload = new Webhook(receiver.secret).verify(body, headers) as {
          type: string;
          data: { device_id: string; event?: { id: string } };
        };
        receiver.accepted.push({
          id: headers['webhook-id'] as string,
          type: payload.type,
          deviceId: payload.data.device_id,
          eventId: payload.data.event?.id ?? '',
          at: Date.now(),
        });
        response.writeHead(204).end();
      } catch {
        receiver.badSignatures += 1;
        response.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/hook`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
