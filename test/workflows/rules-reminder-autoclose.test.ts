/**
 * R7 reminder and R9 auto-close at their edges, on the time-skipping server: exact
 * deadlines, what starts and ends each count, and the states in which they never fire.
 */
import assert from 'node:assert/strict';
import { HOUR, MINUTE, SECOND, freshContact, text, type ConversationRow, type SettingsPatch, useRulesHarness } from './rules-helpers';

const REMINDER = text('Thanks for waiting! An agent will be with you in a moment.');

describe('R7 reminder and R9 auto-close (time-skipping server)', () => {
  const { kit } = useRulesHarness();

  const reminderAfter = (waitMinutes: number): SettingsPatch => ({ reminder: { enabled: true, waitMinutes, message: REMINDER } });
  const autoCloseAfter = (afterMinutes: number): SettingsPatch => ({ autoClose: { enabled: true, afterMinutes } });

  /** A number with `patch` and one online agent with room, and a contact whose first message is assigned to them. */
  async function assignedConversation(
    label: string,
    patch: SettingsPatch,
  ): Promise<{ pn: string; agent: string; contact: string; row: ConversationRow }> {
    const pn = await kit.numberWith(patch);
    const agent = await kit.addAgent(`agent-${pn}`, pn);
    const contact = freshContact(label);
    await kit.customerSays(contact, pn, 'Where is my order?');
    const row = await kit.conversationIn(contact, pn, 'assigned');
    await kit.settle(row);
    return { pn, agent, contact, row };
  }

  /** R7: W counts from the stretch's first customer message, or from the assignment if later. */
  async function reminderStart(row: ConversationRow): Promise<number> {
    const state = (await kit.state(row))!;
    assert.ok(state.unansweredSince !== null && state.assignedAt !== null, 'an unanswered stretch in an assigned conversation');
    return Math.max(state.unansweredSince, state.assignedAt);
  }

  /** R9: T counts from the agent reply that is the last message. */
  async function agentReplyAt(row: ConversationRow): Promise<number> {
    const at = (await kit.state(row))!.lastAgentReplyAwaitingCustomer;
    assert.ok(at !== null, 'an agent reply awaiting the customer');
    return at;
  }

  async function reminders(row: ConversationRow): Promise<number> {
    return (await kit.outbound(row, 'reminder')).length;
  }

  describe('R7 reminder', () => {
    it('sent exactly W after the unanswered message: not 1 s before, at W', async () => {
      await kit.run(async () => {
        const { row, contact } = await assignedConversation('r7-exact', reminderAfter(5));
        const start = await reminderStart(row);
        await kit.advanceTo(row, start + 5 * MINUTE - SECOND);
        assert.equal(await reminders(row), 0);
        await kit.advanceTo(row, start + 5 * MINUTE);
        const [reminder] = await kit.waitForAutomation(row, 'reminder');
        assert.equal(reminder.status, 'accepted');
        assert.deepEqual(reminder.content, REMINDER);
        assert.deepEqual(kit.sentTo(contact), [{ messaging_product: 'whatsapp', recipient_type: 'individual', recipient: contact, ...REMINDER }]);
      });
    });

    it('counts from the first unanswered message: a second message does not push it back, nor send another', async () => {
      await kit.run(async () => {
        const { row, pn, contact } = await assignedConversation('r7-stretch', reminderAfter(5));
        const start = await reminderStart(row);
        await kit.advanceTo(row, start + 2 * MINUTE);
        await kit.customerSays(contact, pn, 'Hello??');
        await kit.settle(row);
        await kit.advanceTo(row, start + 5 * MINUTE);
        await kit.waitForAutomation(row, 'reminder');
        await kit.customerSays(contact, pn, 'Anyone?');
        await kit.advanceTo(row, start + 2 * HOUR);
        assert.equal(await reminders(row), 1, 'once per unanswered stretch');
      });
    });

    it('an agent reply ends the stretch; the next customer message starts a new one that can remind again', async () => {
      await kit.run(async () => {
        const { row, pn, agent, contact } = await assignedConversation('r7-new-stretch', reminderAfter(1));
        await kit.advanceTo(row, (await reminderStart(row)) + MINUTE);
        await kit.waitForAutomation(row, 'reminder');
        await kit.agentReplies(row, agent, 'Sorry for the wait!');
        await kit.advance(row, 10 * MINUTE);
        assert.equal(await reminders(row), 1, 'an answered customer is not reminded');

        await kit.customerSays(contact, pn, 'One more question');
        await kit.settle(row);
        const secondStart = await reminderStart(row);
        await kit.advanceTo(row, secondStart + MINUTE - SECOND);
        assert.equal(await reminders(row), 1);
        await kit.advanceTo(row, secondStart + MINUTE);
        assert.equal((await kit.waitForAutomation(row, 'reminder', 2)).length, 2);
      });
    });

    it('an agent assigned later gets the full W from the assignment', async () => {
      const pn = await kit.numberWith(reminderAfter(5));
      const agent = await kit.addAgent(`agent-${pn}`, pn, 5, 'offline');
      const contact = freshContact('r7-late-agent');
      await kit.run(async () => {
        await kit.customerSays(contact, pn);
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        const firstMessage = (await kit.state(row))!.unansweredSince!;
        await kit.advanceTo(row, firstMessage + 3 * MINUTE);
        assert.deepEqual(await kit.claim(row, agent), { ok: true, status: 'assigned' });
        await kit.settle(row);
        const assignedAt = (await kit.state(row))!.assignedAt!;
        assert.ok(assignedAt >= firstMessage + 3 * MINUTE);

        // W from the first message would be at +5 min: the agent has had only 2 minutes.
        await kit.advanceTo(row, assignedAt + 5 * MINUTE - SECOND);
        assert.equal(await reminders(row), 0);
        await kit.advanceTo(row, assignedAt + 5 * MINUTE);
        assert.equal((await kit.waitForAutomation(row, 'reminder'))[0].status, 'accepted');
      });
    });

    it('a conversation drained from the queue gives its agent the full W from that moment', async () => {
      const pn = await kit.numberWith(reminderAfter(5));
      const agent = await kit.addAgent(`agent-${pn}`, pn, 1);
      const first = freshContact('r7-drain-first');
      const contact = freshContact('r7-drained');
      await kit.run(async () => {
        await kit.customerSays(first, pn);
        const held = await kit.conversationIn(first, pn, 'assigned');
        await kit.customerSays(contact, pn, 'Is anyone there?');
        const row = await kit.conversationIn(contact, pn, 'queued');
        const waitingSince = (await kit.state(row))!.unansweredSince!;
        await kit.advanceTo(row, waitingSince + 4 * MINUTE);
        await kit.agentReplies(held, agent);
        await kit.close(held, agent);

        await kit.conversationIn(contact, pn, 'assigned');
        await kit.settle(row);
        const assignedAt = (await kit.state(row))!.assignedAt!;
        assert.ok(assignedAt >= waitingSince + 4 * MINUTE);
        await kit.advanceTo(row, assignedAt + 5 * MINUTE - SECOND);
        assert.equal(await reminders(row), 0, 'not at 5 minutes after the customer wrote');
        await kit.advanceTo(row, assignedAt + 5 * MINUTE);
        await kit.waitForAutomation(row, 'reminder');
      });
    });

    it('a transfer to another agent gives the new agent the full W', async () => {
      await kit.run(async () => {
        const { row, pn } = await assignedConversation('r7-transfer', reminderAfter(5));
        const start = await reminderStart(row);
        const colleague = await kit.addAgent(`colleague-${pn}`, pn);
        await kit.advanceTo(row, start + 3 * MINUTE);
        assert.deepEqual(await kit.transfer(row, colleague), { ok: true, status: 'assigned' });
        await kit.settle(row);
        const transferredAt = (await kit.state(row))!.assignedAt!;
        await kit.advanceTo(row, transferredAt + 5 * MINUTE - SECOND);
        assert.equal(await reminders(row), 0);
        await kit.advanceTo(row, transferredAt + 5 * MINUTE);
        const [reminder] = await kit.waitForAutomation(row, 'reminder');
        assert.equal(reminder.agent_id, colleague);
      });
    });

    it('disabled: never sent', async () => {
      await kit.run(async () => {
        const { row, contact } = await assignedConversation('r7-off', { reminder: { enabled: false, waitMinutes: 1, message: REMINDER } });
        await kit.advance(row, 3 * HOUR);
        assert.equal(await reminders(row), 0);
        assert.deepEqual(kit.sentTo(contact), []);
      });
    });

    it('never for an unassigned conversation', async () => {
      const pn = await kit.numberWith(reminderAfter(1));
      const contact = freshContact('r7-unassigned');
      await kit.run(async () => {
        await kit.customerSays(contact, pn);
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        await kit.customerSays(contact, pn, 'Hello?');
        await kit.advance(row, 3 * HOUR);
        assert.equal(await reminders(row), 0);
        assert.deepEqual(kit.sentTo(contact), []);
      });
    });

    it('never for a queued conversation', async () => {
      const pn = await kit.numberWith(reminderAfter(1));
      await kit.addAgent(`agent-${pn}`, pn, 1);
      const first = freshContact('r7-queue-first');
      const contact = freshContact('r7-queued');
      await kit.run(async () => {
        await kit.customerSays(first, pn);
        const held = await kit.conversationIn(first, pn, 'assigned');
        await kit.customerSays(contact, pn);
        const row = await kit.conversationIn(contact, pn, 'queued');
        await kit.advance(row, 3 * HOUR);
        assert.equal(await reminders(row), 0);
        assert.deepEqual(kit.sentTo(contact), []);
        assert.equal(await reminders(held), 1, 'the assigned conversation next to it was reminded');
      });
    });
  });

  describe('R9 auto-close', () => {
    it('T = 1 minute: still open at 59 s after the agent reply, closed at 1 minute', async () => {
      await kit.run(async () => {
        const { row, agent, contact, pn } = await assignedConversation('r9-minute', autoCloseAfter(1));
        await kit.agentReplies(row, agent, 'Your order ships today.');
        const replied = await agentReplyAt(row);
        await kit.advanceTo(row, replied + 59 * SECOND);
        assert.equal((await kit.reload(row)).status, 'assigned');
        await kit.advanceTo(row, replied + MINUTE);
        const closed = await kit.conversationIn(contact, pn, 'closed');
        assert.equal(closed.close_reason, 'auto_close');
        assert.equal(closed.agent_id, agent);
      });
    });

    it('T = 72 hours: open 1 s before, closed at 72 h', async () => {
      await kit.run(async () => {
        const { row, agent, contact, pn } = await assignedConversation('r9-72h', autoCloseAfter(72 * 60));
        await kit.agentReplies(row, agent);
        const replied = await agentReplyAt(row);
        await kit.advanceTo(row, replied + 72 * HOUR - SECOND);
        assert.equal((await kit.reload(row)).status, 'assigned');
        await kit.advanceTo(row, replied + 72 * HOUR);
        assert.equal((await kit.conversationIn(contact, pn, 'closed')).close_reason, 'auto_close');
      });
    });

    it('a customer reply cancels it; the next agent reply re-arms it from that reply', async () => {
      await kit.run(async () => {
        const { row, agent, contact, pn } = await assignedConversation('r9-cancel', autoCloseAfter(1));
        await kit.agentReplies(row, agent);
        const firstReply = await agentReplyAt(row);
        await kit.advanceTo(row, firstReply + 30 * SECOND);
        await kit.customerSays(contact, pn, 'Thanks, one more thing');
        await kit.settle(row);
        await kit.advanceTo(row, firstReply + 30 * MINUTE);
        assert.equal((await kit.reload(row)).status, 'assigned', 'the customer answered: nothing to close');

        await kit.agentReplies(row, agent, 'Sure, go ahead');
        const secondReply = await agentReplyAt(row);
        await kit.advanceTo(row, secondReply + 59 * SECOND);
        assert.equal((await kit.reload(row)).status, 'assigned');
        await kit.advanceTo(row, secondReply + MINUTE);
        assert.equal((await kit.conversationIn(contact, pn, 'closed')).close_reason, 'auto_close');
      });
    });

    it("only when the last message, automated ones aside, is the agent's: a reminder after the customer's message does not count", async () => {
      await kit.run(async () => {
        const { row } = await assignedConversation('r9-last-is-customer', { ...autoCloseAfter(1), ...reminderAfter(1) });
        await kit.advance(row, 3 * HOUR);
        assert.equal(await reminders(row), 1, 'the reminder (automated) was the last message');
        assert.equal((await kit.reload(row)).status, 'assigned');
      });
    });

    it('never for an unassigned conversation', async () => {
      const pn = await kit.numberWith(autoCloseAfter(1));
      const contact = freshContact('r9-unassigned');
      await kit.run(async () => {
        await kit.customerSays(contact, pn);
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        await kit.advance(row, 3 * HOUR);
        assert.equal((await kit.reload(row)).status, 'unassigned');
      });
    });

    it('never for a queued conversation', async () => {
      const pn = await kit.numberWith(autoCloseAfter(1));
      await kit.addAgent(`agent-${pn}`, pn, 1);
      const first = freshContact('r9-queue-first');
      const contact = freshContact('r9-queued');
      await kit.run(async () => {
        await kit.customerSays(first, pn);
        await kit.conversationIn(first, pn, 'assigned');
        await kit.customerSays(contact, pn);
        const row = await kit.conversationIn(contact, pn, 'queued');
        await kit.advance(row, 3 * HOUR);
        assert.equal((await kit.reload(row)).status, 'queued');
      });
    });

    it('a queued conversation drained to the agent after an auto-close is counted afresh (nothing armed until its agent replies)', async () => {
      const pn = await kit.numberWith(autoCloseAfter(1));
      const agent = await kit.addAgent(`agent-${pn}`, pn, 1);
      const first = freshContact('r9-drain-first');
      const contact = freshContact('r9-drained');
      await kit.run(async () => {
        await kit.customerSays(first, pn);
        const held = await kit.conversationIn(first, pn, 'assigned');
        await kit.customerSays(contact, pn);
        const queued = await kit.conversationIn(contact, pn, 'queued');
        await kit.agentReplies(held, agent);
        await kit.advanceTo(held, (await agentReplyAt(held)) + MINUTE);
        assert.equal((await kit.conversationIn(first, pn, 'closed')).close_reason, 'auto_close');

        // R6: the freed capacity takes the queued conversation; R9 waits for an agent reply there.
        const drained = await kit.conversationIn(contact, pn, 'assigned');
        assert.equal(drained.agent_id, agent);
        await kit.advance(queued, 3 * HOUR);
        assert.equal((await kit.reload(queued)).status, 'assigned');
      });
    });
  });
});
