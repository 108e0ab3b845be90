import assert from 'node:assert/strict';
import { createConversationHarness, eventually, type ConversationHarness } from '../support/conversation-harness';

describe('R4 unassigned auto-reply (time-skipping server)', () => {
  let h: ConversationHarness;
  before(async () => {
    h = await createConversationHarness();
  });
  after(async () => h?.close());

  it('replies at once to the first message when no agent is online', async () => {
    await h.run(async () => {
      await h.customerSays('US.1001', 'Hello');
      const [request] = await h.graph.waitForMessages(1);
      assert.equal(request.headers.authorization, 'Bearer test-token');
      assert.match(request.path, /^\/v23\.0\/106540352242922\/messages$/);
      assert.equal(request.body.recipient, 'US.1001');
      assert.equal(request.body.type, 'text');
      const conversation = await eventually(() => h.db('conversations').first());
      assert.equal(conversation.status, 'unassigned');
      const outbound = await eventually(() => h.db('messages').where({ direction: 'outbound', status: 'accepted' }).first());
      assert.equal(outbound.automation, 'unassigned_reply');
      assert.equal(outbound.wamid, 'wamid.FAKE1');
      assert.equal(outbound.conversation_id, conversation.id);
    });
  });
});
