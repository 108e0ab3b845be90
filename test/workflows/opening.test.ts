/**
 * How a conversation opens: its settings, its row, its first message and its routing run
 * as local activities (workflows/activity-profiles.ts `openingDatabase`), all inside the
 * first workflow task, so a burst of new customers costs one server round trip each for
 * the opening instead of four activities and five workflow tasks.
 */
import assert from 'node:assert/strict';
import { OPENING_RUNS_LOCALLY } from '../../workflows/conversation/conversation';
import { localActivityType, patchIds, scheduledActivityTypes } from '../support/history-markers';
import { createConversationHarness, eventually, type ConversationHarness } from '../support/conversation-harness';
import { isIdle } from './rules-helpers';

describe('opening a conversation (time-skipping server)', () => {
  let h: ConversationHarness;
  before(async () => {
    h = await createConversationHarness();
    // The reply is an hour away: after the opening, the conversation only waits.
    await h.saveSettings({ unassignedReply: { enabled: true, delaySeconds: 3600, message: { type: 'text', text: { body: 'Soon.' } } } });
  });
  after(async () => h?.close());

  it('when a customer writes for the first time, then the settings, the row, the message and the routing run in the worker within the first workflow task, with no activity scheduled on the server', async () => {
    await h.run(async () => {
      await h.customerSays('US.OPEN1', 'Hello');
      const conversation = await eventually(() => h.db('conversations').first(), 20_000, 'the conversation');
      const handle = h.env.client.workflow.getHandle(conversation.workflow_id);
      const events = await eventually(async () => {
        const history = (await handle.fetchHistory()).events ?? [];
        return history.some((e) => e.timerStartedEventAttributes) && isIdle(history) ? history : null;
      }, 20_000);

      const firstTaskEnds = events.findIndex((e) => e.workflowTaskCompletedEventAttributes);
      const timerArmed = events.findIndex((e) => e.timerStartedEventAttributes);
      // Commands follow the task that made them: the reply's timer is among the first task's.
      assert.ok(
        events.slice(firstTaskEnds + 1, timerArmed).every((e) => !e.workflowTaskCompletedEventAttributes),
        'the opening took more than one workflow task',
      );
      assert.deepEqual(events.slice(0, timerArmed).map(localActivityType).filter(Boolean), [
        'loadAutomationSettings',
        'openConversation',
        'attachCustomerMessages',
        'routeConversation',
        'recordTimerChanges',
      ]);
      assert.deepEqual(scheduledActivityTypes(events), []);
      assert.ok(patchIds(events).includes(OPENING_RUNS_LOCALLY));

      // What the opening wrote: the row, routed (no agent online), with the message attached.
      assert.equal((await h.db('conversations').where({ id: conversation.id }).first()).status, 'unassigned');
      const inbound = await h.db('messages').where({ direction: 'inbound', conversation_id: conversation.id });
      assert.equal(inbound.length, 1);
      const routed = await h.db('conversation_timeline').where({ conversation_id: conversation.id, kind: 'routed' });
      assert.equal(routed.length, 1);
    });
  });
});
