/**
 * The reference bot of examples/menu-bot runs bot conversations (R8) end to end: it hears
 * of them through outbound events (SPEC §9) and answers through the bot API.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { eventually } from '../support/conversation-harness';
import { type ServiceUnderTest, startServiceUnderTest, textWebhook } from '../support/running-service';
import { createMenuBot, MENU_BUTTONS } from '../../examples/menu-bot/menu-bot';
import type { RecordedRequest } from '../support/fake-graph-api';
import { signEvent } from '../../src/outbound/signature';

const BOT_NUMBER = '106540352266601';
const SECRET = 'menu-bot-secret-0123456789';

function tap(from: string, wamid: string, id: string): object {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: 'WABA',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '1', phone_number_id: BOT_NUMBER },
              contacts: [{ wa_id: from, profile: { name: 'Bot Customer' } }],
              messages: [
                {
                  from,
                  id: wamid,
                  timestamp: String(Math.floor(Date.now() / 1000)),
                  type: 'interactive',
                  interactive: { type: 'button_reply', button_reply: { id, title: id } },
                },
              ],
            },
          },
        ],
      },
    ],
  };
}

describe('reference bot (examples/menu-bot) on a bot number', function () {
  this.timeout(180_000);
  let s: ServiceUnderTest;
  let bot: ReturnType<typeof createMenuBot>;
  let botUrl: string;
  const botLog: string[] = [];
  before(async () => {
    s = await startServiceUnderTest();
    assert.equal((await s.api('PUT', `/numbers/${BOT_NUMBER}/automation`, { routing: { mode: 'bot' } })).status, 200);
    const key = await s.api('POST', '/api-keys', { role: 'bot', name: 'menu bot', phoneNumberIds: [BOT_NUMBER] });
    assert.equal(key.status, 201);
    bot = createMenuBot({ autopilotUrl: s.baseUrl, botKey: key.body.key, secret: SECRET, log: (line) => botLog.push(line) });
    await new Promise<void>((resolve) => bot.server.listen(0, '127.0.0.1', resolve));
    botUrl = `http://127.0.0.1:${(bot.server.address() as AddressInfo).port}/events`;
    const subscribed = await s.api('PUT', '/webhooks/menu-bot', {
      url: botUrl,
      secret: SECRET,
      events: ['conversation.routed', 'message.received'],
      phoneNumberIds: [BOT_NUMBER],
    });
    assert.equal(subscribed.status, 201, JSON.stringify(subscribed.body));
  });
  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    const log = await s.api('GET', '/webhooks/menu-bot/deliveries');
    console.log({ botLog, deliveries: log.body.deliveries });
  });
  after(async () => {
    await s?.stop();
    bot?.server.closeAllConnections();
    await new Promise((resolve) => bot?.server.close(resolve));
  });

  const sentTo = (waId: string): RecordedRequest[] => s.graph.messageRequests().filter((r) => String(r.body.to).replace(/^\+/, '') === waId);
  const lastSentTo = async (waId: string, count: number) =>
    (await eventually(async () => sentTo(waId).length >= count && sentTo(waId), 20_000, `${count} messages to ${waId}`))[count - 1];
  const conversationOf = (waId: string) =>
    s.db('conversations as c').join('contacts as k', 'k.id', 'c.contact_id').where('k.wa_id', waId).orderBy('c.opened_at', 'desc').first('c.*');

  it('when a customer writes, then the bot sends the menu; a tap gets its answer; "talk to a person" hands over to an agent', async () => {
    await s.api('PUT', '/agents/bot-ann', { name: 'Ann', receptionLimit: 5, status: 'online', phoneNumberIds: [BOT_NUMBER] });
    const customer = '5511800000001';
    assert.equal((await s.postWebhook(textWebhook({ wamid: 'wamid.BOT-1', from: customer, body: 'hello', phoneNumberId: BOT_NUMBER }))).status, 200);
    const menu = await lastSentTo(customer, 1);
    assert.equal(menu.body.type, 'interactive');
    const menuButtons = (menu.body.interactive as { action: { buttons: { reply: { id: string } }[] } }).action.buttons;
    assert.deepEqual(
      menuButtons.map((b) => b.reply.id),
      MENU_BUTTONS.map((b) => b.id),
    );
    assert.equal((await conversationOf(customer)).status, 'bot');

    assert.equal((await s.postWebhook(tap(customer, 'wamid.BOT-2', 'order'))).status, 200);
    const answer = await lastSentTo(customer, 2);
    assert.match((answer.body.interactive as { body: { text: string } }).body.text, /order left our warehouse/);

    assert.equal((await s.postWebhook(tap(customer, 'wamid.BOT-3', 'human'))).status, 200);
    const handedOver = await eventually(
      async () => {
        const c = await conversationOf(customer);
        return c.status === 'assigned' ? c : undefined;
      },
      20_000,
      'handed over and assigned',
    );
    assert.equal(handedOver.agent_id, 'bot-ann');
    assert.deepEqual((await lastSentTo(customer, 3)).body.text, { body: 'Connecting you with a person now.' });
  });

  it('when the customer says that is all, then the bot completes the conversation; a repeated delivery is acknowledged and ignored, a forged one refused', async () => {
    const customer = '5511800000002';
    assert.equal((await s.postWebhook(textWebhook({ wamid: 'wamid.BOT-10', from: customer, body: 'hi', phoneNumberId: BOT_NUMBER }))).status, 200);
    await lastSentTo(customer, 1);
    assert.equal((await s.postWebhook(tap(customer, 'wamid.BOT-11', 'hours'))).status, 200);
    await lastSentTo(customer, 2);
    assert.equal((await s.postWebhook(tap(customer, 'wamid.BOT-12', 'done'))).status, 200);
    const closed = await eventually(
      async () => {
        const c = await conversationOf(customer);
        return c.status === 'closed' ? c : undefined;
      },
      20_000,
      'completed',
    );
    assert.equal(closed.close_reason, 'bot_completed');
    assert.equal(sentTo(customer).length, 3, 'menu, hours, goodbye');
    // Delivery is at least once: the same event again (validly signed) is acknowledged and ignored.
    const actedOn = botLog.filter((l) => l.startsWith('message.received') && l.endsWith(': done')).map((l) => l.split(' ')[1]);
    const repeat = JSON.stringify({
      id: actedOn[actedOn.length - 2],
      type: 'message.received',
      occurredAt: new Date().toISOString(),
      data: { conversationId: closed.id, conversationStatus: 'bot', message: { content: { kind: 'button_reply', id: 'hours' } } },
    });
    const post = (signature: string, timestamp: string) =>
      fetch(botUrl, { method: 'POST', headers: { 'x-autopilot-timestamp': timestamp, 'x-autopilot-signature': signature }, body: repeat });
    const now = String(Math.floor(Date.now() / 1000));
    assert.equal((await post(signEvent(SECRET, now, repeat), now)).status, 200);
    assert.equal((await post(signEvent('not-the-secret-0123456', now, repeat), now)).status, 401, 'a forged delivery');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(sentTo(customer).length, 3, 'the repeated event sent nothing');
  });
});
