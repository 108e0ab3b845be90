import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  at: number;
}

type Responder = (request: RecordedRequest) => { status: number; body: unknown } | undefined;

/**
 * Meta's Graph API, faked by a real HTTP server on loopback: it records every request
 * and answers like the Cloud API (a wamid per accepted message) unless a test scripts
 * another answer, such as a Graph error code.
 */
export class FakeGraphApi {
  readonly requests: RecordedRequest[] = [];
  private responders: Responder[] = [];
  private hangs: ((request: RecordedRequest) => boolean)[] = [];
  private delays: { predicate: (request: RecordedRequest) => boolean; ms: number }[] = [];
  /** Requests left unanswered by `hangWhen`, oldest first. */
  readonly hung: RecordedRequest[] = [];
  private server: http.Server | null = null;
  private counter = 0;
  url = '';

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        } catch {
          body = { unparsable: true };
        }
        const recorded: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, at: Date.now() };
        this.requests.push(recorded);
        // Meta accepting the connection and the request, and never answering.
        if (this.hangs.some((hang) => hang(recorded))) return void this.hung.push(recorded);
        const scripted = this.responders.map((r) => r(recorded)).find((r) => r !== undefined);
        const answer = scripted ?? this.defaultAnswer(recorded);
        const respond = () => {
          if (res.destroyed) return;
          res.writeHead(answer.status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(answer.body));
        };
        const delay = this.delays.find((d) => d.predicate(recorded));
        if (delay) setTimeout(respond, delay.ms);
        else respond();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Adds a scripted answer; return undefined from it to fall through. */
  respondWith(responder: Responder): void {
    this.responders.push(responder);
  }

  /**
   * Requests for which `predicate` returns true are recorded and then never answered: the
   * connection stays open, with no status line, until the client gives up or `stop`.
   */
  hangWhen(predicate: (request: RecordedRequest) => boolean): void {
    this.hangs.push(predicate);
  }

  /** Requests for which `predicate` returns true are answered as usual, `ms` late (a slow Meta). */
  delayWhen(predicate: (request: RecordedRequest) => boolean, ms: number): void {
    this.delays.push({ predicate, ms });
  }

  /** The first `count` message requests hang; later ones are answered as usual. */
  hangFirstMessages(count: number): void {
    let left = count;
    this.hangWhen((request) => request.method === 'POST' && request.path.endsWith('/messages') && left-- > 0);
  }

  reset(): void {
    this.requests.length = 0;
    this.hung.length = 0;
    this.responders = [];
    this.hangs = [];
    this.delays = [];
  }

  messageRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/messages'));
  }

  async waitForMessages(count: number, timeoutMs = 15_000): Promise<RecordedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messageRequests().length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} message requests, got ${this.messageRequests().length}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.messageRequests();
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }

  private defaultAnswer(request: RecordedRequest): { status: number; body: unknown } {
    if (request.path.endsWith('/messages')) {
      const to = (request.body.to as string | undefined) ?? (request.body.recipient as string | undefined) ?? '';
      return {
        status: 200,
        body: {
          messaging_product: 'whatsapp',
          contacts: [{ input: to, wa_id: to.replace(/^\+/, '') }],
          messages: [{ id: `wamid.FAKE${++this.counter}` }],
        },
      };
    }
    if (request.path.endsWith('/conversational_automation')) return { status: 200, body: { success: true } };
    return { status: 404, body: { error: { message: 'Unknown path', code: 100 } } };
  }
}

/** A Graph error body as Meta sends it. */
export function graphError(code: number, message = 'error', details = ''): { status: number; body: unknown } {
  return {
    status: 400,
    body: {
      error: {
        message: `(#${code}) ${message}`,
        type: 'OAuthException',
        code,
        error_data: { messaging_product: 'whatsapp', details },
        fbtrace_id: 'AbC',
      },
    },
  };
}
