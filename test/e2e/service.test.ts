import assert from 'node:assert/strict';
import { connectClient } from '../../src/temporal/client';
import { eventually } from '../support/conversation-harness';
import { E2E_VERIFY_TOKEN, type ServiceUnderTest, startServiceUnderTest, textWebhook } from '../support/running-service';

describe('end to end: the service as npm start runs it', function () {
  this.timeout(180_000);
  let s: ServiceUnderTest;
  before(async () => {
    s = await startServiceUnderTest();
  });
  after(async () => s?.stop());

  it('reports PostgreSQL and Temporal as reachable on /healthz', async () => {
    const response = await fetch(`${s.baseUrl}/healthz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok', postgres: 'up', temporal: 'up', whatsappToken: 'ok' });
  });

  it('answers the verification handshake with the challenge', async () => {
    const response = await fetch(`${s.baseUrl}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${E2E_VERIFY_TOKEN}&hub.challenge=1158201444`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '1158201444');
  });

  it('stores an inbound text, opens a conversation workflow and sends the auto-reply through the Cloud API', async () => {
    const response = await s.postWebhook(textWebhook({ wamid: 'wamid.E2E-1', from: '5511999990000', body: 'Olá, preciso de ajuda 🙏' }));
    assert.equal(response.status, 200);

    const [request] = await s.graph.waitForMessages(1, 30_000);
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/v23.0/106540352242922/messages');
    assert.equal(request.headers.authorization, 'Bearer e2e-access-token');
    assert.equal(request.body.messaging_product, 'whatsapp');
    assert.equal(request.body.to, '+5511999990000');
    assert.equal(request.body.type, 'text');
    assert.match(String((request.body.text as { body: string }).body), /Thanks for your message/);

    const inbound = await s.db('messages').where({ wamid: 'wamid.E2E-1' }).first();
    assert.equal(inbound.direction, 'inbound');
    assert.equal(inbound.content.body, 'Olá, preciso de ajuda 🙏');
    const conversation = await eventually(
      () =>
        s
          .db('conversations')
          .where({ id: inbound.conversation_id ?? '00000000-0000-0000-0000-000000000000' })
          .first(),
      10_000,
      'conversation',
    );
    assert.equal(conversation.status, 'unassigned');
    assert.doesNotMatch(conversation.workflow_id, /5511999990000/, 'no phone number in the workflow id');
    const outbound = await eventually(
      () => s.db('messages').where({ conversation_id: conversation.id, direction: 'outbound', status: 'accepted' }).first(),
      10_000,
      'outbound row',
    );
    assert.equal(outbound.automation, 'unassigned_reply');
    assert.equal(outbound.wamid, 'wamid.FAKE1');

    // Operators find it in the Web UI by search attribute (visibility is eventually consistent).
    const client = await connectClient({ address: s.service.temporalAddress, namespace: 'default' });
    try {
      const found = await eventually(
        async () => {
          const ids: string[] = [];
          for await (const wf of client.workflow.list({ query: `ConversationStatus = "unassigned" AND PhoneNumberId = "106540352242922"` }))
            ids.push(wf.workflowId);
          return ids.includes(conversation.workflow_id) ? ids : undefined;
        },
        20_000,
        'workflow visible by search attribute',
      );
      assert.ok(found.length >= 1);
    } finally {
      await client.connection.close();
    }
  });

  it('acknowledges a duplicate delivery without a second effect', async () => {
    const before = s.graph.messageRequests().length;
    const response = await s.postWebhook(textWebhook({ wamid: 'wamid.E2E-1', from: '5511999990000', body: 'Olá, preciso de ajuda 🙏' }));
    assert.equal(response.status, 200);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(s.graph.messageRequests().length, before);
    assert.equal((await s.db('messages').where({ wamid: 'wamid.E2E-1' })).length, 1);
  });

  it('keeps conversations and their timers across a restart of every process', async () => {
    await s.db('automation_settings').insert({
      phone_number_id: '222000111',
      settings: JSON.stringify({ unassignedReply: { enabled: true, delaySeconds: 6, message: { type: 'text', text: { body: 'Still there?' } } } }),
    });
    const before = s.graph.messageRequests().length;
    assert.equal(
      (await s.postWebhook(textWebhook({ wamid: 'wamid.E2E-RESTART', from: '5511988887777', body: 'anyone?', phoneNumberId: '222000111' }))).status,
      200,
    );
    await eventually(() => s.db('conversations').where({ phone_number_id: '222000111' }).first(), 10_000, 'conversation opened');
    await s.restart();
    const requests = await s.graph.waitForMessages(before + 1, 30_000);
    const reply = requests[before];
    assert.equal((reply.body.text as { body: string }).body, 'Still there?');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(s.graph.messageRequests().length, before + 1, 'the timer fired exactly once');
  });
});
