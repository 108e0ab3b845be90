/**
 * R7 reminder and R9 auto-close at their edges, on the time-skipping server: exact
 * deadlines, what starts and ends each count, and the states in which they never fire.
 */
import assert from 'node:assert/strict';
import { createConversationHarness, type ConversationHarness } from '../support/conversation-harness';
import { HOUR, MINUTE, SECOND, freshContact, rulesKit, text, type ConversationRow, type RulesKit, type SettingsPatch } from './rules-helpers';

const REMINDER = text('Thanks for waiting! An agent will be with you in a moment.');

describe('R7 reminder and R9 auto-close (time-skipping server)', () => {
  let h: ConversationHarness;
  let k: RulesKit;
  before(async () => {
    h = await createConversationHarness();
    k = rulesKit(h);
  });
  after(async () => h?.close());

  const reminderAfter = (waitMinutes: number): SettingsPatch => ({ reminder: { enabled: true, waitMinutes, message: REMINDER } });
  const autoCloseAfter = (afterMinutes: number): SettingsPatch => ({ autoClose: { enabled: true, afterMinutes } });

  /** A number with `patch` and one online agent with room, and a contact whose first message is assigned to them. */
  async function assignedConversation(label: string, patch: SettingsPatch): Promise<{ pn: string; agent: string; contact: string; row: ConversationRow }> {
    const pn = await k.numberWith(patch);
    const agent = await k.addAgent(`agent-${pn}`, pn);
    const contact = freshContact(label);
    await k.customerSays(contact, pn, 'Where is my order?');
    const row = await k.conversationIn(contact, pn, 'assigned');
    await k.settle(row);
    return { pn, agent, contact, row };
  }

  /** R7: W counts from the stretch's first customer message, or from the assignment if later. */
  async function reminderStart(row: ConversationRow): Promise<number> {
    const state = (await k.state(row))!;
    assert.ok(state.unansweredSince !== null && state.assignedAt !== null, 'an unanswered stretch in an assigned conversation');
    return Math.max(state.unansweredSince, state.assignedAt);
  }

  /** R9: T counts from the agent reply that is the last message. */
  async function agentReplyAt(row: ConversationRow): Promise<number> {
    const at = (await k.state(row))!.lastAgentReplyAwaitingCustomer;
    assert.ok(at !== null, 'an agent reply awaiting the customer');
    return at;
  }

  async function reminders(row: ConversationRow): Promise<number> {
    return (await k.outbound(row, 'reminder')).length;
  }

  describe('R7 reminder', () => {
    it('sent exactly W after the unanswered message: not 1 s before, at W', async () => {
      await k.run(async () => {
        const { row, contact } = await assignedConversation('r7-exact', reminderAfter(5));
        const start = await reminderStart(row);
        await k.advanceTo(row, start + 5 * MINUTE - SECOND);
        assert.equal(await reminders(row), 0);
        await k.advanceTo(row, start + 5 * MINUTE);
        const [reminder] = await k.waitForAutomation(row, 'reminder');
        assert.equal(reminder.status, 'accepted');
        assert.deepEqual(reminder.content, REMINDER);
        assert.deepEqual(k.sentTo(contact), [{ messaging_product: 'whatsapp', recipient_type: 'individual', recipient: contact, ...REMINDER }]);
      });
    });

    it('counts from the first unanswered message: a second message does not push it back, nor send another', async () => {
      await k.run(async () => {
        const { row, pn, contact } = await assignedConversation('r7-stretch', reminderAfter(5));
        const start = await reminderStart(row);
        await k.advanceTo(row, start + 2 * MINUTE);
        await k.customerSays(contact, pn, 'Hello??');
        await k.settle(row);
        await k.advanceTo(row, start + 5 * MINUTE);
        await k.waitForAutomation(row, 'reminder');
        await k.customerSays(contact, pn, 'Anyone?');
        await k.advanceTo(row, start + 2 * HOUR);
        assert.equal(await reminders(row), 1, 'once per unanswered stretch');
      });
    });

    it('an agent reply ends the stretch; the next customer message starts a new one that can remind again', async () => {
      await k.run(async () => {
        const { row, pn, agent, contact } = await assignedConversation('r7-new-stretch', reminderAfter(1));
        await k.advanceTo(row, (await reminderStart(row)) + MINUTE);
        await k.waitForAutomation(row, 'reminder');
        await k.agentReplies(row, agent, 'Sorry for the wait!');
        await k.advance(row, 10 * MINUTE);
        assert.equal(await reminders(row), 1, 'an answered customer is not reminded');

        await k.customerSays(contact, pn, 'One more question');
        await k.settle(row);
        const secondStart = await reminderStart(row);
        await k.advanceTo(row, secondStart + MINUTE - SECOND);
        assert.equal(await reminders(row), 1);
        await k.advanceTo(row, secondStart + MINUTE);
        assert.equal((await k.waitForAutomation(row, 'reminder', 2)).length, 2);
      });
    });

    it('an agent assigned later gets the full W from the assignment', async () => {
      const pn = await k.numberWith(reminderAfter(5));
      const agent = await k.addAgent(`agent-${pn}`, pn, 5, 'offline');
      const contact = freshContact('r7-late-agent');
      await k.run(async () => {
        await k.customerSays(contact, pn);
        const row = await k.conversationIn(contact, pn, 'unassigned');
        const firstMessage = (await k.state(row))!.unansweredSince!;
        await k.advanceTo(row, firstMessage + 3 * MINUTE);
        assert.deepEqual(await k.claim(row, agent), { ok: true, status: 'assigned' });
        await k.settle(row);
        const assignedAt = (await k.state(row))!.assignedAt!;
        assert.ok(assignedAt >= firstMessage + 3 * MINUTE);

        // W from the first message would be at +5 min: the agent has had only 2 minutes.
        await k.advanceTo(row, assignedAt + 5 * MINUTE - SECOND);
        assert.equal(await reminders(row), 0);
        await k.advanceTo(row, assignedAt + 5 * MINUTE);
        assert.equal((await k.waitForAutomation(row, 'reminder'))[0].status, 'accepted');
      });
    });

    it('a conversation drained from the queue gives its agent the full W from that moment', async () => {
      const pn = await k.numberWith(reminderAfter(5));
      const agent = await k.addAgent(`agent-${pn}`, pn, 1);
      const first = freshContact('r7-drain-first');
      const contact = freshContact('r7-drained');
      await k.run(async () => {
        await k.customerSays(first, pn);
        const held = await k.conversationIn(first, pn, 'assigned');
        await k.customerSays(contact, pn, 'Is anyone there?');
        const row = await k.conversationIn(contact, pn, 'queued');
        const waitingSince = (await k.state(row))!.unansweredSince!;
        await k.advanceTo(row, waitingSince + 4 * MINUTE);
        await k.agentReplies(held, agent);
        await k.close(held, agent);

        await k.conversationIn(contact, pn, 'assigned');
        await k.settle(row);
        const assignedAt = (await k.state(row))!.assignedAt!;
        assert.ok(assignedAt >= waitingSince + 4 * MINUTE);
        await k.advanceTo(row, assignedAt + 5 * MINUTE - SECOND);
        assert.equal(await reminders(row), 0, 'not at 5 minutes after the customer wrote');
        await k.advanceTo(row, assignedAt + 5 * MINUTE);
        await k.waitForAutomation(row, 'reminder');
      });
    });

    it('a transfer to another agent gives the new agent the full W', async () => {
      await k.run(async () => {
        const { row, pn } = await assignedConversation('r7-transfer', reminderAfter(5));
        const start = await reminderStart(row);
        const colleague = await k.addAgent(`colleague-${pn}`, pn);
        await k.advanceTo(row, start + 3 * MINUTE);
        assert.deepEqual(await k.transfer(row, colleague), { ok: true, status: 'assigned' });
        await k.settle(row);
        const transferredAt = (await k.state(row))!.assignedAt!;
        await k.advanceTo(row, transferredAt + 5 * MINUTE - SECOND);
        assert.equal(await reminders(row), 0);
        await k.advanceTo(row, transferredAt + 5 * MINUTE);
        const [reminder] = await k.waitForAutomation(row, 'reminder');
        assert.equal(reminder.agent_id, colleague);
      });
    });

    it('disabled: never sent', async () => {
      await k.run(async () => {
        const { row, contact } = await assignedConversation('r7-off', { reminder: { enabled: false, waitMinutes: 1, message: REMINDER } });
        await k.advance(row, 3 * HOUR);
        assert.equal(await reminders(row), 0);
        assert.deepEqual(k.sentTo(contact), []);
      });
    });

    it('never for an unassigned conversation', async () => {
      const pn = await k.numberWith(reminderAfter(1));
      const contact = freshContact('r7-unassigned');
      await k.run(async () => {
        await k.customerSays(contact, pn);
        const row = await k.conversationIn(contact, pn, 'unassigned');
        await k.customerSays(contact, pn, 'Hello?');
        await k.advance(row, 3 * HOUR);
        assert.equal(await reminders(row), 0);
        assert.deepEqual(k.sentTo(contact), []);
      });
    });

    it('never for a queued conversation', async () => {
      const pn = await k.numberWith(reminderAfter(1));
      await k.addAgent(`agent-${pn}`, pn, 1);
      const first = freshContact('r7-queue-first');
      const contact = freshContact('r7-queued');
      await k.run(async () => {
        await k.customerSays(first, pn);
        const held = await k.conversationIn(first, pn, 'assigned');
        await k.customerSays(contact, pn);
        const row = await k.conversationIn(contact, pn, 'queued');
        await k.advance(row, 3 * HOUR);
        assert.equal(await reminders(row), 0);
        assert.deepEqual(k.sentTo(contact), []);
        assert.equal(await reminders(held), 1, 'the assigned conversation next to it was reminded');
      });
    });
  });

  describe('R9 auto-close', () => {
    it('T = 1 minute: still open at 59 s after the agent reply, closed at 1 minute', async () => {
      await k.run(async () => {
        const { row, agent, contact, pn } = await assignedConversation('r9-minute', autoCloseAfter(1));
        await k.agentReplies(row, agent, 'Your order ships today.');
        const replied = await agentReplyAt(row);
        await k.advanceTo(row, replied + 59 * SECOND);
        assert.equal((await k.reload(row)).status, 'assigned');
        await k.advanceTo(row, replied + MINUTE);
        const closed = await k.conversationIn(contact, pn, 'closed');
        assert.equal(closed.close_reason, 'auto_close');
        assert.equal(closed.agent_id, agent);
      });
    });

    it('T = 72 hours: open 1 s before, closed at 72 h', async () => {
      await k.run(async () => {
        const { row, agent, contact, pn } = await assignedConversation('r9-72h', autoCloseAfter(72 * 60));
        await k.agentReplies(row, agent);
        const replied = await agentReplyAt(row);
        await k.advanceTo(row, replied + 72 * HOUR - SECOND);
        assert.equal((await k.reload(row)).status, 'assigned');
        await k.advanceTo(row, replied + 72 * HOUR);
        assert.equal((await k.conversationIn(contact, pn, 'closed')).close_reason, 'auto_close');
      });
    });

    it('a customer reply cancels it; the next agent reply re-arms it from that reply', async () => {
      await k.run(async () => {
        const { row, agent, contact, pn } = await assignedConversation('r9-cancel', autoCloseAfter(1));
        await k.agentReplies(row, agent);
        const firstReply = await agentReplyAt(row);
        await k.advanceTo(row, firstReply + 30 * SECOND);
        await k.customerSays(contact, pn, 'Thanks, one more thing');
        await k.settle(row);
        await k.advanceTo(row, firstReply + 30 * MINUTE);
        assert.equal((await k.reload(row)).status, 'assigned', 'the customer answered: nothing to close');

        await k.agentReplies(row, agent, 'Sure, go ahead');
        const secondReply = await agentReplyAt(row);
        await k.advanceTo(row, secondReply + 59 * SECOND);
        assert.equal((await k.reload(row)).status, 'assigned');
        await k.advanceTo(row, secondReply + MINUTE);
        assert.equal((await k.conversationIn(contact, pn, 'closed')).close_reason, 'auto_close');
      });
    });

    it('only when the last message, automated ones aside, is the agent\'s: a reminder after the customer\'s message does not count', async () => {
      await k.run(async () => {
        const { row } = await assignedConversation('r9-last-is-customer', { ...autoCloseAfter(1), ...reminderAfter(1) });
        await k.advance(row, 3 * HOUR);
        assert.equal(await reminders(row), 1, 'the reminder (automated) was the last message');
        assert.equal((await k.reload(row)).status, 'assigned');
      });
    });

    it('never for an unassigned conversation', async () => {
      const pn = await k.numberWith(autoCloseAfter(1));
      const contact = freshContact('r9-unassigned');
      await k.run(async () => {
        await k.customerSays(contact, pn);
        const row = await k.conversationIn(contact, pn, 'unassigned');
        await k.advance(row, 3 * HOUR);
        assert.equal((await k.reload(row)).status, 'unassigned');
      });
    });

    it('never for a queued conversation', async () => {
      const pn = await k.numberWith(autoCloseAfter(1));
      await k.addAgent(`agent-${pn}`, pn, 1);
      const first = freshContact('r9-queue-first');
      const contact = freshContact('r9-queued');
      await k.run(async () => {
        await k.customerSays(first, pn);
        await k.conversationIn(first, pn, 'assigned');
        await k.customerSays(contact, pn);
        const row = await k.conversationIn(contact, pn, 'queued');
        await k.advance(row, 3 * HOUR);
        assert.equal((await k.reload(row)).status, 'queued');
      });
    });

    it('a queued conversation drained to the agent after an auto-close is counted afresh (nothing armed until its agent replies)', async () => {
      const pn = await k.numberWith(autoCloseAfter(1));
      const agent = await k.addAgent(`agent-${pn}`, pn, 1);
      const first = freshContact('r9-drain-first');
      const contact = freshContact('r9-drained');
      await k.run(async () => {
        await k.customerSays(first, pn);
        const held = await k.conversationIn(first, pn, 'assigned');
        await k.customerSays(contact, pn);
        const queued = await k.conversationIn(contact, pn, 'queued');
        await k.agentReplies(held, agent);
        await k.advanceTo(held, (await agentReplyAt(held)) + MINUTE);
        assert.equal((await k.conversationIn(first, pn, 'closed')).close_reason, 'auto_close');

        // R6: the freed capacity takes the queued conversation; R9 waits for an agent reply there.
        const drained = await k.conversationIn(contact, pn, 'assigned');
        assert.equal(drained.agent_id, agent);
        await k.advance(queued, 3 * HOUR);
        assert.equal((await k.reload(queued)).status, 'assigned');
      });
    });
  });
});
