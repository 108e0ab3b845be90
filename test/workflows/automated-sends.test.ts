/**
 * How automations send: as a local activity of the worker that runs the workflow
 * (workflows/activity-profiles.ts `automatedWhatsapp`), so a timer that fires costs one
 * workflow task instead of a workflow task, an activity task and another workflow task.
 * Agents' replies stay scheduled activities. Retries of a rate-limited automated send keep
 * the delays the send asks for (the pair rate limit's 4^X s), inside the worker.
 */
import assert from 'node:assert/strict';
import type { temporal } from '@temporalio/proto';
import { AUTOMATED_SENDS_RUN_LOCALLY } from '../../workflows/conversation/conversation';
import { graphError } from '../support/fake-graph-api';
import { localActivityType, patchIds, scheduledActivityTypes } from '../support/history-markers';
import { SECOND, freshContact, text, useRulesHarness, type ConversationRow } from './rules-helpers';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const AWAY = text('We are away right now; we will answer soon.');

describe('automated sends as local activities (time-skipping server)', () => {
  const { harness, kit } = useRulesHarness();

  async function historyOf(row: ConversationRow): Promise<HistoryEvent[]> {
    return (await kit.handleOf(row).fetchHistory()).events ?? [];
  }

  const isLocalSend = (e: HistoryEvent) => localActivityType(e) === 'sendMessage';

  it('when an unassigned reply’s timer fires, then its send runs within the workflow task the timer woke, with no activity scheduled', async () => {
    const pn = await kit.numberWith({ unassignedReply: { enabled: true, delaySeconds: 30, message: AWAY } });
    const contact = freshContact('la-timer');
    await kit.run(async () => {
      await kit.customerSays(contact, pn);
      const row = await kit.conversationIn(contact, pn, 'unassigned');
      const owedSince = (await kit.state(row))!.unassignedReplyOwedSince!;
      await kit.advanceTo(row, owedSince + 30 * SECOND);
      const [reply] = await kit.waitForAutomation(row, 'unassigned_reply');
      assert.equal(reply.status, 'accepted');
      await kit.settle(row);

      const events = await historyOf(row);
      const fired = events.findIndex((e) => e.timerFiredEventAttributes);
      assert.ok(fired > 0, 'the reply’s timer fired');
      const wokenTaskEnds = events.findIndex((e, i) => i > fired && e.workflowTaskCompletedEventAttributes);
      const send = events.findIndex(isLocalSend);
      assert.ok(send > wokenTaskEnds, 'the send is recorded after the woken task');
      assert.ok(
        events.slice(wokenTaskEnds + 1, send).every((e) => !e.workflowTaskCompletedEventAttributes),
        'the send was recorded by the task the timer woke',
      );
      assert.equal(events.filter(isLocalSend).length, 1);
      assert.deepEqual(scheduledActivityTypes(events), []);
      assert.ok(patchIds(events).includes(AUTOMATED_SENDS_RUN_LOCALLY));
      assert.deepEqual(
        kit.sentTo(contact).map((b) => (b.text as { body: string }).body),
        [AWAY.text.body],
      );
    });
  });

  it('when an agent replies, then the reply is still a scheduled activity (the agent waits on its answer)', async () => {
    const pn = await kit.numberWith({});
    const agent = await kit.addAgent('la-agent', pn);
    const contact = freshContact('la-agent');
    await kit.run(async () => {
      await kit.customerSays(contact, pn);
      const row = await kit.conversationIn(contact, pn, 'assigned');
      await kit.agentReplies(row, agent, 'On it');
      await kit.settle(row);
      const events = await historyOf(row);
      assert.deepEqual(
        scheduledActivityTypes(events).filter((type) => type === 'sendMessage'),
        ['sendMessage'],
      );
      assert.equal(events.filter(isLocalSend).length, 0);
      const [sent] = await kit.outbound(row);
      assert.equal(sent.author, 'agent');
      assert.equal(sent.status, 'accepted');
    });
  });

  it('when Meta answers the pair rate limit (131056) twice, then the automated send is retried after 1 s and then 4 s inside the worker, and sent once', async () => {
    const pn = await kit.numberWith({ unassignedReply: { enabled: true, delaySeconds: 0, message: AWAY } });
    const contact = freshContact('la-pair');
    let refusals = 0;
    harness.graph.respondWith((r) => {
      if (!r.path.endsWith('/messages') || r.body.recipient !== contact || refusals >= 2) return undefined;
      refusals += 1;
      return graphError(131056, '(Business Account, Consumer Account) pair rate limit hit');
    });
    await kit.run(async () => {
      await kit.customerSays(contact, pn);
      const row = await kit.conversationIn(contact, pn, 'unassigned');
      const [reply] = await kit.waitForAutomation(row, 'unassigned_reply');
      assert.equal(reply.status, 'accepted');
      await kit.settle(row);

      const attempts = harness.graph.messageRequests().filter((r) => r.body.recipient === contact);
      assert.equal(attempts.length, 3, 'two refusals and the send that was accepted');
      const gaps = attempts.slice(1).map((r, i) => r.at - attempts[i].at);
      assert.ok(gaps[0] >= 1 * SECOND, `first retry after ${gaps[0]} ms`);
      assert.ok(gaps[1] >= 4 * SECOND, `second retry after ${gaps[1]} ms`);

      const events = await historyOf(row);
      assert.equal(events.filter(isLocalSend).length, 1, 'one marker: the retries ran inside the worker');
      assert.deepEqual(scheduledActivityTypes(events), []);
      assert.equal((await kit.outbound(row, 'unassigned_reply')).length, 1);
    });
  });
});
