/**
 * R13 reassignment when the agent does not answer (time-skipping server): the timer, the
 * routing that never goes back to the agent the conversation was taken from, the queue
 * place by waiting time, going offline, and the invariants of R6 under load.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { agentOfflineWorkflowId } from '../../workflows/agent-offline/contract';
import { queueDrainWorkflowId } from '../../workflows/queue-drain/contract';
import { eventually } from '../support/conversation-harness';
import { MINUTE, SECOND, type ConversationRow, type RulesKit, freshContact, text, useRulesHarness } from './rules-helpers';

const X = 15;
const ON = { reassign: { enabled: true, afterMinutes: X, onAgentOffline: true } };

type Harness = ReturnType<typeof useRulesHarness>['harness'];

/** When the R13 clock of the conversation started (R7's measure). */
async function clockStart(kit: RulesKit, row: ConversationRow): Promise<number> {
  const state = (await kit.state(row))!;
  return Math.max(state.unansweredSince!, state.assignedAt!);
}

/**
 * Runs a small workflow to its end without waiting on its result: a client awaiting a
 * result lets the time-skipping server skip time, which the rule tests move by hand.
 */
async function runToEnd(harness: Harness, type: string, workflowId: string, agentId: string): Promise<void> {
  const handle = await harness.env.client.workflow.start(type, { taskQueue: harness.taskQueue, workflowId, args: [{ agentId }] });
  await eventually(async () => ((await handle.describe()).status.name === 'COMPLETED' ? true : undefined), 10_000, `${type} to complete`);
}

/** As PUT /api/agents/{id}/status does. */
async function setStatus(harness: Harness, agentId: string, status: 'online' | 'offline'): Promise<void> {
  await harness.db('agents').where({ id: agentId }).update({ status });
  if (status === 'online') await runToEnd(harness, 'queueDrainWorkflow', queueDrainWorkflowId(agentId, randomUUID()), agentId);
  else await runToEnd(harness, 'agentOfflineWorkflow', agentOfflineWorkflowId(agentId, randomUUID()), agentId);
}

async function drainFor(harness: Harness, agentId: string): Promise<void> {
  await runToEnd(harness, 'queueDrainWorkflow', queueDrainWorkflowId(agentId, randomUUID()), agentId);
}

async function timeline(harness: Harness, row: ConversationRow): Promise<{ kind: string; details: Record<string, unknown> }[]> {
  return harness.db('conversation_timeline').where({ conversation_id: row.id }).orderBy('id').select('kind', 'details');
}

describe('R13 reassignment (time-skipping server)', () => {
  const { harness, kit } = useRulesHarness();

  it('when X passes without a reply, then it is reassigned to another online agent (not one second earlier), with the reason recorded and announced', async () => {
    const pn = await kit.numberWith(ON);
    const [a, b] = [await kit.addAgent(`ra-${pn}`, pn, 5), await kit.addAgent(`rb-${pn}`, pn, 5)];
    await harness.db('webhook_subscriptions').insert({
      id: `sub-${pn}`,
      url: 'http://127.0.0.1:9/none',
      secret: 'secret',
      event_types: ['conversation.reassigned'],
      phone_number_ids: [pn],
    });
    const contact = freshContact('r13-basic');
    try {
      await kit.run(async () => {
        await kit.customerSays(contact, pn, 'help');
        const row = await kit.conversationIn(contact, pn, 'assigned');
        assert.equal(row.agent_id, a);
        const from = await clockStart(kit, row);
        await kit.advanceTo(row, from + X * MINUTE - SECOND);
        assert.equal((await kit.reload(row)).agent_id, a, 'one second short of X');
        await kit.advanceTo(row, from + X * MINUTE);
        const moved = await eventually(
          async () => {
            const r = await kit.reload(row);
            const state = await kit.state(row);
            return r.agent_id === b && state?.status === 'assigned' && state.agentId === b ? r : undefined;
          },
          10_000,
          'reassigned to the other agent',
        );
        assert.equal(moved.status, 'assigned');
        const stored = await harness.db('conversations').where({ id: row.id }).first('excluded_agent_ids');
        assert.deepEqual(stored.excluded_agent_ids, [a]);
        const entry = (await timeline(harness, row)).find((e) => e.kind === 'transferred');
        assert.deepEqual(
          { agentId: entry?.details.agentId, previousAgentId: entry?.details.previousAgentId, reason: entry?.details.reason },
          {
            agentId: b,
            previousAgentId: a,
            reason: 'reassigned',
          },
        );
        const [event] = await harness.db('outbound_events').where({ conversation_id: row.id, type: 'conversation.reassigned' });
        assert.equal(event?.data.previousAgentId, a);
        assert.equal(event?.data.reason, 'reassigned');
        assert.equal(event?.data.agentId, b);
      });
    } finally {
      await harness
        .db('webhook_subscriptions')
        .where({ id: `sub-${pn}` })
        .update({ enabled: false });
    }
  });

  it('when the only agent with room is the one it was taken from, then it is queued (others full) and no drain gives it back', async () => {
    const pn = await kit.numberWith(ON);
    const b = await kit.addAgent(`qb-${pn}`, pn, 1);
    const [busy, waiting] = [freshContact('r13-busy'), freshContact('r13-waiting')];
    await kit.run(async () => {
      await kit.customerSays(busy, pn, 'first');
      const held = await kit.conversationIn(busy, pn, 'assigned');
      await kit.agentReplies(held, b);
      const a = await kit.addAgent(`qa-${pn}`, pn, 5);
      await kit.customerSays(waiting, pn, 'second');
      const row = await kit.conversationIn(waiting, pn, 'assigned');
      assert.equal(row.agent_id, a);
      await kit.advanceTo(row, (await clockStart(kit, row)) + X * MINUTE);
      await kit.conversationIn(waiting, pn, 'queued');
      await drainFor(harness, a);
      await kit.settle(row);
      assert.equal((await kit.reload(row)).status, 'queued', 'A has room, but never gets it back');
      await kit.close(held, b);
      const served = await kit.conversationIn(waiting, pn, 'assigned');
      assert.equal(served.agent_id, b);
    });
  });

  it('when nobody else is online, then it is unassigned rather than given back', async () => {
    const pn = await kit.numberWith(ON);
    const a = await kit.addAgent(`ua-${pn}`, pn, 5);
    const contact = freshContact('r13-alone');
    await kit.run(async () => {
      await kit.customerSays(contact, pn, 'help');
      const row = await kit.conversationIn(contact, pn, 'assigned');
      assert.equal(row.agent_id, a);
      await kit.advanceTo(row, (await clockStart(kit, row)) + X * MINUTE);
      await kit.conversationIn(contact, pn, 'unassigned');
      const entry = (await timeline(harness, row)).filter((e) => e.kind === 'routed').pop();
      assert.equal(entry?.details.reason, 'reassigned');
    });
  });

  it('when the agent goes offline with onAgentOffline, then their conversation awaiting a reply is re-routed at once; an answered one stays', async () => {
    const pn = await kit.numberWith(ON);
    const a = await kit.addAgent(`oa-${pn}`, pn, 5);
    const [awaiting, answered] = [freshContact('r13-off-awaiting'), freshContact('r13-off-answered')];
    await kit.run(async () => {
      await kit.customerSays(awaiting, pn, 'help');
      const row = await kit.conversationIn(awaiting, pn, 'assigned');
      assert.equal(row.agent_id, a);
      await kit.customerSays(answered, pn, 'hello');
      const other = await kit.conversationIn(answered, pn, 'assigned');
      assert.equal(other.agent_id, a);
      await kit.agentReplies(other, a);
      const b = await kit.addAgent(`ob-${pn}`, pn, 5);
      await setStatus(harness, a, 'offline');
      const moved = await eventually(async () => ((await kit.state(row))?.agentId === b ? kit.reload(row) : undefined), 10_000, 'moved to B');
      assert.equal(moved.agent_id, b);
      assert.equal((await timeline(harness, row)).find((e) => e.kind === 'transferred')?.details.reason, 'agent_offline');
      await kit.settle(other);
      assert.equal((await kit.reload(other)).agent_id, a, 'not awaiting their reply');
    });
  });

  it('when reassignment is off (the default), then neither X nor going offline moves the conversation', async () => {
    const pn = await kit.numberWith({});
    const a = await kit.addAgent(`fa-${pn}`, pn, 5);
    await kit.addAgent(`fb-${pn}`, pn, 5);
    const contact = freshContact('r13-off');
    await kit.run(async () => {
      await kit.customerSays(contact, pn, 'help');
      const row = await kit.conversationIn(contact, pn, 'assigned');
      assert.equal(row.agent_id, a);
      await kit.advanceTo(row, (await clockStart(kit, row)) + 3 * X * MINUTE);
      await setStatus(harness, a, 'offline');
      await kit.settle(row);
      assert.equal((await kit.reload(row)).agent_id, a);
      assert.equal((await kit.state(row))?.agentId, a);
    });
  });

  it('when W < X, then the R7 reminder fires at W and the reassignment at X, independently', async () => {
    const pn = await kit.numberWith({ ...ON, reminder: { enabled: true, waitMinutes: 5, message: text('Still with you') } });
    const a = await kit.addAgent(`wa-${pn}`, pn, 5);
    const b = await kit.addAgent(`wb-${pn}`, pn, 5);
    const contact = freshContact('r13-both');
    await kit.run(async () => {
      await kit.customerSays(contact, pn, 'help');
      const row = await kit.conversationIn(contact, pn, 'assigned');
      const from = await clockStart(kit, row);
      await kit.advanceTo(row, from + 5 * MINUTE);
      const [reminder] = await kit.waitForAutomation(row, 'reminder');
      assert.equal(reminder.agent_id, a);
      assert.equal((await kit.reload(row)).agent_id, a, 'the reminder does not reassign');
      await kit.advanceTo(row, from + X * MINUTE);
      await eventually(async () => ((await kit.state(row))?.agentId === b ? true : undefined), 10_000, 'reassigned at X');
      assert.equal((await kit.outbound(row, 'reminder')).length, 1);
    });
  });

  it('when the agent replies before X, then the reassignment is cancelled', async () => {
    const pn = await kit.numberWith(ON);
    const a = await kit.addAgent(`ca-${pn}`, pn, 5);
    await kit.addAgent(`cb-${pn}`, pn, 5);
    const contact = freshContact('r13-cancel');
    await kit.run(async () => {
      await kit.customerSays(contact, pn, 'help');
      const row = await kit.conversationIn(contact, pn, 'assigned');
      const from = await clockStart(kit, row);
      await kit.advanceTo(row, from + 10 * MINUTE);
      await kit.agentReplies(row, a);
      await kit.advanceTo(row, from + 2 * X * MINUTE);
      assert.equal((await kit.reload(row)).agent_id, a);
      const cancelled = (await timeline(harness, row)).find((e) => e.kind === 'timer_cancelled' && e.details.rule === 'reassign');
      assert.ok(cancelled, 'the timeline says the reassignment was cancelled');
    });
  });

  it('when X is shortened (R12), then the timer is re-armed from the same start', async () => {
    const pn = await kit.numberWith(ON);
    const a = await kit.addAgent(`sa-${pn}`, pn, 5);
    const b = await kit.addAgent(`sb-${pn}`, pn, 5);
    const contact = freshContact('r13-r12');
    await kit.run(async () => {
      await kit.customerSays(contact, pn, 'help');
      const row = await kit.conversationIn(contact, pn, 'assigned');
      const from = await clockStart(kit, row);
      await kit.advanceTo(row, from + 5 * MINUTE);
      await kit.changeSettings(row, { ...ON, reassign: { ...ON.reassign, afterMinutes: 8 } });
      await kit.advanceTo(row, from + 8 * MINUTE - SECOND);
      assert.equal((await kit.reload(row)).agent_id, a);
      await kit.advanceTo(row, from + 8 * MINUTE);
      await eventually(async () => ((await kit.state(row))?.agentId === b ? true : undefined), 10_000, 'reassigned at the new X');
    });
  });
});

describe('R13 queue place by waiting time (time-skipping server, fresh clock)', () => {
  const { harness, kit } = useRulesHarness();

  it('when a reassigned conversation is queued, then it is behind one that entered before its customer began waiting and ahead of one that entered after; drains skip its old agent', async () => {
    const pn = await kit.numberWith(ON);
    const [a, b] = [await kit.addAgent(`pa-${pn}`, pn, 1), await kit.addAgent(`pb-${pn}`, pn, 1)];
    const [x, f, early, r, late] = ['x', 'f', 'early', 'r', 'late'].map((k) => freshContact(`r13-order-${k}`));
    await kit.run(async () => {
      // The workflow clock and the database's must agree here: nothing has skipped time yet.
      assert.ok(Math.abs((await harness.now()) - Date.now()) < 2_000, 'fresh time-skipping clock');
      await kit.customerSays(x, pn, 'x');
      const xRow = await kit.conversationIn(x, pn, 'assigned');
      await kit.agentReplies(xRow, xRow.agent_id!);
      await kit.customerSays(f, pn, 'f');
      const fRow = await kit.conversationIn(f, pn, 'assigned');
      await kit.agentReplies(fRow, fRow.agent_id!);
      assert.deepEqual([xRow.agent_id, fRow.agent_id], [a, b]);
      await kit.customerSays(early, pn, 'early');
      const earlyRow = await kit.conversationIn(early, pn, 'queued');
      await sleep(1_000);
      await kit.customerSays(r, pn, 'r');
      const rRow = await kit.conversationIn(r, pn, 'queued');
      await sleep(1_000);
      await kit.customerSays(late, pn, 'late');
      const lateRow = await kit.conversationIn(late, pn, 'queued');
      assert.deepEqual((await kit.claim(rRow, a)).ok, true);
      await kit.conversationIn(r, pn, 'assigned');
      await kit.advanceTo(rRow, (await clockStart(kit, rRow)) + X * MINUTE);
      await kit.conversationIn(r, pn, 'queued');
      const queue = await harness
        .db('conversations')
        .where({ phone_number_id: pn, status: 'queued' })
        .orderBy([{ column: 'queued_at' }, { column: 'id' }]);
      assert.deepEqual(
        queue.map((c) => c.id),
        [earlyRow.id, rRow.id, lateRow.id],
      );
      // B frees a place: the oldest, `early`.
      await kit.close(fRow, b);
      assert.equal((await kit.conversationIn(early, pn, 'assigned')).agent_id, b);
      // A frees a place: the oldest it may take is `late` (never `r`, taken from A).
      await kit.close(xRow, a);
      assert.equal((await kit.conversationIn(late, pn, 'assigned')).agent_id, a);
      assert.equal((await kit.reload(rRow)).status, 'queued');
      // B frees another: now `r`.
      await kit.close(earlyRow, b);
      assert.equal((await kit.conversationIn(r, pn, 'assigned')).agent_id, b);
    });
  });
});

describe('R13 under load (time-skipping server)', () => {
  const { harness, kit } = useRulesHarness();

  it('when 200 conversations are reassigned while agents go offline and online, then nobody is over their limit, no conversation has two agents, and the queue is served in order', async function () {
    // Bounds how long a slow, busy machine may take; what is asserted is what happened.
    this.timeout(600_000);
    const pn = await kit.numberWith({ reassign: { enabled: true, afterMinutes: 1, onAgentOffline: true } });
    const agents = await Promise.all(['la', 'lb', 'lc', 'ld'].map((k) => kit.addAgent(`${k}-${pn}`, pn, 3)));
    const contacts = Array.from({ length: 200 }, (_, i) => freshContact(`r13-load-${i}`));
    await kit.run(async () => {
      for (let i = 0; i < contacts.length; i += 20) {
        await Promise.all(contacts.slice(i, i + 20).map((c) => kit.customerSays(c, pn, 'help')));
      }
      const rows = async (): Promise<(ConversationRow & { queued_at: Date | null; excluded_agent_ids: string[] | null })[]> =>
        harness.db('conversations').where({ phone_number_id: pn });
      await eventually(async () => ((await rows()).length === contacts.length ? true : undefined), 120_000, 'every conversation opened');
      // Twice: a conversation settled early may be told of an assignment by one settled later.
      const settleAll = async () => {
        for (let pass = 0; pass < 2; pass++) for (const row of await rows()) await kit.settle(row);
      };
      let previouslyQueued: Awaited<ReturnType<typeof rows>> = [];
      const check = async (label: string) => {
        await settleAll();
        const all = await rows();
        const online = new Set(
          (await harness.db('agents').whereIn('id', agents).where({ status: 'online' }).select('id')).map((r: { id: string }) => r.id),
        );
        for (const agent of agents) {
          const load = all.filter((c) => c.status === 'assigned' && c.agent_id === agent).length;
          assert.ok(load <= 3, `${label}: ${agent} holds ${load}`);
        }
        const queued = all.filter((c) => c.status === 'queued');
        for (const q of queued) {
          for (const agent of online) {
            const load = all.filter((c) => c.status === 'assigned' && c.agent_id === agent).length;
            assert.ok(load >= 3 || (q.excluded_agent_ids ?? []).includes(agent), `${label}: ${agent} has room while ${q.id} waits`);
          }
        }
        // FIFO: nobody queued behind a still-waiting conversation went ahead of it to an agent it could have had.
        const byId = new Map(all.map((c) => [c.id, c]));
        for (const waiting of previouslyQueued.filter((q) => byId.get(q.id)?.status === 'queued')) {
          for (const behind of previouslyQueued.filter((q) => q.queued_at!.getTime() > waiting.queued_at!.getTime())) {
            const now = byId.get(behind.id)!;
            if (now.status !== 'assigned' || !now.agent_id) continue;
            assert.ok((byId.get(waiting.id)!.excluded_agent_ids ?? []).includes(now.agent_id), `${label}: ${behind.id} served before ${waiting.id}`);
          }
        }
        previouslyQueued = queued;
        // One holder per conversation: the workflow agrees with the database.
        for (const c of all.filter((row) => row.status === 'assigned')) {
          const state = await kit.state(c);
          if (state?.conversationId === c.id) assert.equal(state.agentId, c.agent_id, `${label}: ${c.id}`);
        }
      };
      await check('opened');
      const [first] = await rows();
      for (let round = 0; round < 4; round++) {
        const goesOffline = agents[round % agents.length];
        await setStatus(harness, goesOffline, 'offline');
        await check(`round ${round}: ${goesOffline} offline`);
        await kit.advance(first, MINUTE);
        await check(`round ${round}: a minute later`);
        await setStatus(harness, goesOffline, 'online');
        await check(`round ${round}: ${goesOffline} back`);
      }
      const reassigned = await harness
        .db('conversation_timeline')
        .whereIn(
          'conversation_id',
          (await rows()).map((c) => c.id),
        )
        .whereRaw(`details->>'reason' IN ('reassigned', 'agent_offline')`)
        .count<{ count: string }[]>('* as count');
      assert.ok(Number(reassigned[0].count) > 0, 'reassignments happened');
    });
  });
});
