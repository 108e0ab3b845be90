/**
 * Customer simulator: posts a correctly signed WhatsApp webhook to a running service and
 * prints what the service answered, so a conversation can be played end to end.
 *
 *   npm run simulate -- "Hello"                       a text from the default customer
 *   npm run simulate -- --from 15550009999 "Hi"       another customer (wa_id)
 *   npm run simulate -- --from US.123 --bsuid "Hi"    a customer known only by BSUID
 *   npm run simulate -- --welcome                     a request_welcome event
 *   npm run simulate -- --rate 5 --conversation <id>  answer a satisfaction survey
 *   npm run simulate -- --button order                tap the reply button whose id is "order"
 *   npm run simulate -- --fixture image               post test/fixtures/webhooks/image.json
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadEnv } from './config';
import { resolveSecrets } from './secrets';
import { signWebhookBody } from './whatsapp/signature';
import { csatRowId } from '../workflows/rules/conversation-machine';

const DEFAULT_PHONE_NUMBER_ID = '106540352242922';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      from: { type: 'string', default: '15550001234' },
      name: { type: 'string', default: 'Ana Customer' },
      bsuid: { type: 'boolean', default: false },
      'phone-number-id': { type: 'string', default: DEFAULT_PHONE_NUMBER_ID },
      url: { type: 'string' },
      welcome: { type: 'boolean', default: false },
      rate: { type: 'string' },
      button: { type: 'string' },
      conversation: { type: 'string' },
      fixture: { type: 'string' },
      wait: { type: 'string', default: '3' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || (!values.welcome && !values.rate && !values.button && !values.fixture && positionals.length === 0)) {
    process.stdout.write(
      readFileSync(__filename, 'utf8')
        .split('*/')[0]
        .replace(/^\/\*\*|^ \* ?/gm, '') + '\n',
    );
    return;
  }
  const env = loadEnv();
  const secrets = resolveSecrets(env);
  const baseUrl = values.url ?? `http://localhost:${env.PORT}`;
  const phoneNumberId = values['phone-number-id']!;
  const wamid = `wamid.SIM${randomBytes(12).toString('hex')}`;

  let payload: unknown;
  if (values.fixture) {
    const file = path.resolve(__dirname, '..', 'test', 'fixtures', 'webhooks', `${values.fixture.replace(/\.json$/, '')}.json`);
    payload = JSON.parse(readFileSync(file, 'utf8'));
  } else {
    const isBsuid = values.bsuid || /[^0-9]/.test(values.from!);
    const identity = isBsuid ? { from_user_id: values.from } : { from: values.from };
    const contact = isBsuid ? { user_id: values.from } : { wa_id: values.from };
    let message: Record<string, unknown>;
    if (values.welcome) message = { type: 'request_welcome' };
    else if (values.rate) {
      if (!values.conversation) throw new Error('--rate needs --conversation <conversation id>');
      const score = Number(values.rate);
      message = {
        type: 'interactive',
        interactive: { type: 'list_reply', list_reply: { id: csatRowId(values.conversation, score), title: String(score) } },
      };
    } else if (values.button) {
      message = { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: values.button, title: values.button } } };
    } else message = { type: 'text', text: { body: positionals.join(' ') } };
    payload = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: 'WABA_SIMULATED',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550000000', phone_number_id: phoneNumberId },
                contacts: [{ profile: { name: values.name }, ...contact }],
                messages: [{ ...identity, id: wamid, timestamp: String(Math.floor(Date.now() / 1000)), ...message }],
              },
            },
          ],
        },
      ],
    };
  }

  const body = JSON.stringify(payload);
  const response = await fetch(`${baseUrl}/webhooks/whatsapp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, secrets.appSecret) },
    body,
  });
  process.stdout.write(`→ webhook posted (${response.status})\n`);
  if (response.status !== 200) {
    process.stdout.write(`${await response.text()}\n`);
    process.exitCode = 1;
    return;
  }
  if (values.fixture || values.welcome || values.rate) return;
  await printReplies(baseUrl, secrets.apiKeys[0], phoneNumberId, wamid, Number(values.wait) * 1000);
}

/** Finds the conversation holding our message and prints what was sent back. */
async function printReplies(baseUrl: string, apiKey: string, phoneNumberId: string, wamid: string, waitMs: number): Promise<void> {
  const get = async (p: string) => {
    const r = await fetch(`${baseUrl}/api${p}`, { headers: { authorization: `Bearer ${apiKey}` } });
    return r.json() as Promise<Record<string, unknown>>;
  };
  type Detail = { id: string; status: string; agentId: string | null; messages: Record<string, unknown>[] };
  const deadline = Date.now() + waitMs;
  let shown = 0;
  let found: Detail | null = null;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    const { conversations } = (await get(`/conversations?phoneNumberId=${encodeURIComponent(phoneNumberId)}&limit=20`)) as {
      conversations: { id: string }[];
    };
    for (const c of conversations ?? []) {
      const detail = (await get(`/conversations/${c.id}`)) as Detail;
      const index = detail.messages.findIndex((m) => m.wamid === wamid);
      if (index < 0) continue;
      found = detail;
      const replies = detail.messages.slice(index + 1).filter((m) => m.direction === 'outbound');
      for (const m of replies.slice(shown)) {
        const label = m.automation ?? m.author;
        process.stdout.write(`← [${label}, ${m.status}${m.skipReason ? `: ${m.skipReason}` : ''}] ${preview(m.content)}\n`);
      }
      shown = replies.length;
    }
    if (shown > 0) break;
  }
  if (!found) process.stdout.write('  (the message is stored; its conversation is not visible yet)\n');
  else process.stdout.write(`  conversation ${found.id} is ${found.status}${found.agentId ? ` (agent ${found.agentId})` : ''}\n`);
}

function preview(content: unknown): string {
  const c = content as Record<string, Record<string, unknown>>;
  if (c?.text?.body) return String(c.text.body);
  if (c?.interactive) return `[interactive] ${String((c.interactive.body as { text?: string })?.text ?? '')}`;
  return JSON.stringify(content);
}

main().catch((error) => {
  process.stderr.write(`simulate: ${(error as Error).message}\n`);
  process.exit(1);
});
