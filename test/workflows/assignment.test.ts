import assert from 'node:assert/strict';
import { claimUpdate, agentReplyUpdate, closeUpdate } from '../../workflows/conversation/contract';
import { createAssignmentStore } from '../../src/store/assignment-store';
import { ASSIGNMENT_SWEEPER_WORKFLOW_ID } from '../../workflows/assignment-sweeper/contract';
import { createConversationHarness, eventually, type ConversationHarness } from '../support/conversation-harness';
import { outcomeOf } from './rules-helpers';

describe('R3/R6 routing, queue and claims (time-skipping server)', () => {
  let h: ConversationHarness;
  before(async () => {
    h = await createConversationHarness();
  });
  after(async () => h?.close());

  async function addAgent(id: string, receptionLimit: number, status: 'online' | 'offline' = 'online') {
    await h.db('agents').insert({ id, name: id, reception_limit: receptionLimit, status }).onConflict('id').merge();
  }

  it('assigns to an online agent, queues past the limit, and drains the queue when the agent closes one', async () => {
    await addAgent('alice', 1);
    await h.run(async () => {
      await h.customerSays('US.A1', 'first');
      const first = await eventually(() => h.db('conversations').where({ status: 'assigned' }).first(), 10_000, 'first assigned');
      assert.equal(first.agent_id, 'alice');
      await h.customerSays('US.A2', 'second');
      const second = await eventually(() => h.db('conversations').where({ status: 'queued' }).first(), 10_000, 'second queued');
      const queueReply = await eventually(
        () => h.db('messages').where({ conversation_id: second.id, automation: 'queue_reply', status: 'accepted' }).first(),
        10_000,
        'queue reply',
      );
      assert.equal(queueReply.status, 'accepted');

      const handle = h.env.client.workflow.getHandle(first.workflow_id);
      const reply = await outcomeOf(
        handle.executeUpdate(agentReplyUpdate, {
          args: [{ conversationId: first.id, agentId: 'alice', message: { type: 'text', text: { body: 'Hi!' } } }],
        }),
      );
      assert.equal(reply.ok, true);
      await handle.executeUpdate(closeUpdate, { args: [{ conversationId: first.id, agentId: 'alice' }] });
      const drained = await eventually(() => h.db('conversations').where({ id: second.id, status: 'assigned' }).first(), 10_000, 'queue drained');
      assert.equal(drained.agent_id, 'alice');
      const state = await eventually(
        async () => {
          const s = await h.env.client.workflow.getHandle(second.workflow_id).query('state');
          return (s as { status: string }).status === 'assigned' ? s : undefined;
        },
        10_000,
        'workflow learned the assignment',
      );
      assert.equal((state as { agentId: string }).agentId, 'alice');
    });
  });

  it('lets exactly one of many concurrent claims win', async () => {
    await h.db('agents').update({ status: 'offline' });
    for (let i = 0; i < 8; i++) await addAgent(`claimer-${i}`, 5, 'offline');
    await h.run(async () => {
      await h.customerSays('US.C1', 'help');
      const reply = await eventually(() => h.db('messages').where({ automation: 'unassigned_reply' }).first(), 10_000, 'routed as unassigned');
      const conversation = await h.db('conversations').where({ id: reply.conversation_id }).first();
      const handle = h.env.client.workflow.getHandle(conversation.workflow_id);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          handle.executeUpdate(claimUpdate, { args: [{ conversationId: conversation.id, agentId: `claimer-${i}` }] }),
        ),
      );
      const winners = outcomes.filter((o) => o.status === 'fulfilled');
      assert.equal(winners.length, 1, JSON.stringify(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : String(o.reason)))));
      const row = await h.db('conversations').where({ id: conversation.id }).first();
      assert.equal(row.status, 'assigned');
    });
  });

  it('recovers assignments whose drain or notification was lost to a crash', async () => {
    await h.db('agents').update({ status: 'offline' });
    await addAgent('sweep-agent', 1);
    const stateOf = async (workflowId: string) =>
      (await h.env.client.workflow.getHandle(workflowId).query('state')) as { status: string; agentId: string | null };
    await h.run(async () => {
      await h.customerSays('US.S1', 'one');
      await eventually(() => h.db('conversations').where({ agent_id: 'sweep-agent', status: 'assigned' }).first(), 10_000, 'first assigned');
      await h.customerSays('US.S2', 'two');
      await h.customerSays('US.S3', 'three');
      const queued = await eventually(
        async () => {
          const rows = await h.db('conversations').where({ status: 'queued' }).orderBy('queued_at');
          return rows.length === 2 ? rows : undefined;
        },
        10_000,
        'two queued',
      );

      // A drain that committed but whose notification never went out (its process died).
      await h.db('agents').where({ id: 'sweep-agent' }).update({ reception_limit: 2 });
      const lost = await createAssignmentStore(h.db).drainForAgent('sweep-agent');
      assert.deepEqual(
        lost.map((a) => a.conversationId),
        [queued[0].id],
      );
      assert.equal((await stateOf(queued[0].workflow_id)).status, 'queued', 'the workflow was not told');
      // Capacity that grew without any drain at all (the API process died before starting it).
      await h.db('agents').where({ id: 'sweep-agent' }).update({ reception_limit: 3 });

      await h.env.client.workflow.start('assignmentSweeperWorkflow', { taskQueue: h.taskQueue, workflowId: ASSIGNMENT_SWEEPER_WORKFLOW_ID });
      await h.env.sleep(40_000);
      for (const row of queued) {
        const state = await eventually(
          async () => {
            const s = await stateOf(row.workflow_id);
            return s.status === 'assigned' ? s : undefined;
          },
          10_000,
          'workflow learned its assignment',
        );
        assert.equal(state.agentId, 'sweep-agent');
      }
      assert.equal((await h.db('assignment_outbox').count<{ count: string }[]>('* as count'))[0].count, '0');
      await h.env.client.workflow.getHandle(ASSIGNMENT_SWEEPER_WORKFLOW_ID).terminate('test done');
    });
  });

  it('lets an agent reply to a conversation the database gave them before its workflow heard of it', async () => {
    await h.db('agents').update({ status: 'offline' });
    await addAgent('early-agent', 1);
    await h.run(async () => {
      await h.customerSays('US.E1', 'one');
      await eventually(() => h.db('conversations').where({ agent_id: 'early-agent', status: 'assigned' }).first(), 10_000, 'first assigned');
      await h.customerSays('US.E2', 'two');
      const queued = await eventually(() => h.db('conversations').where({ status: 'queued' }).first(), 10_000, 'queued');
      // The drain commits; its notification has not reached the workflow.
      await h.db('agents').where({ id: 'early-agent' }).update({ reception_limit: 2 });
      await createAssignmentStore(h.db).drainForAgent('early-agent');
      const handle = h.env.client.workflow.getHandle(queued.workflow_id);
      const reply = await outcomeOf(
        handle.executeUpdate(agentReplyUpdate, {
          args: [{ conversationId: queued.id, agentId: 'early-agent', message: { type: 'text', text: { body: 'Here now!' } } }],
        }),
      );
      assert.equal(reply.ok, true, JSON.stringify(reply));
      const state = (await handle.query('state')) as { status: string; agentId: string };
      assert.deepEqual([state.status, state.agentId], ['assigned', 'early-agent']);
      // Someone else still cannot.
      await addAgent('other-agent', 1, 'offline');
      await assert.rejects(
        handle.executeUpdate(agentReplyUpdate, {
          args: [{ conversationId: queued.id, agentId: 'other-agent', message: { type: 'text', text: { body: 'me?' } } }],
        }),
        /Update failed/,
      );
    });
  });

  it('when queue messages hold {{position}} and {{ahead}} (R15), then each queued customer is told their place at the moment of sending', async () => {
    const number = '106540352277701';
    await h.db('agents').update({ status: 'offline' });
    await h.db('agents').insert({ id: 'pos-agent', name: 'Pos', reception_limit: 1, status: 'online', phone_number_ids: [number] });
    await h.saveSettings(
      { queueReply: { enabled: true, message: { type: 'text', text: { body: 'You are number {{position}} in line ({{ahead}} ahead of you).' } } } },
      number,
    );
    await h.run(async () => {
      await h.customerSays('US.POS0', 'first', { phoneNumberId: number });
      await eventually(() => h.db('conversations').where({ phone_number_id: number, status: 'assigned' }).first(), 10_000, 'first assigned');
      const texts: string[] = [];
      for (const key of ['US.POS1', 'US.POS2', 'US.POS3']) {
        await h.customerSays(key, 'anyone?', { phoneNumberId: number });
        const reply = await eventually<{ content: { text: { body: string } } }>(
          () =>
            h
              .db('messages as m')
              .join('contacts as c', 'c.id', 'm.contact_id')
              .where({ 'c.identity_key': key, 'm.automation': 'queue_reply', 'm.status': 'accepted' })
              .first('m.content'),
          10_000,
          `queue reply to ${key}`,
        );
        texts.push(reply.content.text.body);
      }
      assert.deepEqual(texts, [
        'You are number 1 in line (0 ahead of you).',
        'You are number 2 in line (1 ahead of you).',
        'You are number 3 in line (2 ahead of you).',
      ]);
      const sent = h.graph.messageRequests().filter((r) => String(r.body.recipient ?? '').startsWith('US.POS'));
      assert.deepEqual(
        sent.map((r) => (r.body.text as { body: string }).body),
        texts,
        'what Meta got is what was recorded',
      );
    });
  });
});
