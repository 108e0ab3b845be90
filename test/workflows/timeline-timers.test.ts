/**
 * The timeline's timer entries (SPEC §6: "timer armed, re-armed, cancelled or fired"), on
 * the time-skipping server: each change is written once, by the rules, in the order it was
 * decided, with the deadline the workflow used.
 */
import assert from 'node:assert/strict';
import { MINUTE, SECOND, freshContact, text, type ConversationRow, type SettingsPatch, useRulesHarness } from './rules-helpers';

interface TimelineRow {
  kind: string;
  actor: { type: string };
  details: { rule?: string; dueAt?: string; previousDueAt?: string; automation?: string };
  at: Date;
}

describe('Timer entries in the conversation timeline (time-skipping server)', () => {
  const { harness, kit } = useRulesHarness();

  const unassignedReplyAfter = (delaySeconds: number): SettingsPatch => ({
    unassignedReply: { enabled: true, delaySeconds, message: text('We will be right with you.') },
  });

  async function timeline(row: ConversationRow): Promise<TimelineRow[]> {
    return harness.db('conversation_timeline').where({ conversation_id: row.id }).orderBy('id');
  }

  const timerEntries = async (row: ConversationRow) =>
    (await timeline(row)).filter((e) => e.kind.startsWith('timer_')).map((e) => `${e.kind} ${e.details.rule}`);

  it('when an unassigned reply is due, then the timeline says armed, then fired before the message it sent, by the automation', async () => {
    await kit.run(async () => {
      const pn = await kit.numberWith(unassignedReplyAfter(30));
      const contact = freshContact('timeline-fired');
      await kit.customerSays(contact, pn, 'Hello');
      const row = await kit.conversationIn(contact, pn, 'unassigned');
      await kit.settle(row);
      const owedSince = (await kit.state(row))!.unassignedReplyOwedSince!;
      const [armed] = (await timeline(row)).filter((e) => e.kind === 'timer_armed');
      assert.ok(armed, 'an armed entry');
      assert.equal(armed.details.rule, 'unassigned_reply');
      assert.equal(Date.parse(armed.details.dueAt!), owedSince + 30 * SECOND, 'the deadline the workflow armed');
      assert.deepEqual(armed.actor, { type: 'automation' });

      await kit.advanceTo(row, owedSince + 30 * SECOND);
      await kit.waitForAutomation(row, 'unassigned_reply');
      await kit.settle(row);
      const kinds = (await timeline(row)).map((e) => e.kind);
      assert.deepEqual(await timerEntries(row), ['timer_armed unassigned_reply', 'timer_fired unassigned_reply']);
      assert.ok(kinds.indexOf('timer_fired') < kinds.indexOf('automated_message_sent'), `fired before sent: ${kinds.join(', ')}`);
      assert.ok(kinds.indexOf('message_received') < kinds.indexOf('timer_armed'), `armed after the message that armed it: ${kinds.join(', ')}`);
    });
  });

  it('when an agent claims before the delay, then the unassigned reply timer is cancelled, not fired, and nothing is sent', async () => {
    await kit.run(async () => {
      const pn = await kit.numberWith(unassignedReplyAfter(60));
      const agent = await kit.addAgent(`agent-${pn}`, pn, 5, 'offline');
      const contact = freshContact('timeline-cancelled');
      await kit.customerSays(contact, pn, 'Hello');
      const row = await kit.conversationIn(contact, pn, 'unassigned');
      await kit.settle(row);
      assert.equal((await kit.claim(row, agent)).ok, true);
      await kit.settle(row);
      await kit.advance(row, 2 * MINUTE);
      assert.deepEqual(await timerEntries(row), ['timer_armed unassigned_reply', 'timer_cancelled unassigned_reply']);
      assert.equal((await kit.outbound(row, 'unassigned_reply')).length, 0);
    });
  });

  it('when the delay is changed while the timer is armed (R12), then it is re-armed from the same start, with the old and new deadlines', async () => {
    await kit.run(async () => {
      const pn = await kit.numberWith(unassignedReplyAfter(600));
      const contact = freshContact('timeline-rearmed');
      await kit.customerSays(contact, pn, 'Hello');
      const row = await kit.conversationIn(contact, pn, 'unassigned');
      await kit.settle(row);
      const owedSince = (await kit.state(row))!.unassignedReplyOwedSince!;
      await kit.changeSettings(row, unassignedReplyAfter(120));
      const rearmed = (await timeline(row)).find((e) => e.kind === 'timer_rearmed');
      assert.ok(rearmed, 'a re-armed entry');
      assert.equal(Date.parse(rearmed.details.previousDueAt!), owedSince + 600 * SECOND);
      assert.equal(Date.parse(rearmed.details.dueAt!), owedSince + 120 * SECOND);
      await kit.advanceTo(row, owedSince + 120 * SECOND);
      await kit.waitForAutomation(row, 'unassigned_reply');
      await kit.settle(row);
      assert.deepEqual(await timerEntries(row), ['timer_armed unassigned_reply', 'timer_rearmed unassigned_reply', 'timer_fired unassigned_reply']);
    });
  });

  it('when the conversation is closed with a timer armed, then the timer is cancelled before the close, once', async () => {
    await kit.run(async () => {
      const pn = await kit.numberWith(unassignedReplyAfter(600));
      const contact = freshContact('timeline-close');
      await kit.customerSays(contact, pn, 'Hello');
      const row = await kit.conversationIn(contact, pn, 'unassigned');
      await kit.settle(row);
      await kit.close(row);
      await kit.settle(row);
      const kinds = (await timeline(row)).map((e) => e.kind);
      assert.deepEqual(await timerEntries(row), ['timer_armed unassigned_reply', 'timer_cancelled unassigned_reply']);
      assert.ok(kinds.indexOf('timer_cancelled') < kinds.indexOf('closed'), `cancelled before closed: ${kinds.join(', ')}`);
    });
  });
});
