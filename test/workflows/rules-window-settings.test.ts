/**
 * R11 (the 24-hour customer-service window) and R12 (settings changes re-arm running
 * timers from the same starting moment), on the time-skipping server.
 */
import assert from 'node:assert/strict';
import { agentReplyUpdate } from '../../workflows/conversation/contract';
import { HOUR, MINUTE, SECOND, freshContact, outcomeOf, text, type ConversationRow, useRulesHarness } from './rules-helpers';

const REMINDER = text('Thanks for waiting! An agent is on the way.');
const UNASSIGNED = text('We are away; we will answer soon.');

/** Rows once the query returns any (the intake and the answer's store are asynchronous). */
async function eventuallyRows<T>(query: () => Promise<T[]>, timeoutMs = 10_000): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await query();
    if (rows.length > 0 || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('R11 customer-service window and R12 settings changes (time-skipping server)', () => {
  const { harness, kit } = useRulesHarness();

  /** R7: the reminder counts from the stretch's first message, or from assignment if later. */
  async function reminderStart(row: ConversationRow): Promise<number> {
    const state = (await kit.state(row))!;
    assert.ok(state.unansweredSince !== null && state.assignedAt !== null, 'an unanswered stretch in an assigned conversation');
    return Math.max(state.unansweredSince, state.assignedAt);
  }

  /** The moment the agent's last reply started R9's count. */
  async function autoCloseStart(row: ConversationRow): Promise<number> {
    const state = (await kit.state(row))!;
    assert.ok(state.lastAgentReplyAwaitingCustomer !== null, 'an agent reply awaiting the customer');
    return state.lastAgentReplyAwaitingCustomer;
  }

  /** An assigned conversation: the number has one online agent with room. */
  async function assignedConversation(contact: string, pn: string, agentId: string): Promise<ConversationRow> {
    await kit.addAgent(agentId, pn);
    await kit.customerSays(contact, pn, 'I need help');
    const row = await kit.conversationIn(contact, pn, 'assigned');
    await kit.settle(row);
    return row;
  }

  describe('R11 customer-service window', () => {
    /**
     * Sets up a reminder due exactly `dueAfterWindowOpened` after the customer's last
     * message: the stretch starts with one message, and a second one in the same stretch
     * (delivered late, as Meta may) carries the timestamp that makes the window what we want.
     */
    async function reminderDueAfterLastMessage(contact: string, pn: string, dueAfterLastMessage: number) {
      await kit.addAgent(`agent-${pn}`, pn);
      await kit.customerSays(contact, pn, 'first', { sentAt: (await harness.now()) - 5 * SECOND });
      const row = await kit.conversationIn(contact, pn, 'assigned');
      await kit.settle(row);
      const due = (await reminderStart(row)) + 24 * HOUR;
      const lastMessageAt = due - dueAfterLastMessage;
      await kit.customerSays(contact, pn, 'second', { sentAt: lastMessageAt });
      await kit.settle(row);
      assert.equal((await kit.state(row))!.lastCustomerMessageAt, lastMessageAt);
      assert.equal(await reminderStart(row), due - 24 * HOUR, 'the second message does not restart the stretch');
      return { row, due };
    }

    it('skips an automated message due 24 h + 1 s after the last customer message, records why, and carries on', async () => {
      const pn = await kit.numberWith({ reminder: { enabled: true, waitMinutes: 24 * 60, message: REMINDER } });
      const contact = freshContact('r11-late');
      await kit.run(async () => {
        const { row, due } = await reminderDueAfterLastMessage(contact, pn, 24 * HOUR + SECOND);
        await kit.advanceTo(row, due);
        const [reminder] = await kit.waitForAutomation(row, 'reminder');
        assert.equal(reminder.status, 'skipped');
        assert.match(reminder.skip_reason ?? '', /24-hour customer-service window/);
        assert.deepEqual(kit.sentTo(contact), [], 'nothing reached the Graph API');

        // The workflow neither failed nor retried: it is still serving the conversation.
        const description = await kit.handleOf(row).describe();
        assert.equal(description.status.name, 'RUNNING');
        const history = await kit.handleOf(row).fetchHistory();
        assert.ok(!history.events!.some((e) => e.workflowTaskFailedEventAttributes || e.activityTaskFailedEventAttributes), 'no failed task');
        assert.equal((await kit.state(row))!.status, 'assigned');
        await kit.close(row);
        assert.equal((await kit.reload(row)).status, 'closed');
      });
    });

    it('still sends an automated message due exactly 24 h after the last customer message', async () => {
      const pn = await kit.numberWith({ reminder: { enabled: true, waitMinutes: 24 * 60, message: REMINDER } });
      const contact = freshContact('r11-edge');
      await kit.run(async () => {
        const { row, due } = await reminderDueAfterLastMessage(contact, pn, 24 * HOUR);
        await kit.advanceTo(row, due);
        const [reminder] = await kit.waitForAutomation(row, 'reminder');
        assert.equal(reminder.status, 'accepted');
        assert.equal(reminder.skip_reason, null);
        assert.deepEqual(
          kit.sentTo(contact).map((b) => b.text),
          [REMINDER.text],
        );
      });
    });

    it('skips an unassigned reply whose delay ends outside the window (a late-delivered message)', async () => {
      const pn = await kit.numberWith({ unassignedReply: { enabled: true, delaySeconds: 600, message: UNASSIGNED } });
      const contact = freshContact('r11-unassigned');
      await kit.run(async () => {
        // Meta stamped it 23 h 55 min ago (it reaches us late): the 10-minute delay ends after the window.
        await kit.customerSays(contact, pn, 'hello?', { sentAt: (await harness.now()) - 24 * HOUR + 5 * MINUTE });
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        const enteredAt = (await kit.state(row))!.unassignedReplyOwedSince!;
        await kit.advanceTo(row, enteredAt + 600 * SECOND);
        const [reply] = await kit.waitForAutomation(row, 'unassigned_reply');
        assert.equal(reply.status, 'skipped');
        assert.match(reply.skip_reason ?? '', /24-hour/);
        assert.deepEqual(kit.sentTo(contact), []);
        assert.equal((await kit.state(row))!.status, 'unassigned');
      });
    });

    it('records the survey after a 72-hour auto-close as skipped: the window closed long before', async () => {
      const pn = await kit.numberWith({ autoClose: { enabled: true, afterMinutes: 72 * 60 }, csat: { enabled: true } });
      const contact = freshContact('r11-csat');
      await kit.run(async () => {
        const row = await assignedConversation(contact, pn, `agent-${pn}`);
        await kit.agentReplies(row, `agent-${pn}`, 'Here is your answer');
        await kit.advanceTo(row, (await autoCloseStart(row)) + 72 * HOUR);
        const closed = await kit.conversationIn(contact, pn, 'closed');
        assert.equal(closed.close_reason, 'auto_close');
        const [survey] = await kit.waitForAutomation(row, 'csat');
        assert.equal(survey.status, 'skipped');
        assert.match(survey.skip_reason ?? '', /24-hour/);
        assert.deepEqual(
          kit.sentTo(contact).map((b) => b.type),
          ['text'],
          'only the agent reply was sent',
        );
      });
    });
  });

  describe('R16 agent replies outside the window', () => {
    const TEMPLATE = {
      type: 'template',
      template: { name: 'order_update', language: { code: 'en' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'A-1042' }] }] },
    };

    it('when the customer last wrote 24 h + 1 s ago, then a free-form reply is refused (a template is needed) and a template reaches Meta', async () => {
      const pn = await kit.numberWith({});
      const contact = freshContact('r16-template');
      const agent = `agent-${pn}`;
      await kit.run(async () => {
        const row = await assignedConversation(contact, pn, agent);
        const lastCustomerMessageAt = (await kit.state(row))!.lastCustomerMessageAt!;
        await kit.advanceTo(row, lastCustomerMessageAt + 24 * HOUR + SECOND);

        const refused = await outcomeOf(
          kit.handleOf(row).executeUpdate(agentReplyUpdate, { args: [{ conversationId: row.id, agentId: agent, message: text('Still there?') }] }),
        );
        assert.equal(refused.ok, false);
        assert.match((refused as { message: string }).message, /only a template message can be sent/);

        const sent = await outcomeOf(
          kit.handleOf(row).executeUpdate(agentReplyUpdate, { args: [{ conversationId: row.id, agentId: agent, message: TEMPLATE }] }),
        );
        assert.equal(sent.ok, true, JSON.stringify(sent));
        assert.equal((sent as { status?: string }).status, 'accepted');
        assert.deepEqual(kit.sentTo(contact), [{ messaging_product: 'whatsapp', recipient_type: 'individual', recipient: contact, ...TEMPLATE }]);
        const replies = (await kit.outbound(row)).filter((m) => m.author === 'agent');
        assert.deepEqual(
          replies.map((m) => [m.status, m.content.type]),
          [['accepted', 'template']],
          'the refused reply left no row',
        );
      });
    });

    it('when auto-close at 72 h closes with csat.template set, then the survey goes out as the template, and a tapped score is recorded once', async () => {
      const pn = await kit.numberWith({
        autoClose: { enabled: true, afterMinutes: 72 * 60 },
        csat: { enabled: true, template: { name: 'csat_survey', language: 'en' } },
      });
      const contact = freshContact('r16-csat-template');
      const agent = `agent-${pn}`;
      await kit.run(async () => {
        const row = await assignedConversation(contact, pn, agent);
        await kit.agentReplies(row, agent, 'Here is your answer');
        await kit.advanceTo(row, (await autoCloseStart(row)) + 72 * HOUR);
        assert.equal((await kit.conversationIn(contact, pn, 'closed')).close_reason, 'auto_close');
        const [survey] = await kit.waitForAutomation(row, 'csat');
        assert.equal(survey.status, 'accepted');
        const sent = kit.sentTo(contact).find((b) => b.type === 'template') as { template: { name: string; components: unknown[] } } | undefined;
        assert.ok(sent, 'the template reached Meta');
        assert.equal(sent.template.name, 'csat_survey');
        assert.deepEqual(
          sent.template.components,
          [5, 4, 3, 2, 1].map((score, index) => ({
            type: 'button',
            sub_type: 'quick_reply',
            index: String(index),
            parameters: [{ type: 'payload', payload: `csat:${row.id}:${score}` }],
          })),
        );
        await kit.customerTapsTemplateButton(contact, pn, `csat:${row.id}:4`, 'Satisfied');
        await kit.customerTapsTemplateButton(contact, pn, `csat:${row.id}:4`, 'Satisfied');
        const answers = await eventuallyRows(() => harness.db('csat_answers').where({ conversation_id: row.id }));
        assert.deepEqual(
          answers.map((a: { score: number; agent_id: string }) => [a.score, a.agent_id]),
          [[4, agent]],
        );
        assert.equal((await harness.db('conversations').where({ contact_id: (await kit.reload(row)).contact_id })).length, 1, 'no new conversation');
      });
    });

    it('when the customer wrote 1 s less than 24 h ago, then a free-form reply is still sent (the exact edge: unit tests)', async () => {
      const pn = await kit.numberWith({});
      const contact = freshContact('r16-edge');
      const agent = `agent-${pn}`;
      await kit.run(async () => {
        const row = await assignedConversation(contact, pn, agent);
        const lastCustomerMessageAt = (await kit.state(row))!.lastCustomerMessageAt!;
        await kit.advanceTo(row, lastCustomerMessageAt + 24 * HOUR - SECOND);
        await kit.agentReplies(row, agent, 'Just in time');
        assert.deepEqual(
          kit.sentTo(contact).map((b) => b.type),
          ['text'],
        );
      });
    });
  });

  describe('R12 settings changes re-arm running timers', () => {
    it('a shorter reminder wait fires at the new W from the same start (W 10 → 5 min after 3 min)', async () => {
      const pn = await kit.numberWith({ reminder: { enabled: true, waitMinutes: 10, message: REMINDER } });
      const contact = freshContact('r12-shorter');
      await kit.run(async () => {
        const row = await assignedConversation(contact, pn, `agent-${pn}`);
        const start = await reminderStart(row);
        await kit.advanceTo(row, start + 3 * MINUTE);
        await kit.changeSettings(row, { reminder: { enabled: true, waitMinutes: 5, message: REMINDER } });
        await kit.advanceTo(row, start + 5 * MINUTE - SECOND);
        assert.deepEqual(await kit.outbound(row, 'reminder'), [], 'not before the new W');
        await kit.advanceTo(row, start + 5 * MINUTE);
        const [reminder] = await kit.waitForAutomation(row, 'reminder');
        assert.equal(reminder.status, 'accepted');
        // Once only: the old 10-minute deadline does not fire a second reminder.
        await kit.advanceTo(row, start + 11 * MINUTE);
        assert.equal((await kit.outbound(row, 'reminder')).length, 1);
      });
    });

    it('a reminder wait shortened below the time already waited fires at once (W 10 → 2 min after 3 min)', async () => {
      const pn = await kit.numberWith({ reminder: { enabled: true, waitMinutes: 10, message: REMINDER } });
      const contact = freshContact('r12-overdue');
      await kit.run(async () => {
        const row = await assignedConversation(contact, pn, `agent-${pn}`);
        const start = await reminderStart(row);
        await kit.advanceTo(row, start + 3 * MINUTE);
        await kit.changeSettings(row, { reminder: { enabled: true, waitMinutes: 2, message: REMINDER } });
        const [reminder] = await kit.waitForAutomation(row, 'reminder');
        assert.equal(reminder.status, 'accepted');
        assert.ok((await harness.now()) - start < 3 * MINUTE + 10 * SECOND, 'sent on the save, without waiting for time to pass');
      });
    });

    it('a longer reminder wait postpones the reminder (W 5 → 10 min after 3 min)', async () => {
      const pn = await kit.numberWith({ reminder: { enabled: true, waitMinutes: 5, message: REMINDER } });
      const contact = freshContact('r12-longer');
      await kit.run(async () => {
        const row = await assignedConversation(contact, pn, `agent-${pn}`);
        const start = await reminderStart(row);
        await kit.advanceTo(row, start + 3 * MINUTE);
        await kit.changeSettings(row, { reminder: { enabled: true, waitMinutes: 10, message: REMINDER } });
        await kit.advanceTo(row, start + 10 * MINUTE - SECOND);
        assert.deepEqual(await kit.outbound(row, 'reminder'), []);
        await kit.advanceTo(row, start + 10 * MINUTE);
        await kit.waitForAutomation(row, 'reminder');
      });
    });

    it('a shorter auto-close time closes at the new T from the agent reply (T 10 → 5 min after 3 min)', async () => {
      const pn = await kit.numberWith({ autoClose: { enabled: true, afterMinutes: 10 } });
      const contact = freshContact('r12-autoclose');
      await kit.run(async () => {
        const agent = `agent-${pn}`;
        const row = await assignedConversation(contact, pn, agent);
        await kit.agentReplies(row, agent);
        const start = await autoCloseStart(row);
        await kit.advanceTo(row, start + 3 * MINUTE);
        await kit.changeSettings(row, { autoClose: { enabled: true, afterMinutes: 5 } });
        await kit.advanceTo(row, start + 5 * MINUTE - SECOND);
        assert.equal((await kit.reload(row)).status, 'assigned');
        await kit.advanceTo(row, start + 5 * MINUTE);
        const closed = await kit.conversationIn(contact, pn, 'closed');
        assert.equal(closed.close_reason, 'auto_close');
      });
    });

    it('an auto-close time shortened below the time already waited closes at once (T 10 → 2 min after 3 min)', async () => {
      const pn = await kit.numberWith({ autoClose: { enabled: true, afterMinutes: 10 } });
      const contact = freshContact('r12-autoclose-overdue');
      await kit.run(async () => {
        const agent = `agent-${pn}`;
        const row = await assignedConversation(contact, pn, agent);
        await kit.agentReplies(row, agent);
        const start = await autoCloseStart(row);
        await kit.advanceTo(row, start + 3 * MINUTE);
        await kit.changeSettings(row, { autoClose: { enabled: true, afterMinutes: 2 } });
        const closed = await kit.conversationIn(contact, pn, 'closed');
        assert.equal(closed.close_reason, 'auto_close');
        assert.ok((await harness.now()) - start < 3 * MINUTE + 10 * SECOND);
      });
    });

    it('a shorter unassigned-reply delay counts from the same entry (60 → 20 s after 10 s)', async () => {
      const pn = await kit.numberWith({ unassignedReply: { enabled: true, delaySeconds: 60, message: UNASSIGNED } });
      const contact = freshContact('r12-delay');
      await kit.run(async () => {
        await kit.customerSays(contact, pn);
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        const enteredAt = (await kit.state(row))!.unassignedReplyOwedSince!;
        await kit.advanceTo(row, enteredAt + 10 * SECOND);
        await kit.changeSettings(row, { unassignedReply: { enabled: true, delaySeconds: 20, message: UNASSIGNED } });
        await kit.advanceTo(row, enteredAt + 19 * SECOND);
        assert.deepEqual(await kit.outbound(row, 'unassigned_reply'), []);
        await kit.advanceTo(row, enteredAt + 20 * SECOND);
        assert.equal((await kit.waitForAutomation(row, 'unassigned_reply'))[0].status, 'accepted');
      });
    });

    it('disabling the reminder stops its pending timer', async () => {
      const pn = await kit.numberWith({ reminder: { enabled: true, waitMinutes: 5, message: REMINDER } });
      const contact = freshContact('r12-reminder-off');
      await kit.run(async () => {
        const row = await assignedConversation(contact, pn, `agent-${pn}`);
        const start = await reminderStart(row);
        await kit.advanceTo(row, start + 3 * MINUTE);
        await kit.changeSettings(row, { reminder: { enabled: false, waitMinutes: 5, message: REMINDER } });
        await kit.advanceTo(row, start + 2 * HOUR);
        assert.deepEqual(await kit.outbound(row, 'reminder'), []);
        assert.deepEqual(kit.sentTo(contact), []);
      });
    });

    it('disabling auto-close stops its pending timer', async () => {
      const pn = await kit.numberWith({ autoClose: { enabled: true, afterMinutes: 5 } });
      const contact = freshContact('r12-autoclose-off');
      await kit.run(async () => {
        const agent = `agent-${pn}`;
        const row = await assignedConversation(contact, pn, agent);
        await kit.agentReplies(row, agent);
        const start = await autoCloseStart(row);
        await kit.advanceTo(row, start + 3 * MINUTE);
        await kit.changeSettings(row, { autoClose: { enabled: false, afterMinutes: 5 } });
        await kit.advanceTo(row, start + 2 * HOUR);
        assert.equal((await kit.reload(row)).status, 'assigned');
      });
    });

    it('disabling the unassigned reply during its delay stops it', async () => {
      const pn = await kit.numberWith({ unassignedReply: { enabled: true, delaySeconds: 60, message: UNASSIGNED } });
      const contact = freshContact('r12-unassigned-off');
      await kit.run(async () => {
        await kit.customerSays(contact, pn);
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        const enteredAt = (await kit.state(row))!.unassignedReplyOwedSince!;
        await kit.advanceTo(row, enteredAt + 30 * SECOND);
        await kit.changeSettings(row, { unassignedReply: { enabled: false, delaySeconds: 60, message: UNASSIGNED } });
        await kit.advanceTo(row, enteredAt + 10 * MINUTE);
        assert.deepEqual(await kit.outbound(row, 'unassigned_reply'), []);
        assert.deepEqual(kit.sentTo(contact), []);
      });
    });

    it('enabling the unassigned reply later sends nothing for a conversation that entered unassigned while it was off', async () => {
      const pn = await kit.numberWith({ unassignedReply: { enabled: false, delaySeconds: 0, message: UNASSIGNED } });
      const contact = freshContact('r12-unassigned-on');
      await kit.run(async () => {
        await kit.customerSays(contact, pn);
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        await kit.advance(row, 5 * MINUTE);
        await kit.changeSettings(row, { unassignedReply: { enabled: true, delaySeconds: 0, message: UNASSIGNED } });
        await kit.advance(row, 10 * MINUTE);
        assert.deepEqual(await kit.outbound(row, 'unassigned_reply'), [], 'R4 is owed only when the conversation enters unassigned with it on');
        assert.deepEqual(kit.sentTo(contact), []);
      });
    });
  });
});
