/**
 * A reference bot for Inbox Autopilot's bot routing (SPEC §9, R8): it hears of customers
 * through outbound events and answers through the bot API, with nothing but Node.
 *
 *   conversation.routed (status bot)  → the menu: three reply buttons
 *   message.received   (status bot)   → the button's answer, "talk to a person" hands over,
 *                                       "that's all" completes; anything else: the menu again
 *
 * Deliveries are verified (HMAC of "<timestamp>.<body>", at most 5 minutes old) and
 * de-duplicated by event id, since delivery is at least once. The bot answers 200 once it
 * has acted; a failed action answers 500, so the service delivers the event again.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface MenuBotOptions {
  /** Where the service is, e.g. http://localhost:3000. */
  autopilotUrl: string;
  /** A bot API key (POST /api/api-keys {role: "bot"}), limited to the bot's numbers. */
  botKey: string;
  /** The secret of the subscription that points here. */
  secret: string;
  log?: (line: string) => void;
}

/** What the bot does on one event. */
export type BotAction = { kind: 'reply'; message: object } | { kind: 'handover' } | { kind: 'complete' };

interface AutopilotEvent {
  id: string;
  type: string;
  occurredAt: string;
  data: {
    conversationId?: string;
    status?: string;
    conversationStatus?: string;
    message?: { author?: string; content?: { kind?: string; id?: string; body?: string } };
  };
}

export const MENU_BUTTONS = [
  { id: 'order', title: 'Where is my order?' },
  { id: 'hours', title: 'Opening hours' },
  { id: 'human', title: 'Talk to a person' },
] as const;

const buttons = (body: string, choices: readonly { id: string; title: string }[]) => ({
  type: 'interactive',
  interactive: {
    type: 'button',
    body: { text: body },
    action: { buttons: choices.map((c) => ({ type: 'reply', reply: { id: c.id, title: c.title } })) },
  },
});

const text = (body: string) => ({ type: 'text', text: { body } });

const MENU = buttons('Hi! I am the Acme bot. What can I do for you?', MENU_BUTTONS);
const ANYTHING_ELSE = [
  { id: 'done', title: "That's all, thanks" },
  { id: 'human', title: 'Talk to a person' },
] as const;

/** The bot's whole behaviour, as a pure function of one event. */
export function decide(event: AutopilotEvent): BotAction[] {
  const { data } = event;
  if (event.type === 'conversation.routed' && data.status === 'bot') return [{ kind: 'reply', message: MENU }];
  if (event.type !== 'message.received' || data.conversationStatus !== 'bot') return [];
  const content = data.message?.content;
  switch (content?.kind === 'button_reply' ? content.id : null) {
    case 'order':
      return [{ kind: 'reply', message: buttons('Your order left our warehouse today and arrives in 2–3 days. Anything else?', ANYTHING_ELSE) }];
    case 'hours':
      return [{ kind: 'reply', message: buttons('We are open Monday to Friday, 9:00–18:00. Anything else?', ANYTHING_ELSE) }];
    case 'human':
      return [{ kind: 'reply', message: text('Connecting you with a person now.') }, { kind: 'handover' }];
    case 'done':
      return [{ kind: 'reply', message: text('Glad to help. Bye!') }, { kind: 'complete' }];
    default:
      return [{ kind: 'reply', message: MENU }];
  }
}

export function verifySignature(secret: string, body: string, timestamp: string | undefined, signature: string | undefined): boolean {
  if (!timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`);
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export function createMenuBot(options: MenuBotOptions): { server: Server; handle(req: IncomingMessage, res: ServerResponse): Promise<void> } {
  const log = options.log ?? (() => undefined);
  /** Event ids acted on (the newest 10,000): a repeated delivery is answered 200 and ignored. */
  const seen = new Set<string>();

  async function act(conversationId: string, action: BotAction): Promise<void> {
    const base = `${options.autopilotUrl}/api/conversations/${conversationId}/bot`;
    const [path, body] = action.kind === 'reply' ? ['messages', { message: action.message }] : [action.kind, {}];
    const response = await fetch(`${base}/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${options.botKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    // 409: the conversation is no longer the bot's (handed over, closed): nothing to do.
    if (!response.ok && response.status !== 409) throw new Error(`${action.kind} answered ${response.status}: ${await response.text()}`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const timestamp = req.headers['x-autopilot-timestamp'] as string | undefined;
    const signature = req.headers['x-autopilot-signature'] as string | undefined;
    if (req.method !== 'POST' || !verifySignature(options.secret, body, timestamp, signature)) {
      res.writeHead(401).end();
      return;
    }
    const event = JSON.parse(body) as AutopilotEvent;
    if (seen.has(event.id)) return void res.writeHead(200).end();
    const conversationId = event.data.conversationId;
    try {
      for (const action of conversationId ? decide(event) : []) await act(conversationId!, action);
      seen.add(event.id);
      if (seen.size > 10_000) seen.delete(seen.values().next().value!);
      log(`${event.type} ${event.id}: done`);
      res.writeHead(200).end();
    } catch (error) {
      log(`${event.type} ${event.id}: ${(error as Error).message}`);
      res.writeHead(500).end();
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  return { server, handle };
}
