import assert from 'node:assert/strict';
import { conversationWorkflowId, customerMessageSignal } from '../../workflows/conversation/contract';
import type { ConversationState } from '../../workflows/rules/conversation-machine';
import { createConversationHarness, eventually, PHONE_NUMBER_ID, type ConversationHarness } from '../support/conversation-harness';

describe('long conversations continue as new (time-skipping server)', () => {
  let h: ConversationHarness;
  before(async () => {
    h = await createConversationHarness();
  });
  after(async () => h?.close());

  it('keeps the conversation, its state and its timers across continue-as-new', async () => {
    await h.db('agents').insert({ id: 'can-agent', name: 'CAN', reception_limit: 5, status: 'online' });
    await h.saveSettings({ reminder: { enabled: true, waitMinutes: 10, message: { type: 'text', text: { body: 'Hang on!' } } } });
    // The first message arrives as the webhook would deliver it, but with a low history
    // limit so that a few dozen messages are enough to roll the history over.
    const contact = await h.db('contacts').insert({ phone_number_id: PHONE_NUMBER_ID, identity_key: 'US.LONG', user_id: 'US.LONG' }).returning('id');
    const contactId = contact[0].id as string;
    const message = async (i: number) => {
      const [row] = await h
        .db('messages')
        .insert({
          phone_number_id: PHONE_NUMBER_ID,
          contact_id: contactId,
          direction: 'inbound',
          author: 'customer',
          wamid: `wamid.LONG${i}`,
          type: 'text',
          content: JSON.stringify({ kind: 'text', body: `m${i}` }),
          status: 'received',
          sent_at: new Date(await h.now()),
        })
        .returning('id');
      return { messageId: row.id as string, sentAt: await h.now(), opensServiceWindow: true, isFirstContact: false };
    };
    await h.run(async () => {
      const handle = await h.env.client.workflow.signalWithStart('conversationWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: conversationWorkflowId(PHONE_NUMBER_ID, contactId),
        args: [{ phoneNumberId: PHONE_NUMBER_ID, contactId, continueAsNewAfterEvents: 60 }],
        signal: customerMessageSignal,
        signalArgs: [await message(0)],
      });
      const firstRunId = handle.signaledRunId;
      const before = await eventually(
        async () => {
          const s = (await handle.query('state')) as ConversationState | null;
          return s?.status === 'assigned' ? s : undefined;
        },
        10_000,
        'assigned',
      );

      for (let i = 1; i <= 40; i++) {
        await handle.signal(customerMessageSignal, await message(i));
        await h.env.sleep(1_000);
      }
      const description = await eventually(
        async () => {
          const d = await h.env.client.workflow.getHandle(handle.workflowId).describe();
          return d.runId !== firstRunId ? d : undefined;
        },
        15_000,
        'a new run',
      );
      assert.equal(description.status.name, 'RUNNING');

      const after = (await h.env.client.workflow.getHandle(handle.workflowId).query('state')) as ConversationState;
      assert.equal(after.conversationId, before.conversationId, 'the same conversation');
      assert.equal(after.status, 'assigned');
      assert.equal(after.agentId, 'can-agent');
      assert.equal(after.unansweredSince, before.unansweredSince, 'the reminder still counts from the first unanswered message');
      assert.equal((await h.db('conversations').where({ contact_id: contactId })).length, 1);
      assert.equal((await h.db('messages').where({ conversation_id: before.conversationId, direction: 'inbound' })).length, 41);

      // The reminder armed before the rollover fires once, at its original deadline.
      await h.env.sleep(10 * 60_000);
      const reminders = await eventually(
        async () => {
          const rows = await h.db('messages').where({ conversation_id: before.conversationId, automation: 'reminder' });
          return rows.length > 0 ? rows : undefined;
        },
        10_000,
        'reminder',
      );
      assert.equal(reminders.length, 1);
    });
  });
});
