/**
 * R8 bot conversations and R10 satisfaction survey at their edges, on the time-skipping
 * server: the bot's 10-minute silence, handover routing, which closes are surveyed, and
 * how the customer's answer is recorded.
 */
import assert from 'node:assert/strict';
import { csatRowId } from '../../workflows/rules/conversation-machine';
import { eventually } from '../support/conversation-harness';
import { HOUR, MINUTE, SECOND, freshContact, text, type ConversationRow, type SettingsPatch, useRulesHarness } from './rules-helpers';

const UNASSIGNED = text('We are away right now; we will answer soon.');
const QUEUED = text('All agents are busy; you are in the queue.');
const SURVEY = { enabled: true, body: 'How did we do today?', buttonText: 'Rate us' };

describe('R8 bot conversations and R10 satisfaction survey (time-skipping server)', () => {
  const { harness, kit } = useRulesHarness();

  /** R8: the moment of the last exchange with the bot, from which the 10 minutes run. */
  async function botActiveAt(row: ConversationRow): Promise<number> {
    const at = (await kit.state(row))!.botActiveAt;
    assert.ok(at !== null, 'a bot conversation');
    return at;
  }

  /** A contact whose first message opened a bot conversation on a number with `patch` (routing: bot). */
  async function botConversation(label: string, patch: SettingsPatch = {}): Promise<{ pn: string; contact: string; row: ConversationRow }> {
    const pn = await kit.numberWith({ ...patch, routing: { mode: 'bot' } });
    const contact = freshContact(label);
    await kit.customerSays(contact, pn, 'Hi');
    const row = await kit.conversationIn(contact, pn, 'bot');
    await kit.settle(row);
    return { pn, contact, row };
  }

  /** An assigned conversation on a number with `patch`: one online agent with room. */
  async function assignedConversation(
    label: string,
    patch: SettingsPatch,
  ): Promise<{ pn: string; agent: string; contact: string; row: ConversationRow }> {
    const pn = await kit.numberWith(patch);
    const agent = await kit.addAgent(`agent-${pn}`, pn);
    const contact = freshContact(label);
    await kit.customerSays(contact, pn, 'My parcel is late');
    const row = await kit.conversationIn(contact, pn, 'assigned');
    return { pn, agent, contact, row };
  }

  /** The interactive list R10 prescribes, as the Graph API received it. */
  function assertIsSurvey(body: Record<string, unknown>, conversationId: string): void {
    assert.equal(body.type, 'interactive');
    assert.deepEqual(body.interactive, {
      type: 'list',
      body: { text: SURVEY.body },
      action: {
        button: SURVEY.buttonText,
        sections: [
          {
            rows: [
              { id: csatRowId(conversationId, 5), title: '5 Very satisfied' },
              { id: csatRowId(conversationId, 4), title: '4 Satisfied' },
              { id: csatRowId(conversationId, 3), title: '3 Neutral' },
              { id: csatRowId(conversationId, 2), title: '2 Dissatisfied' },
              { id: csatRowId(conversationId, 1), title: '1 Very dissatisfied' },
            ],
          },
        ],
      },
    });
  }

  /** The survey requests the contact received. */
  function surveysSentTo(contact: string): Record<string, unknown>[] {
    return kit.sentTo(contact).filter((b) => b.type === 'interactive');
  }

  describe('R8 bot conversations', () => {
    it('routing.mode bot: the conversation starts with the bot, not with a free agent, and gets no unassigned reply', async () => {
      await kit.run(async () => {
        const pn = await kit.numberWith({ routing: { mode: 'bot' }, unassignedReply: { enabled: true, delaySeconds: 0, message: UNASSIGNED } });
        await kit.addAgent(`agent-${pn}`, pn);
        const contact = freshContact('r8-start');
        await kit.customerSays(contact, pn);
        const row = await kit.conversationIn(contact, pn, 'bot');
        await kit.settle(row);
        assert.equal((await kit.reload(row)).agent_id, null);
        assert.deepEqual(await kit.outbound(row), []);
      });
    });

    it('closes after 10 minutes of customer silence; still open at 9:59', async () => {
      await kit.run(async () => {
        const { row, contact, pn } = await botConversation('r8-timeout');
        const since = await botActiveAt(row);
        await kit.advanceTo(row, since + 10 * MINUTE - SECOND);
        assert.equal((await kit.reload(row)).status, 'bot');
        await kit.advanceTo(row, since + 10 * MINUTE);
        assert.equal((await kit.conversationIn(contact, pn, 'closed')).close_reason, 'bot_timeout');
      });
    });

    it('a customer message restarts the 10 minutes', async () => {
      await kit.run(async () => {
        const { row, contact, pn } = await botConversation('r8-reset');
        const since = await botActiveAt(row);
        await kit.advanceTo(row, since + 6 * MINUTE);
        await kit.customerSays(contact, pn, 'Still here');
        await kit.settle(row);
        const again = await botActiveAt(row);
        assert.ok(again >= since + 6 * MINUTE);
        await kit.advanceTo(row, since + 10 * MINUTE);
        assert.equal((await kit.reload(row)).status, 'bot', 'the first 10 minutes no longer count');
        await kit.advanceTo(row, again + 10 * MINUTE - SECOND);
        assert.equal((await kit.reload(row)).status, 'bot');
        await kit.advanceTo(row, again + 10 * MINUTE);
        assert.equal((await kit.conversationIn(contact, pn, 'closed')).close_reason, 'bot_timeout');
      });
    });

    it('a bot reply leaves the customer 10 minutes to answer it', async () => {
      await kit.run(async () => {
        const { row, contact, pn } = await botConversation('r8-bot-reply');
        const since = await botActiveAt(row);
        await kit.advanceTo(row, since + 9 * MINUTE);
        await kit.botReplies(row, 'Which order do you mean?');
        const replied = await botActiveAt(row);
        await kit.advanceTo(row, replied + 10 * MINUTE - SECOND);
        assert.equal((await kit.reload(row)).status, 'bot');
        await kit.advanceTo(row, replied + 10 * MINUTE);
        assert.equal((await kit.conversationIn(contact, pn, 'closed')).close_reason, 'bot_timeout');
      });
    });

    describe('handover routes as R3 auto', () => {
      const replies: SettingsPatch = {
        unassignedReply: { enabled: true, delaySeconds: 0, message: UNASSIGNED },
        queueReply: { enabled: true, message: QUEUED },
      };

      it('to an online agent with room: assigned, and the bot timer is gone', async () => {
        await kit.run(async () => {
          const { row, pn, contact } = await botConversation('r8-handover-assign', replies);
          const agent = await kit.addAgent(`agent-${pn}`, pn);
          assert.deepEqual(await kit.botHandsOver(row), { ok: true, status: 'assigned' });
          const assigned = await kit.conversationIn(contact, pn, 'assigned');
          assert.equal(assigned.agent_id, agent);
          await kit.advance(row, HOUR);
          assert.equal((await kit.reload(row)).status, 'assigned', 'no bot timeout after the handover');
          assert.deepEqual(await kit.outbound(row), []);
        });
      });

      it('every online agent at their limit: queued, with the queue message', async () => {
        await kit.run(async () => {
          const { row, pn, contact } = await botConversation('r8-handover-queue', replies);
          await kit.addAgent(`agent-${pn}`, pn, 1);
          // Someone else's conversation takes the only seat (routing stays bot, so claim it).
          const other = freshContact('r8-seat');
          await kit.customerSays(other, pn);
          const seat = await kit.conversationIn(other, pn, 'bot');
          assert.equal((await kit.botHandsOver(seat)).ok, true);
          await kit.conversationIn(other, pn, 'assigned');

          assert.deepEqual(await kit.botHandsOver(row), { ok: true, status: 'queued' });
          await kit.conversationIn(contact, pn, 'queued');
          const [reply] = await kit.waitForAutomation(row, 'queue_reply');
          assert.equal(reply.status, 'accepted');
          assert.deepEqual(await kit.outbound(row, 'unassigned_reply'), []);
        });
      });

      it('no agent online: unassigned, with the unassigned reply', async () => {
        await kit.run(async () => {
          const { row, pn, contact } = await botConversation('r8-handover-nobody', replies);
          await kit.addAgent(`agent-${pn}`, pn, 5, 'offline');
          assert.deepEqual(await kit.botHandsOver(row), { ok: true, status: 'unassigned' });
          await kit.conversationIn(contact, pn, 'unassigned');
          const [reply] = await kit.waitForAutomation(row, 'unassigned_reply');
          assert.equal(reply.status, 'accepted');
          await kit.advance(row, HOUR);
          assert.equal((await kit.reload(row)).status, 'unassigned', 'no bot timeout after the handover');
        });
      });
    });

    it('bot complete closes the conversation, without a survey', async () => {
      await kit.run(async () => {
        const { row, contact, pn } = await botConversation('r8-complete', { csat: SURVEY });
        await kit.botReplies(row, 'Your order ships today. Anything else?');
        await kit.botCompletes(row);
        const closed = await kit.conversationIn(contact, pn, 'closed');
        assert.equal(closed.close_reason, 'bot_completed');
        await kit.settle(row);
        assert.deepEqual(await kit.outbound(row, 'csat'), []);
        assert.deepEqual(surveysSentTo(contact), []);
      });
    });

    it('never auto-closed by R9 and never surveyed by R10, even after the bot replied', async () => {
      await kit.run(async () => {
        const { row, contact, pn } = await botConversation('r8-no-r9-r10', { autoClose: { enabled: true, afterMinutes: 1 }, csat: SURVEY });
        await kit.botReplies(row, 'Let me check that for you.');
        const replied = await botActiveAt(row);
        await kit.advanceTo(row, replied + 9 * MINUTE);
        assert.equal((await kit.reload(row)).status, 'bot', 'R9 (1 minute) does not apply to the bot');
        await kit.advanceTo(row, replied + 10 * MINUTE);
        assert.equal((await kit.conversationIn(contact, pn, 'closed')).close_reason, 'bot_timeout');
        await kit.settle(row);
        assert.deepEqual(await kit.outbound(row, 'csat'), []);
        assert.deepEqual(
          kit.sentTo(contact).map((b) => b.type),
          ['text'],
          'only the bot reply',
        );
      });
    });
  });

  describe('R10 satisfaction survey', () => {
    it('sent after the agent closes: a list with five rows 5..1, body and button from the settings', async () => {
      await kit.run(async () => {
        const { row, agent, contact } = await assignedConversation('r10-agent', { csat: SURVEY });
        await kit.agentReplies(row, agent, 'Done!');
        await kit.close(row, agent);
        const [survey] = await kit.waitForAutomation(row, 'csat');
        assert.equal(survey.status, 'accepted');
        assert.equal(survey.author, 'automation');
        const sent = surveysSentTo(contact);
        assert.equal(sent.length, 1);
        assertIsSurvey(sent[0], row.id);
        assert.equal((await kit.reload(row)).close_reason, 'agent');
      });
    });

    it('sent after an admin closes an assigned conversation', async () => {
      await kit.run(async () => {
        const { row, contact } = await assignedConversation('r10-admin', { csat: SURVEY });
        await kit.close(row);
        assert.equal((await kit.waitForAutomation(row, 'csat'))[0].status, 'accepted');
        assertIsSurvey(surveysSentTo(contact)[0], row.id);
        assert.equal((await kit.reload(row)).close_reason, 'admin');
      });
    });

    it('sent after R9 auto-closes an assigned conversation', async () => {
      await kit.run(async () => {
        const { row, agent, contact, pn } = await assignedConversation('r10-auto', { csat: SURVEY, autoClose: { enabled: true, afterMinutes: 1 } });
        await kit.agentReplies(row, agent);
        await kit.advanceTo(row, (await kit.state(row))!.lastAgentReplyAwaitingCustomer! + MINUTE);
        assert.equal((await kit.conversationIn(contact, pn, 'closed')).close_reason, 'auto_close');
        assert.equal((await kit.waitForAutomation(row, 'csat'))[0].status, 'accepted');
        assertIsSurvey(surveysSentTo(contact)[0], row.id);
      });
    });

    it('disabled: no survey after an agent close', async () => {
      await kit.run(async () => {
        const { row, agent, contact } = await assignedConversation('r10-off', { csat: { ...SURVEY, enabled: false } });
        await kit.close(row, agent);
        await kit.settle(row);
        assert.deepEqual(await kit.outbound(row, 'csat'), []);
        assert.deepEqual(surveysSentTo(contact), []);
      });
    });

    it('not sent when an unassigned conversation is closed', async () => {
      const pn = await kit.numberWith({ csat: SURVEY });
      const contact = freshContact('r10-unassigned');
      await kit.run(async () => {
        await kit.customerSays(contact, pn);
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        await kit.close(row);
        await kit.settle(row);
        assert.deepEqual(await kit.outbound(row, 'csat'), []);
        assert.deepEqual(surveysSentTo(contact), []);
      });
    });

    it('not sent when a queued conversation is closed', async () => {
      const pn = await kit.numberWith({ csat: SURVEY });
      await kit.addAgent(`agent-${pn}`, pn, 1);
      const first = freshContact('r10-queue-first');
      const contact = freshContact('r10-queued');
      await kit.run(async () => {
        await kit.customerSays(first, pn);
        await kit.conversationIn(first, pn, 'assigned');
        await kit.customerSays(contact, pn);
        const row = await kit.conversationIn(contact, pn, 'queued');
        await kit.close(row);
        await kit.settle(row);
        assert.deepEqual(await kit.outbound(row, 'csat'), []);
        assert.deepEqual(surveysSentTo(contact), []);
      });
    });

    it('not sent when an admin closes a bot conversation', async () => {
      await kit.run(async () => {
        const { row, contact } = await botConversation('r10-bot', { csat: SURVEY });
        await kit.close(row);
        await kit.settle(row);
        assert.deepEqual(await kit.outbound(row, 'csat'), []);
        assert.deepEqual(surveysSentTo(contact), []);
      });
    });

    it('the answer is recorded once against the conversation and agent; duplicates and second answers change nothing; no new conversation', async () => {
      await kit.run(async () => {
        const { row, agent, contact, pn } = await assignedConversation('r10-answer', {
          csat: SURVEY,
          // Would answer a new conversation at once: it makes "no new conversation" visible.
          unassignedReply: { enabled: true, delaySeconds: 0, message: UNASSIGNED },
        });
        await kit.close(row, agent);
        await kit.waitForAutomation(row, 'csat');
        await kit.settle(row);

        const wamid = await kit.customerAnswersSurvey(contact, pn, csatRowId(row.id, 4), { title: '4 Satisfied' });
        const answers = () => harness.db('csat_answers').where({ conversation_id: row.id });
        const [answer] = await eventually(async () => {
          const rows = await answers();
          return rows.length ? rows : undefined;
        });
        assert.equal(answer.score, 4);
        assert.equal(answer.agent_id, agent);
        assert.equal(answer.phone_number_id, pn);
        assert.equal(answer.wamid, wamid);

        // Meta redelivers the same answer, then the customer changes their mind.
        await kit.customerAnswersSurvey(contact, pn, csatRowId(row.id, 4), { wamid, title: '4 Satisfied' });
        await kit.customerAnswersSurvey(contact, pn, csatRowId(row.id, 1), { title: '1 Very dissatisfied' });
        const after = await answers();
        assert.equal(after.length, 1);
        assert.equal(after[0].score, 4);
        assert.equal(after[0].wamid, wamid);

        assert.deepEqual(
          (await kit.conversationsOf(contact, pn)).map((c) => c.status),
          ['closed'],
          'a survey answer opens no conversation',
        );
        const stored = await harness.db('messages').where({ direction: 'inbound', conversation_id: row.id, type: 'interactive' });
        assert.equal(stored.length, 2, 'both answers are kept as messages of the closed conversation');
        assert.deepEqual(
          kit.sentTo(contact).map((b) => b.type),
          ['interactive'],
          'nothing answered the answers',
        );

        // A text, by contrast, is the customer writing again: it opens the next conversation.
        await kit.customerSays(contact, pn, 'Actually, one more thing');
        await eventually(async () => (await kit.conversationsOf(contact, pn)).length === 2);
      });
    });

    it("an answer naming another number's conversation is stored but not recorded", async () => {
      await kit.run(async () => {
        const { row, agent } = await assignedConversation('r10-foreign', { csat: SURVEY });
        await kit.close(row, agent);
        await kit.waitForAutomation(row, 'csat');
        const otherNumber = await kit.numberWith({});
        const stranger = freshContact('r10-stranger');
        const wamid = await kit.customerAnswersSurvey(stranger, otherNumber, csatRowId(row.id, 1));
        await eventually(async () => (await harness.db('messages').where({ wamid })).length === 1);
        assert.deepEqual(await harness.db('csat_answers').where({ conversation_id: row.id }), []);
        assert.deepEqual(await kit.conversationsOf(stranger, otherNumber), []);
      });
    });
  });
});
