/**
 * A subscriber of outbound events (SPEC §9) on loopback: records every delivery as it
 * arrived (raw body, headers, time) and answers what the test scripts per path.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyEventSignature } from '../../src/outbound/signature';

export interface ReceivedDelivery {
  path: string;
  at: number;
  rawBody: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary event data
  event: { id: string; type: string; occurredAt: string; data: any };
  headers: { eventId?: string; timestamp?: string; signature?: string };
  answeredWith: number;
}

/** What the receiver answers a delivery: a status, chosen from what it has seen so far. */
export type Responder = (delivery: Omit<ReceivedDelivery, 'answeredWith'>, earlierOfSameEvent: number) => number | Promise<number>;

export class EventReceiver {
  readonly deliveries: ReceivedDelivery[] = [];
  private readonly responders = new Map<string, Responder>();
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req).then((status) => res.writeHead(status).end());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Deliveries to `path` get the responder's status (default 200). */
  respond(path: string, responder: Responder): void {
    this.responders.set(path, responder);
  }

  at(path: string): ReceivedDelivery[] {
    return this.deliveries.filter((d) => d.path === path);
  }

  /** Whether the delivery carries a valid, fresh signature made with `secret`. */
  static verifies(delivery: ReceivedDelivery, secret: string): boolean {
    return verifyEventSignature({ secret, body: delivery.rawBody, timestamp: delivery.headers.timestamp, signature: delivery.headers.signature });
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage): Promise<number> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const path = req.url ?? '/';
    const delivery = {
      path,
      at: Date.now(),
      rawBody,
      event: JSON.parse(rawBody) as ReceivedDelivery['event'],
      headers: {
        eventId: req.headers['x-autopilot-event-id'] as string | undefined,
        timestamp: req.headers['x-autopilot-timestamp'] as string | undefined,
        signature: req.headers['x-autopilot-signature'] as string | undefined,
      },
    };
    const earlier = this.deliveries.filter((d) => d.path === path && d.event.id === delivery.event.id).length;
    // Recorded on arrival (a responder may take its time, e.g. a subscriber that hangs).
    const entry: ReceivedDelivery = { ...delivery, answeredWith: 0 };
    this.deliveries.push(entry);
    entry.answeredWith = await (this.responders.get(path) ?? (() => 200))(delivery, earlier);
    return entry.answeredWith;
  }
}
