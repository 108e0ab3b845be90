/**
 * R3/R6 under load, on the time-skipping server with the real webhook intake, real
 * activities and PostgreSQL: hundreds of conversations arrive concurrently for a few
 * agents while those agents close conversations. A sampler polls the database the whole
 * time; the invariants of R6 must hold at every sampled moment and at the end:
 *
 * - auto-assignment never puts an agent over their limit;
 * - a conversation is never seen with two different agents, and every workflow agrees
 *   with its database row (never names an agent the database does not);
 * - the queue is FIFO: no conversation is ever served while one that entered the queue
 *   before it is still waiting, and the order of assignment follows the order of entry;
 * - the queue drains when an agent closes, comes online, or has one transferred away,
 *   until every conversation has been served.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { InboundMessageEvent } from '../../src/whatsapp/webhook-events';
import { assignUpdate, closeUpdate, conversationStateQuery } from '../../workflows/conversation/contract';
import type { ConversationState } from '../../workflows/rules/conversation-machine';
import { createConversationHarness, eventually, inboundTextEvent, type ConversationHarness } from '../support/conversation-harness';

const CONTACTS = 200;
const BATCH_SIZE = 25;
/** Online from the start; limits 1, 2 and 3. */
const AGENTS: Record<string, number> = { 'load-a1': 1, 'load-a2': 2, 'load-a3': 3 };
/** Comes online mid-run (R6: coming online drains the queue). */
const LATE_AGENT = { id: 'load-a4', limit: 2 };
/** Offline; receives one transfer, so the transferring agent's freed place drains the queue. */
const SUPERVISOR = { id: 'load-supervisor', limit: 5 };
/** Conversations closed before the queue is frozen for the come-online and transfer checks. */
const CLOSED_IN_PHASE_ONE = 60;

interface ConversationRow {
  id: string;
  workflow_id: string;
  status: string;
  agent_id: string | null;
  queued_at: Date | null;
  assigned_at: Date | null;
  close_reason: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits are generous: they bound how long a slow, busy machine may take, and the test
 * asserts what happened, never how fast. A wait that runs out says where things stood.
 */
const WAIT_MS = 120_000;

describe('R3/R6 queue under load (time-skipping server)', function () {
  this.timeout(600_000);
  let h: ConversationHarness;
  before(async () => {
    h = await createConversationHarness();
  });
  after(async () => h?.close());

  it(`serves ${CONTACTS} concurrent conversations with a few agents: never over a limit, never two agents, FIFO, drained to the end`, async () => {
    const started = Date.now();
    for (const [id, limit] of Object.entries(AGENTS)) {
      await h.db('agents').insert({ id, name: id, reception_limit: limit, status: 'online' });
    }
    await h.db('agents').insert({ id: SUPERVISOR.id, name: SUPERVISOR.id, reception_limit: SUPERVISOR.limit, status: 'offline' });

    /** Transfers rewrite assigned_at and change the agent on purpose: tracked apart. */
    const transferred = new Set<string>();
    const violations: string[] = [];
    const violation = (message: string) => {
      if (violations.length < 50) violations.push(message);
    };

    // ---- The sampler: polls the database, one consistent snapshot per statement. ----
    const agentsSeen = new Map<string, string>();
    const maxLoad = new Map<string, number>();
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples += 1;
        const loads = (
          await h.db.raw(`
            SELECT a.id, a.reception_limit, a.status,
                   (SELECT count(*) FROM conversations c WHERE c.agent_id = a.id AND c.status = 'assigned')::int AS load
            FROM agents a`)
        ).rows as { id: string; reception_limit: number; status: string; load: number }[];
        for (const a of loads) {
          maxLoad.set(a.id, Math.max(maxLoad.get(a.id) ?? 0, a.load));
          if (a.load > a.reception_limit) violation(`sample ${samples}: ${a.id} holds ${a.load} conversations, limit ${a.reception_limit}`);
        }
        // FIFO at this moment: whoever is still queued entered after everyone already served.
        // Compared in SQL: timestamps have microseconds, a JavaScript Date only milliseconds.
        const fifo = (
          await h.db.raw(`
            SELECT last_served::text, first_waiting::text, first_waiting < last_served AS violated
            FROM (SELECT (SELECT max(queued_at) FROM conversations WHERE status IN ('assigned', 'closed') AND queued_at IS NOT NULL) AS last_served,
                         (SELECT min(queued_at) FROM conversations WHERE status = 'queued') AS first_waiting) AS t`)
        ).rows[0] as { last_served: string | null; first_waiting: string | null; violated: boolean | null };
        if (fifo.violated) {
          violation(
            `sample ${samples}: a conversation queued at ${fifo.first_waiting} still waits while one queued at ${fifo.last_served} was served`,
          );
        }
        const held = (await h.db('conversations').whereNotNull('agent_id').select('id', 'agent_id')) as { id: string; agent_id: string }[];
        for (const row of held) {
          const seen = agentsSeen.get(row.id);
          if (seen === undefined) agentsSeen.set(row.id, row.agent_id);
          else if (seen !== row.agent_id && !transferred.has(row.id))
            violation(`conversation ${row.id} was held by ${seen}, then by ${row.agent_id}`);
        }
        await sleep(20);
      }
    })();

    /**
     * Workflow state vs database row while things move: the database is written first
     * (the workflow learns from the activity or a signal), so a workflow may lag behind
     * its row, but must never name an agent its row does not.
     */
    let sweeps = 0;
    async function sweepWorkflows(): Promise<void> {
      sweeps += 1;
      const rows = (await h.db('conversations').select('id', 'workflow_id')) as Pick<ConversationRow, 'id' | 'workflow_id'>[];
      await mapLimit(rows, 16, async (row) => {
        const state = await queryState(row.workflow_id);
        const now = (await h.db('conversations').where({ id: row.id }).first()) as ConversationRow;
        if (!state) return;
        if (state.conversationId !== row.id) return violation(`workflow ${row.workflow_id} runs conversation ${state.conversationId}, not ${row.id}`);
        if (state.status === 'assigned' || state.status === 'closed') {
          if (state.agentId && state.agentId !== now.agent_id && !transferred.has(row.id)) {
            violation(`conversation ${row.id}: the workflow says ${state.agentId}, the database ${now.agent_id}`);
          }
        }
        if (state.status === 'assigned' && !['assigned', 'closed'].includes(now.status))
          violation(`conversation ${row.id}: workflow assigned, database ${now.status}`);
      });
    }

    /** At rest, every workflow agrees exactly with its row (signals may still be landing). */
    async function workflowsAgreeWithDatabase(what: string): Promise<void> {
      let mismatches: string[] = [];
      await eventually(
        async () => {
          const rows = (await h.db('conversations').select()) as ConversationRow[];
          mismatches = [];
          await mapLimit(rows, 16, async (row) => {
            const state = await queryState(row.workflow_id);
            const dbAgent = row.status === 'assigned' || row.status === 'closed' ? row.agent_id : null;
            if (!state || state.conversationId !== row.id || state.status !== row.status || (state.agentId ?? null) !== dbAgent) {
              mismatches.push(`${row.id}: db ${row.status}/${row.agent_id}, workflow ${state?.status}/${state?.agentId}`);
            }
          });
          return mismatches.length === 0;
        },
        WAIT_MS,
        `${what}: every workflow agrees with its row`,
      ).catch((error: Error) => {
        throw new Error(`${error.message}; ${mismatches.length} disagree, e.g. ${mismatches.slice(0, 5).join('; ')}`);
      });
    }

    async function queryState(workflowId: string): Promise<ConversationState | null> {
      return h.env.client.workflow.getHandle(workflowId).query(conversationStateQuery);
    }

    async function counts(): Promise<Record<string, number>> {
      const rows = (await h.db('conversations').groupBy('status').select('status').count<{ status: string; count: string }[]>('* as count')) as {
        status: string;
        count: string;
      }[];
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.count)]));
    }

    async function loadOf(agentId: string): Promise<number> {
      const [{ count }] = await h.db('conversations').where({ agent_id: agentId, status: 'assigned' }).count<{ count: string }[]>('* as count');
      return Number(count);
    }

    async function queueInOrder(): Promise<ConversationRow[]> {
      return h
        .db('conversations')
        .where({ status: 'queued' })
        .orderBy([{ column: 'queued_at' }, { column: 'id' }])
        .select();
    }

    // ---- Closers: each agent closes its oldest conversation, again and again. ----
    let closed = 0;
    let closeConflicts = 0;
    let closeLimit = CLOSED_IN_PHASE_ONE;
    let closing = true;
    async function closer(agentId: string): Promise<void> {
      while (closing) {
        if (closed >= closeLimit) {
          await sleep(20);
          continue;
        }
        const oldest = (await h
          .db('conversations')
          .where({ agent_id: agentId, status: 'assigned' })
          .orderBy([{ column: 'assigned_at' }, { column: 'id' }])
          .first()) as ConversationRow | undefined;
        if (!oldest) {
          await sleep(20);
          continue;
        }
        // The agent acts once their inbox shows it, i.e. once the workflow knows.
        const state = await queryState(oldest.workflow_id);
        if (state?.conversationId !== oldest.id || state.status !== 'assigned' || state.agentId !== agentId) {
          await sleep(10);
          continue;
        }
        // Check and count with no await in between, so the closers never overshoot a phase.
        if (closed >= closeLimit) continue;
        closed += 1;
        const result = await h.env.client.workflow
          .getHandle(oldest.workflow_id)
          .executeUpdate(closeUpdate, { args: [{ conversationId: oldest.id, agentId }] })
          .then(() => ({ ok: true as const }))
          .catch((error: Error) => ({ ok: false as const, message: error.message }));
        if (!result.ok) {
          closed -= 1;
          closeConflicts += 1;
          violation(`${agentId} could not close ${oldest.id}, which the workflow showed as theirs: ${result.message}`);
        }
      }
    }

    /**
     * The sampler, closers and sweeper stop whatever way the run ends: left running after
     * a failure they would go on using the harness's client and pool once closed, and
     * fail whichever test runs next.
     */
    const closers: Promise<void>[] = [];
    let sweeper: Promise<void> = Promise.resolve();
    const stopBackground = async () => {
      closing = false;
      sampling = false;
      await Promise.allSettled([sampler, ...closers, sweeper]);
    };

    const waitedFor = async (what: string, check: () => Promise<boolean>, timeoutMs = WAIT_MS) =>
      eventually(async () => (await check()) || undefined, timeoutMs, what).catch(async (error: Error) => {
        throw new Error(`${error.message}; conversations by status ${JSON.stringify(await counts())}, ${closed} closed by the agents`);
      });

    await h.run(async () => {
      try {
        await phases();
      } finally {
        await stopBackground();
      }
    });

    async function phases(): Promise<void> {
      // ---- Phase 1: everyone writes at once while the agents close conversations. ----
      closers.push(...Object.keys(AGENTS).map((id) => closer(id)));
      const arrivalStarted = Date.now();
      const now = await h.now();
      const events = Array.from({ length: CONTACTS }, (_, i) => inboundText(`US.LOAD${String(i).padStart(4, '0')}`, `help ${i}`, now + i));
      const batches: InboundMessageEvent[][] = [];
      for (let i = 0; i < events.length; i += BATCH_SIZE) batches.push(events.slice(i, i + BATCH_SIZE));
      await Promise.all(batches.map((batch) => h.intake.accept(batch)));
      const arrivalMs = Date.now() - arrivalStarted;

      await waitedFor('every conversation opened and routed', async () => {
        const c = await counts();
        return (c.unassigned ?? 0) === 0 && Object.values(c).reduce((a, b) => a + b, 0) === CONTACTS;
      });
      await sweepWorkflows();
      await waitedFor('phase one closes', async () => closed >= CLOSED_IN_PHASE_ONE && ((await counts()).closed ?? 0) === CLOSED_IN_PHASE_ONE);
      await workflowsAgreeWithDatabase('after phase one');
      const afterPhaseOne = await counts();
      const fullLoad = Object.values(AGENTS).reduce((a, b) => a + b, 0);
      assert.deepEqual(afterPhaseOne, { closed: CLOSED_IN_PHASE_ONE, assigned: fullLoad, queued: CONTACTS - CLOSED_IN_PHASE_ONE - fullLoad });
      for (const [id, limit] of Object.entries(AGENTS)) assert.equal(await loadOf(id), limit, `${id} is full while people wait`);

      // ---- Phase 2a: an agent comes online; the oldest queued are theirs (R6). ----
      const queueBefore = await queueInOrder();
      await h.db('agents').insert({ id: LATE_AGENT.id, name: LATE_AGENT.id, reception_limit: LATE_AGENT.limit, status: 'online' });
      const drained = await h.env.client.workflow.execute('queueDrainWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: `queue-drain:${LATE_AGENT.id}:${randomUUID()}`,
        args: [{ agentId: LATE_AGENT.id }],
      });
      assert.equal(drained, LATE_AGENT.limit);
      const toLateAgent = (await h.db('conversations').where({ agent_id: LATE_AGENT.id }).select('id')) as { id: string }[];
      assert.deepEqual(
        toLateAgent.map((r) => r.id).sort(),
        queueBefore
          .slice(0, LATE_AGENT.limit)
          .map((r) => r.id)
          .sort(),
        'the agent who came online got the oldest queued conversations',
      );
      await workflowsAgreeWithDatabase('after an agent came online');

      // ---- Phase 2b: a conversation is transferred away; the freed place drains (R6). ----
      const giver = 'load-a3';
      const queueBeforeTransfer = await queueInOrder();
      const given = (await h.db('conversations').where({ agent_id: giver, status: 'assigned' }).orderBy('assigned_at').first()) as ConversationRow;
      transferred.add(given.id);
      const transfer = await h.env.client.workflow
        .getHandle(given.workflow_id)
        .executeUpdate(assignUpdate, { args: [{ conversationId: given.id, agentId: SUPERVISOR.id }] });
      assert.deepEqual(transfer, { status: 'assigned' });
      const next = await eventually(
        () => h.db('conversations').where({ id: queueBeforeTransfer[0].id, status: 'assigned' }).first(),
        WAIT_MS,
        'the freed place drained',
      );
      assert.equal(next.agent_id, giver, 'the oldest queued conversation went to the agent who transferred one away');
      assert.equal(await loadOf(giver), AGENTS[giver]);
      assert.equal((await h.db('conversations').where({ id: given.id }).first()).agent_id, SUPERVISOR.id);
      await workflowsAgreeWithDatabase('after a transfer');
      assert.deepEqual(await counts(), {
        closed: CLOSED_IN_PHASE_ONE,
        assigned: fullLoad + LATE_AGENT.limit + 1,
        queued: CONTACTS - CLOSED_IN_PHASE_ONE - fullLoad - LATE_AGENT.limit - 1,
      });

      // ---- Phase 3: everyone closes until the queue is empty and all are served. ----
      closeLimit = CONTACTS;
      closers.push(closer(LATE_AGENT.id), closer(SUPERVISOR.id));
      sweeper = (async () => {
        while (closing && closed < CONTACTS) {
          await sweepWorkflows();
          await sleep(500);
        }
      })();
      await waitedFor('every conversation served and closed', async () => ((await counts()).closed ?? 0) === CONTACTS, 2 * WAIT_MS);
      closing = false;
      await Promise.all([...closers, sweeper]);
      sampling = false;
      await sampler;

      // ---- The end state. ----
      const rows = (await h.db('conversations').select()) as ConversationRow[];
      assert.equal(rows.length, CONTACTS);
      for (const row of rows) {
        assert.equal(row.status, 'closed');
        assert.equal(row.close_reason, 'agent');
        assert.ok(row.agent_id, `conversation ${row.id} was served by an agent`);
        assert.ok(row.queued_at && row.assigned_at, `conversation ${row.id} went through the queue and was assigned`);
      }
      assert.deepEqual(await queueInOrder(), []);
      // FIFO over the whole run: in the order they entered the queue, they were assigned.
      const outOfOrder = (
        await h.db.raw(
          `SELECT prev_id || ' queued ' || prev_queued::text || ' assigned ' || prev_assigned::text ||
                  ' was assigned after ' || id || ' queued ' || queued_at::text || ' assigned ' || assigned_at::text AS pair
           FROM (SELECT id, queued_at, assigned_at,
                        lag(id) OVER w AS prev_id, lag(queued_at) OVER w AS prev_queued, lag(assigned_at) OVER w AS prev_assigned
                 FROM conversations WHERE NOT (id = ANY(?::uuid[]))
                 WINDOW w AS (ORDER BY queued_at, id)) AS ordered
           WHERE assigned_at < prev_assigned
           ORDER BY queued_at`,
          [[...transferred]],
        )
      ).rows.map((r: { pair: string }) => r.pair);
      const assignedBeforeQueued = (await h.db('conversations').whereRaw('assigned_at < queued_at').pluck('id')) as string[];
      // All at once, so a failure shows every broken invariant.
      assert.deepEqual(
        { violations, outOfOrder, assignedBeforeQueued, closeConflicts },
        { violations: [], outOfOrder: [], assignedBeforeQueued: [], closeConflicts: 0 },
        'no agent over their limit, no conversation with two agents, FIFO (conversations leave the queue in the order they entered it)',
      );
      await workflowsAgreeWithDatabase('at the end');
      for (const [id, limit] of [...Object.entries(AGENTS), [LATE_AGENT.id, LATE_AGENT.limit] as const]) {
        assert.ok((maxLoad.get(id) ?? 0) <= limit, `${id} peaked at ${maxLoad.get(id)}, limit ${limit}`);
      }
      const served = Object.fromEntries(
        [...Object.keys(AGENTS), LATE_AGENT.id, SUPERVISOR.id].map((id) => [id, rows.filter((r) => r.agent_id === id).length]),
      );
      console.log(
        `      ${CONTACTS} conversations, ${Object.keys(AGENTS).length}+1 agents (limits ${Object.values(AGENTS).join(', ')}, then ${LATE_AGENT.limit}) + 1 transfer: ` +
          `arrival ${arrivalMs} ms, total ${Date.now() - started} ms; ${samples} database samples, ${sweeps} workflow sweeps; ` +
          `served ${JSON.stringify(served)}; peak loads ${JSON.stringify(Object.fromEntries(maxLoad))}`,
      );
    }
  });
});

function inboundText(contactKey: string, body: string, sentAt: number): InboundMessageEvent {
  return inboundTextEvent(contactKey, body, { wamid: `wamid.LOAD${randomUUID()}`, sentAt, profileName: 'Load Customer' });
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}
