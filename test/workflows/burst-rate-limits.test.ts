import assert from 'node:assert/strict';
import { agentReplyUpdate } from '../../workflows/conversation/contract';
import { WorkflowUpdateStage } from '@temporalio/client';
import { graphError, type RecordedRequest } from '../support/fake-graph-api';
import { createConversationHarness, eventually, type ConversationHarness } from '../support/conversation-harness';

/**
 * A burst that runs into Meta's limits: the fake Graph API enforces a number throughput
 * and a pair rate far below what this harness's pacer allows, answering 130429 and
 * 131056 like Meta. Every message must still arrive, each conversation's in order.
 */
describe('bursts against the number and pair rate limits (time-skipping server)', () => {
  let h: ConversationHarness;
  const NUMBER_LIMIT_PER_SECOND = 15;
  const PAIR_INTERVAL_MS = 250;
  let rejections = { number: 0, pair: 0 };

  before(async () => {
    h = await createConversationHarness();
    const accepted: RecordedRequest[] = [];
    const lastToRecipient = new Map<string, number>();
    h.graph.respondWith((r) => {
      if (!r.path.endsWith('/messages')) return undefined;
      const recipient = String(r.body.recipient ?? r.body.to);
      const recent = accepted.filter((a) => r.at - a.at < 1000).length;
      if (recent >= NUMBER_LIMIT_PER_SECOND) {
        rejections.number += 1;
        return graphError(130429, 'Rate limit hit', 'Cloud API message throughput has been reached.');
      }
      const last = lastToRecipient.get(recipient);
      if (last !== undefined && r.at - last < PAIR_INTERVAL_MS) {
        rejections.pair += 1;
        return graphError(131056, '(Business Account, Consumer Account) pair rate limit hit');
      }
      accepted.push(r);
      lastToRecipient.set(recipient, r.at);
      return undefined; // the fake's normal success answer
    });
  });
  after(async () => h?.close());

  it('delivers every message of a burst, each conversation in order', async () => {
    rejections = { number: 0, pair: 0 };
    await h.db('agents').insert({ id: 'burst-agent', name: 'Burst', reception_limit: 1, status: 'online' });
    await h.run(async () => {
      // One conversation with an agent who fires off five replies at once.
      await h.customerSays('US.CHATTY', 'I have many questions');
      const chatty = await eventually(() => h.db('conversations').where({ agent_id: 'burst-agent', status: 'assigned' }).first(), 10_000, 'assigned');
      const handle = h.env.client.workflow.getHandle(chatty.workflow_id);
      const replies = ['one', 'two', 'three', 'four', 'five'];
      const pending = [];
      for (const body of replies) {
        // Accepted one after the other: that is the order the agent wrote them in.
        pending.push(
          await handle.startUpdate(agentReplyUpdate, {
            args: [{ conversationId: chatty.id, agentId: 'burst-agent', message: { type: 'text', text: { body } } }],
            waitForStage: WorkflowUpdateStage.ACCEPTED,
          }),
        );
      }
      // Forty customers at once, each owed the auto-reply (the agent is full: queued).
      await Promise.all(Array.from({ length: 40 }, (_, i) => h.customerSays(`US.BURST${i}`, 'hello')));

      const results = await Promise.all(pending.map((p) => p.result()));
      assert.ok(
        results.every((r) => r.status === 'accepted'),
        JSON.stringify(results),
      );
      await eventually(
        async () => {
          await h.env.sleep(5_000);
          const delivered = await h.db('messages').where({ direction: 'outbound', status: 'accepted' }).count<{ count: string }[]>('* as count');
          return Number(delivered[0].count) === 45 ? true : undefined;
        },
        60_000,
        'all 45 messages accepted',
      );
      const toChatty = (
        await h.db('messages').where({ conversation_id: chatty.id, direction: 'outbound', author: 'agent' }).orderBy('status_at')
      ).map((m) => m.content.text.body);
      assert.deepEqual(toChatty, replies);
      const acceptedBodies = h.graph
        .messageRequests()
        .filter((r) => r.body.recipient === 'US.CHATTY')
        .map((r) => (r.body.text as { body: string }).body);
      // Retries repeat a body, but never out of order: first acceptance of each in sequence.
      const firstSeen = acceptedBodies.filter((b, i) => acceptedBodies.indexOf(b) === i);
      assert.deepEqual(firstSeen, replies);
      const failed = await h.db('messages').where({ direction: 'outbound', status: 'failed' });
      assert.equal(failed.length, 0);
      console.log(
        `      burst: 45 messages delivered; Meta refused ${rejections.number} for throughput (130429) and ${rejections.pair} for the pair rate (131056), all retried`,
      );
      assert.ok(rejections.number + rejections.pair > 0, 'the burst really hit the limits');
    });
  });
});
