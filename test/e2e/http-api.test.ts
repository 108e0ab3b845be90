import assert from 'node:assert/strict';
import { graphError } from '../support/fake-graph-api';
import { eventually } from '../support/conversation-harness';
import { type ServiceUnderTest, startServiceUnderTest, textWebhook } from '../support/running-service';
import { csatRowId } from '../../workflows/rules/conversation-machine';

const NUMBER = '106540352242922';
const text = (body: string) => ({ type: 'text', text: { body } });

describe('HTTP API (SPEC §6) against the running service', function () {
  this.timeout(180_000);
  let s: ServiceUnderTest;
  let wamidCounter = 0;
  before(async () => {
    s = await startServiceUnderTest();
  });
  after(async () => s?.stop());

  async function customerSays(from: string, body: string, phoneNumberId = NUMBER): Promise<string> {
    const wamid = `wamid.API-${++wamidCounter}`;
    const response = await s.postWebhook(textWebhook({ wamid, from, body, phoneNumberId }));
    assert.equal(response.status, 200);
    return wamid;
  }

  async function conversationOf(wamid: string): Promise<{ id: string; status: string; agent_id: string | null }> {
    const message = await eventually(
      () => s.db('messages').where({ wamid }).whereNotNull('conversation_id').first(),
      15_000,
      `conversation of ${wamid}`,
    );
    return s.db('conversations').where({ id: message.conversation_id }).first();
  }

  describe('automation settings', () => {
    it('returns every block with its defaults for a number nobody configured', async () => {
      const { status, body } = await s.api('GET', '/numbers/555000111/automation');
      assert.equal(status, 200);
      assert.deepEqual(Object.keys(body).sort(), [
        'autoClose',
        'businessHours',
        'csat',
        'iceBreakers',
        'queueReply',
        'reassign',
        'reminder',
        'routing',
        'unassignedReply',
        'welcome',
      ]);
      assert.equal(body.routing.mode, 'auto');
      assert.equal(body.reminder.waitMinutes, 5);
      assert.equal(body.autoClose.afterMinutes, 1440);
    });

    it('saves a valid body, fills omitted blocks, and pushes ice breakers to Meta', async () => {
      const put = await s.api('PUT', '/numbers/555000222/automation', {
        iceBreakers: { enabled: true, prompts: ['Where is my order?', 'Talk to a human'] },
        reminder: { enabled: true, waitMinutes: 1440, message: text('Still with you!') },
        autoClose: { enabled: true, afterMinutes: 4320 },
        unassignedReply: { delaySeconds: 600 },
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const push = s.graph.requests.find((r) => r.path === '/v23.0/555000222/conversational_automation');
      assert.ok(push, 'ice breakers pushed');
      assert.deepEqual(push.body, { prompts: ['Where is my order?', 'Talk to a human'] });
      const { body } = await s.api('GET', '/numbers/555000222/automation');
      assert.equal(body.reminder.waitMinutes, 1440);
      assert.equal(body.autoClose.afterMinutes, 4320);
      assert.equal(body.unassignedReply.delaySeconds, 600);
      assert.equal(body.unassignedReply.enabled, true, 'omitted fields take their defaults');
      assert.equal(body.csat.enabled, false);
    });

    it('rejects an invalid body with details naming every bad field, and saves nothing', async () => {
      const before = await s.api('GET', '/numbers/555000222/automation');
      const put = await s.api('PUT', '/numbers/555000222/automation', {
        unassignedReply: { delaySeconds: 601 },
        reminder: { waitMinutes: 0 },
        autoClose: { afterMinutes: 4321 },
        iceBreakers: { prompts: ['ok', 'Where is my 📦?'] },
        queueReply: { message: { type: 'text', text: { body: '' } } },
        routing: { mode: 'robots' },
        csat: { template: { name: 'CSAT Survey', language: 'english' } },
        surprise: true,
      });
      assert.equal(put.status, 400);
      assert.equal(put.body.error.code, 'invalid_request');
      const fields = put.body.error.details.map((d: { field: string }) => d.field).sort();
      assert.deepEqual(fields, [
        'autoClose.afterMinutes',
        'csat.template.language',
        'csat.template.name',
        'iceBreakers.prompts[1]',
        'queueReply.message.text.body',
        'reminder.waitMinutes',
        'routing.mode',
        'surprise',
        'unassignedReply.delaySeconds',
      ]);
      assert.deepEqual((await s.api('GET', '/numbers/555000222/automation')).body, before.body);
    });

    it('when the survey names a template (R16), then it is saved and read back; null clears it', async () => {
      const put = await s.api('PUT', '/numbers/555000333/automation', {
        csat: { enabled: true, template: { name: 'csat_survey', language: 'pt_BR' } },
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.deepEqual((await s.api('GET', '/numbers/555000333/automation')).body.csat.template, { name: 'csat_survey', language: 'pt_BR' });
      assert.equal((await s.api('PUT', '/numbers/555000333/automation', { csat: { enabled: true, template: null } })).status, 200);
      assert.equal((await s.api('GET', '/numbers/555000333/automation')).body.csat.template, null);
    });

    it('answers with Meta’s error when Meta rejects the ice breakers, keeping the previous settings', async () => {
      const before = await s.api('GET', '/numbers/555000222/automation');
      s.graph.respondWith((r) =>
        r.path.endsWith('/555000222/conversational_automation') ? graphError(100, 'Invalid parameter', 'prompts too long') : undefined,
      );
      const put = await s.api('PUT', '/numbers/555000222/automation', { iceBreakers: { enabled: true, prompts: ['Something new'] } });
      assert.equal(put.status, 502);
      assert.equal(put.body.error.code, 'meta_rejected');
      assert.match(put.body.error.details[0].message, /100/);
      assert.deepEqual((await s.api('GET', '/numbers/555000222/automation')).body, before.body);
    });
  });

  describe('agents', () => {
    it('creates (201) and updates (200) an agent, validating each field', async () => {
      const created = await s.api('PUT', '/agents/api-alice', { name: 'Alice', receptionLimit: 2, status: 'offline' });
      assert.equal(created.status, 201);
      assert.deepEqual(created.body, {
        id: 'api-alice',
        name: 'Alice',
        receptionLimit: 2,
        status: 'offline',
        phoneNumberIds: null,
        load: 0,
        queued: 0,
      });
      const updated = await s.api('PUT', '/agents/api-alice', { name: 'Alice B', receptionLimit: 3, status: 'offline', phoneNumberIds: [NUMBER] });
      assert.equal(updated.status, 200);
      assert.deepEqual(updated.body.phoneNumberIds, [NUMBER]);
      const invalid = await s.api('PUT', '/agents/api-alice', { name: '', receptionLimit: 101, status: 'away' });
      assert.equal(invalid.status, 400);
      assert.deepEqual(invalid.body.error.details.map((d: { field: string }) => d.field).sort(), ['name', 'receptionLimit', 'status']);
      assert.equal((await s.api('PUT', '/agents/api-alice', { name: 'A', receptionLimit: 0, status: 'online' })).status, 400);
      assert.equal((await s.api('GET', '/agents/api-alice')).body.receptionLimit, 3, 'a rejected update changes nothing');
      assert.equal((await s.api('GET', '/agents/nobody')).status, 404);
    });
  });

  describe('a conversation served by an agent', () => {
    let conversationId: string;

    it('is assigned to the online agent, who replies through the API', async () => {
      await s.api('PUT', `/numbers/${NUMBER}/automation`, { csat: { enabled: true, body: 'How did we do?', buttonText: 'Rate us' } });
      await s.api('PUT', '/agents/api-bob', { name: 'Bob', receptionLimit: 1, status: 'online', phoneNumberIds: [NUMBER] });
      const conversation = await conversationOf(await customerSays('5511000000001', 'I need help'));
      conversationId = conversation.id;
      const detail = await eventually(
        async () => {
          const d = await s.api('GET', `/conversations/${conversationId}`);
          return d.body.status === 'assigned' ? d : undefined;
        },
        15_000,
        'assigned',
      );
      assert.equal(detail.body.agentId, 'api-bob');

      const before = s.graph.messageRequests().length;
      const reply = await s.api('POST', `/conversations/${conversationId}/messages`, { agentId: 'api-bob', message: text('Hi, Bob here!') });
      assert.equal(reply.status, 201, JSON.stringify(reply.body));
      assert.equal(reply.body.status, 'accepted');
      const sent = s.graph.messageRequests()[before];
      assert.deepEqual(sent.body.text, { body: 'Hi, Bob here!' });
      const messages = (await s.api('GET', `/conversations/${conversationId}`)).body.messages;
      assert.deepEqual(
        messages.map((m: { direction: string; author: string }) => `${m.direction}:${m.author}`),
        ['inbound:customer', 'outbound:agent'],
      );
    });

    it('refuses what the state does not allow with 409, and bad input with 400/404', async () => {
      await s.api('PUT', '/agents/api-carol', { name: 'Carol', receptionLimit: 1, status: 'offline' });
      const notAssignee = await s.api('POST', `/conversations/${conversationId}/messages`, { agentId: 'api-carol', message: text('me too') });
      assert.equal(notAssignee.status, 409);
      assert.equal(notAssignee.body.error.code, 'conflict');
      assert.equal((await s.api('POST', `/conversations/${conversationId}/claim`, { agentId: 'api-carol' })).status, 409);
      assert.equal((await s.api('POST', `/conversations/${conversationId}/bot/messages`, { message: text('beep') })).status, 409);
      const badMessage = await s.api('POST', `/conversations/${conversationId}/messages`, {
        agentId: 'api-bob',
        message: { type: 'text', text: { body: 'x'.repeat(4097) } },
      });
      assert.equal(badMessage.status, 400);
      assert.equal(badMessage.body.error.details[0].field, 'message.text.body');
      assert.equal((await s.api('POST', '/conversations/not-a-uuid/claim', { agentId: 'api-bob' })).status, 400);
      assert.equal((await s.api('POST', '/conversations/00000000-0000-4000-8000-000000000000/claim', { agentId: 'api-bob' })).status, 404);
      assert.equal((await s.api('POST', `/conversations/${conversationId}/claim`, { agentId: 'ghost' })).status, 404);
    });

    it('queues the next customer while Bob is full, and shows the queue', async () => {
      const queued = await conversationOf(await customerSays('5511000000002', 'hello?'));
      await eventually(async () => (await s.db('conversations').where({ id: queued.id, status: 'queued' }).first()) ?? undefined, 15_000, 'queued');
      const queue = await s.api('GET', `/numbers/${NUMBER}/queue`);
      assert.equal(queue.status, 200);
      assert.equal(queue.body.length, 1);
      assert.equal(queue.body.conversations[0].id, queued.id);
      const bob = await s.api('GET', '/agents/api-bob');
      assert.deepEqual([bob.body.load, bob.body.queued], [1, 1]);
      const list = await s.api('GET', `/conversations?phoneNumberId=${NUMBER}&status=queued`);
      assert.deepEqual(
        list.body.conversations.map((c: { id: string }) => c.id),
        [queued.id],
      );
    });

    it('closes with a survey, drains the queue into Bob, and records the answer once', async () => {
      const before = s.graph.messageRequests().length;
      const closed = await s.api('POST', `/conversations/${conversationId}/close`, { agentId: 'api-bob' });
      assert.equal(closed.status, 200, JSON.stringify(closed.body));
      const requests = await s.graph.waitForMessages(before + 1);
      const survey = requests.slice(before).find((r) => r.body.type === 'interactive');
      assert.ok(survey, 'survey sent');
      const interactive = survey.body.interactive as {
        type: string;
        body: { text: string };
        action: { button: string; sections: { rows: { id: string }[] }[] };
      };
      assert.equal(interactive.type, 'list');
      assert.equal(interactive.body.text, 'How did we do?');
      assert.equal(interactive.action.button, 'Rate us');
      assert.equal(interactive.action.sections[0].rows.length, 5);
      assert.equal((await s.api('POST', `/conversations/${conversationId}/close`, {})).status, 409, 'closing twice');

      // R6: the queued customer goes to Bob the moment he has room.
      await eventually(async () => (await s.api('GET', `/numbers/${NUMBER}/queue`)).body.length === 0, 15_000, 'queue drained');
      assert.equal((await s.api('GET', '/agents/api-bob')).body.load, 1);

      const answer = (score: number, wamid: string) => ({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: 'W',
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { display_phone_number: '1', phone_number_id: NUMBER },
                  contacts: [{ wa_id: '5511000000001', profile: { name: 'x' } }],
                  messages: [
                    {
                      from: '5511000000001',
                      id: wamid,
                      timestamp: String(Math.floor(Date.now() / 1000)),
                      type: 'interactive',
                      interactive: { type: 'list_reply', list_reply: { id: csatRowId(conversationId, score), title: String(score) } },
                    },
                  ],
                },
              },
            ],
          },
        ],
      });
      assert.equal((await s.postWebhook(answer(4, 'wamid.CSAT-1'))).status, 200);
      assert.equal((await s.postWebhook(answer(1, 'wamid.CSAT-2'))).status, 200);
      const csat = await s.api('GET', `/csat?phoneNumberId=${NUMBER}&agentId=api-bob`);
      assert.equal(csat.status, 200);
      assert.equal(csat.body.count, 1);
      assert.equal(csat.body.average, 4);
      assert.equal(csat.body.answers[0].conversationId, conversationId);
      const open = await s.db('conversations').where({ contact_id: (await s.db('conversations').where({ id: conversationId }).first()).contact_id });
      assert.equal(open.length, 1, 'the answer opened no new conversation');
    });
  });

  describe('settings changes reach open conversations (R12)', () => {
    it('re-arms a pending unassigned-reply delay within seconds of the save', async () => {
      const number = '777000111';
      await s.api('PUT', `/numbers/${number}/automation`, {
        unassignedReply: { enabled: true, delaySeconds: 600, message: text('Sorry for the wait!') },
      });
      const conversation = await conversationOf(await customerSays('5511000000777', 'hi', number));
      await new Promise((r) => setTimeout(r, 1000));
      const sentBefore = s.graph.messageRequests().filter((r) => r.path.includes(number)).length;
      assert.equal(sentBefore, 0, 'the reply waits for its 10-minute delay');

      const saved = Date.now();
      await s.api('PUT', `/numbers/${number}/automation`, {
        unassignedReply: { enabled: true, delaySeconds: 2, message: text('Sorry for the wait!') },
      });
      await eventually(async () => s.graph.messageRequests().some((r) => r.path.includes(number)), 15_000, 'reply after the shortened delay');
      const elapsed = Date.now() - saved;
      assert.ok(elapsed < 10_000, `sent ${elapsed} ms after the save`);
      const row = await s.db('messages').where({ conversation_id: conversation.id, automation: 'unassigned_reply' }).first();
      assert.equal(row.content.text.body, 'Sorry for the wait!');
    });
  });

  describe('request limits', () => {
    it('answers 413 to an oversized body and 400 to malformed JSON', async () => {
      const big = await s.api('PUT', '/agents/big', JSON.stringify({ name: 'x'.repeat(300_000), receptionLimit: 1, status: 'online' }));
      assert.equal(big.status, 413);
      assert.equal(big.body.error.code, 'payload_too_large');
      const malformed = await s.api('PUT', '/agents/big', '{"name": ');
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.error.code, 'invalid_json');
      assert.equal((await s.api('GET', '/agents/big')).status, 404);
    });
  });
});
