/**
 * R15 queue position (time-skipping server): the queue message tells the customer their
 * place, and the opt-in position updates tell them a better place at most once every P.
 */
import assert from 'node:assert/strict';
import { dueTimers } from '../../workflows/rules/conversation-machine';
import { MINUTE, SECOND, freshContact, text, type ConversationRow, useRulesHarness } from './rules-helpers';

describe('R15 queue position updates (time-skipping server)', () => {
  const { kit } = useRulesHarness();

  async function queuedAt(row: ConversationRow): Promise<number> {
    const state = (await kit.state(row))!;
    assert.ok(state.queuedAt != null, 'queued');
    return state.queuedAt;
  }

  const bodies = (rows: { content: { text?: { body: string } } }[]) => rows.map((r) => r.content.text?.body);

  it('when the place improves, then one update says so at the next P; no update while it does not, none once served', async () => {
    const pn = await kit.numberWith({
      queueReply: {
        enabled: true,
        message: text('You are number {{position}} in line.'),
        positionUpdates: { enabled: true, everyMinutes: 5, message: text('Good news: you are now number {{position}} ({{ahead}} ahead).') },
      },
    });
    const agent = await kit.addAgent(`agent-${pn}`, pn, 1);
    const [a, b, c] = [freshContact('r15-a'), freshContact('r15-b'), freshContact('r15-c')];
    await kit.run(async () => {
      await kit.customerSays(a, pn, 'first');
      const served = await kit.conversationIn(a, pn, 'assigned');
      await kit.customerSays(b, pn, 'second');
      const second = await kit.conversationIn(b, pn, 'queued');
      await kit.customerSays(c, pn, 'third');
      const third = await kit.conversationIn(c, pn, 'queued');
      assert.deepEqual(bodies(await kit.waitForAutomation(third, 'queue_reply')), ['You are number 2 in line.']);

      // P − 1 s: nothing; P: looked at, but still number 2, so nothing is sent either.
      const start = await queuedAt(third);
      await kit.advanceTo(third, start + 5 * MINUTE - SECOND);
      assert.deepEqual(await kit.outbound(third, 'queue_position'), []);
      await kit.advanceTo(third, start + 5 * MINUTE);
      await kit.settle(second);
      assert.deepEqual(await kit.outbound(third, 'queue_position'), [], 'no better place, no update');
      assert.deepEqual(await kit.outbound(second, 'queue_position'), [], 'first in line cannot improve');

      // The agent closes the first conversation: the second is served, the third moves up.
      await kit.agentReplies(served, agent);
      await kit.close(served, agent);
      await kit.conversationIn(b, pn, 'assigned');
      await kit.advanceTo(third, start + 10 * MINUTE - SECOND);
      assert.deepEqual(await kit.outbound(third, 'queue_position'), [], 'not before the next P');
      await kit.advanceTo(third, start + 10 * MINUTE);
      const [update] = await kit.waitForAutomation(third, 'queue_position');
      assert.equal(update.status, 'accepted');
      assert.equal(bodies([update])[0], 'Good news: you are now number 1 (0 ahead).');

      // Still number 1 at the next looks: told once only. The served conversation gets none.
      // A second past the look at 20 min, so that look has run when the test reads (and its
      // timer is not firing at the very moment the test's clean-up closes the conversation).
      await kit.advanceTo(third, start + 20 * MINUTE + SECOND);
      assert.equal((await kit.outbound(third, 'queue_position')).length, 1);
      assert.deepEqual(await kit.outbound(second, 'queue_position'), []);
      assert.equal(kit.sentTo(c).length, 2, 'the queue message and one update');
    });
  });

  it('when position updates are off (the default), then no timer is armed while queued', async () => {
    const pn = await kit.numberWith({ queueReply: { enabled: true, message: text('In the queue') } });
    await kit.addAgent(`agent-${pn}`, pn, 1);
    const [a, b] = [freshContact('r15-off-a'), freshContact('r15-off-b')];
    await kit.run(async () => {
      await kit.customerSays(a, pn, 'first');
      await kit.conversationIn(a, pn, 'assigned');
      await kit.customerSays(b, pn, 'second');
      const queued = await kit.conversationIn(b, pn, 'queued');
      const state = (await kit.state(queued))!;
      assert.equal(state.settings.queueReply.positionUpdates?.enabled, false);
      assert.deepEqual(
        dueTimers(state).map((t) => t.rule),
        [],
      );
      await kit.advanceTo(queued, (await queuedAt(queued)) + 60 * MINUTE);
      assert.deepEqual(await kit.outbound(queued, 'queue_position'), []);
    });
  });
});
