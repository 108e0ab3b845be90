/**
 * Who serves which conversation (R3, R6) is decided here, in PostgreSQL transactions,
 * not in workflows. Agents serve many numbers and their load spans all of them, so no
 * single per-conversation or per-number workflow could see a whole agent; a row lock on
 * the agents involved serialises exactly the decisions that compete for the same
 * capacity and lets everything else run in parallel. Conversation workflows learn the
 * outcome from the activity that ran the transaction (durably recorded in their
 * history), or by a signal sent from the workflow whose action freed the capacity.
 */
import type { Knex } from 'knex';
import type { Database } from '../db/knex';
import type { Assignment, RoutingMode, RoutingOutcome, RoutingReason } from '../../workflows/rules/vocabulary';

interface AgentRow {
  id: string;
  reception_limit: number;
  last_assigned_at: Date | null;
  phone_number_ids: string[] | null;
}

interface AgentCapacity extends AgentRow {
  load: number;
}

export class AssignmentStore {
  constructor(private readonly db: Database) {}

  /** R3: routes a conversation that has just opened (or was handed over by a bot). */
  async route(input: { conversationId: string; mode: RoutingMode; preferLastAgent: boolean }): Promise<RoutingOutcome> {
    return this.db.transaction(async (trx) => {
      const conversation = await trx('conversations').where({ id: input.conversationId }).forUpdate().first();
      if (!conversation) throw new Error(`conversation ${input.conversationId} does not exist`);
      if (conversation.status === 'closed') return { status: 'unassigned', agentId: null, othersAssigned: [] };
      // A retried activity must not route twice: an earlier attempt's outcome stands.
      if (conversation.status === 'assigned' || conversation.status === 'queued') {
        return { status: conversation.status, agentId: conversation.agent_id, othersAssigned: [] };
      }
      if (input.mode !== 'auto') {
        const status = input.mode === 'bot' ? 'bot' : 'unassigned';
        await because(trx, input.mode === 'bot' ? 'bot' : 'manual');
        await trx('conversations').where({ id: input.conversationId }).update({ status, updated_at: trx.fn.now() });
        return { status, agentId: null, othersAssigned: [] };
      }
      const agents = await lockOnlineAgents(trx, conversation.phone_number_id);
      if (agents.length === 0) {
        await because(trx, 'no_agent_online');
        await trx('conversations').where({ id: input.conversationId }).update({ status: 'unassigned', updated_at: trx.fn.now() });
        return { status: 'unassigned', agentId: null, othersAssigned: [] };
      }
      // Join the back of the queue, then drain it: whoever is ahead is served first (FIFO).
      // The moment of joining is read now, under the agents' locks, not at the start of the
      // transaction (now()): a transaction that began earlier but waited for the locks joins
      // after the ones that held them, and its queued_at must say so.
      await because(trx, 'queued');
      await trx('conversations')
        .where({ id: input.conversationId })
        .update({ status: 'queued', queued_at: clockNow(trx), updated_at: trx.fn.now() });
      const assignments = await drainNumberQueue(trx, conversation.phone_number_id, agents, input.preferLastAgent);
      const mine = assignments.find((a) => a.conversationId === input.conversationId);
      return {
        status: mine ? 'assigned' : 'queued',
        agentId: mine?.agentId ?? null,
        othersAssigned: assignments.filter((a) => a.conversationId !== input.conversationId),
      };
    });
  }

  /**
   * R13: takes the conversation from `fromAgentId` (who never gets it back in this
   * conversation) and routes it again as R3 `auto` among the other online agents of its
   * number. Queued, it stands where a customer waiting since `waitingSince` stands: ahead
   * of everyone who entered the queue after that. The old agent's freed capacity is
   * drained by the caller. A retried attempt (no longer assigned to that agent) gets the
   * conversation's current outcome.
   */
  async reassign(input: {
    conversationId: string;
    fromAgentId: string;
    waitingSince: Date;
    reason: Extract<RoutingReason, 'reassigned' | 'agent_offline'>;
    preferLastAgent: boolean;
  }): Promise<RoutingOutcome> {
    return this.db.transaction(async (trx) => {
      const found = await trx('conversations').where({ id: input.conversationId }).forUpdate().first();
      if (!found) throw new Error(`conversation ${input.conversationId} does not exist`);
      if (found.status !== 'assigned' || found.agent_id !== input.fromAgentId) {
        const status = found.status === 'closed' ? 'unassigned' : found.status;
        return { status, agentId: found.status === 'assigned' ? found.agent_id : null, othersAssigned: [] };
      }
      const excluded: string[] = [...new Set([...(found.excluded_agent_ids ?? []), input.fromAgentId])];
      // Its place in the queue, should it be queued (or the place it was served from).
      await trx('conversations').where({ id: input.conversationId }).update({ excluded_agent_ids: excluded, queued_at: input.waitingSince });
      const agents = await lockOnlineAgents(trx, found.phone_number_id);
      const candidate: QueuedRow = {
        id: found.id,
        workflow_id: found.workflow_id,
        contact_id: found.contact_id,
        queued_at: input.waitingSince,
        excluded_agent_ids: excluded,
      };
      const assignments =
        agents.length === 0
          ? []
          : await drainNumberQueue(trx, found.phone_number_id, agents, input.preferLastAgent, { row: candidate, reason: input.reason });
      const mine = assignments.find((a) => a.conversationId === input.conversationId);
      if (!mine) {
        // Nobody else online: unassigned; everyone else full: queued by when its customer began waiting.
        const status = agents.some((a) => !excluded.includes(a.id)) ? 'queued' : 'unassigned';
        await because(trx, input.reason);
        await trx('conversations')
          .where({ id: input.conversationId })
          .update({ status, agent_id: null, queued_at: status === 'queued' ? input.waitingSince : null, updated_at: trx.fn.now() });
        return { status, agentId: null, othersAssigned: assignments };
      }
      return { status: 'assigned', agentId: mine.agentId, othersAssigned: assignments.filter((a) => a !== mine) };
    });
  }

  /** R13: the conversations an agent holds (their workflows decide whether to be reassigned). */
  async assignedTo(agentId: string): Promise<{ conversationId: string; workflowId: string }[]> {
    const rows = await this.db('conversations').where({ agent_id: agentId, status: 'assigned' }).orderBy('id').select('id', 'workflow_id');
    return rows.map((r: { id: string; workflow_id: string }) => ({ conversationId: r.id, workflowId: r.workflow_id }));
  }

  /** R6: the agent's load may have dropped; give them the oldest queued conversations. */
  async drainForAgent(agentId: string): Promise<Assignment[]> {
    return this.db.transaction(async (trx) => {
      const agent = (await trx('agents').where({ id: agentId, status: 'online' }).forUpdate().first()) as AgentRow | undefined;
      if (!agent) return [];
      const [{ count }] = await trx('conversations').where({ agent_id: agentId, status: 'assigned' }).count<{ count: string }[]>('* as count');
      let load = Number(count);
      const assignments: Assignment[] = [];
      while (load < agent.reception_limit) {
        const next = await trx('conversations')
          .where({ status: 'queued' })
          .modify((q) => {
            if (agent.phone_number_ids) q.whereIn('phone_number_id', agent.phone_number_ids);
          })
          // R13: never back to an agent it was taken from.
          .whereRaw(`NOT (? = ANY(COALESCE(excluded_agent_ids, '{}')))`, [agentId])
          .orderBy([{ column: 'queued_at' }, { column: 'id' }])
          .forUpdate()
          .first('id', 'workflow_id');
        if (!next) break;
        await because(trx, 'queue_drain');
        await assign(trx, next.id, agentId);
        assignments.push({ conversationId: next.id, workflowId: next.workflow_id, agentId });
        load += 1;
      }
      return assignments;
    });
  }

  /**
   * R6 claim: any queued or unassigned conversation, even past the agent's limit. Exactly
   * one concurrent claim wins because the status check and the update are one statement.
   */
  async claim(conversationId: string, agentId: string): Promise<'claimed' | 'not_waiting' | 'unknown_agent'> {
    return this.db.transaction(async (trx) => {
      // Lock the agent like auto-assignment does, so a concurrent drain counts this claim.
      const agent = await trx('agents').where({ id: agentId }).forUpdate().first('id');
      if (!agent) return 'unknown_agent';
      await because(trx, 'claimed');
      const updated = await trx('conversations')
        .where({ id: conversationId })
        .whereIn('status', ['queued', 'unassigned'])
        .update({ status: 'assigned', agent_id: agentId, assigned_at: clockNow(trx), handled_by_human: true, updated_at: trx.fn.now() });
      if (updated === 0) {
        // A retried attempt finds its own earlier success.
        const current = await trx('conversations').where({ id: conversationId }).first('status', 'agent_id');
        return current?.status === 'assigned' && current.agent_id === agentId ? 'claimed' : 'not_waiting';
      }
      await trx('agents')
        .where({ id: agentId })
        .update({ last_assigned_at: clockNow(trx) });
      return 'claimed';
    });
  }

  /** Admin transfer; the previous agent's freed capacity is drained by the caller. */
  async transfer(
    conversationId: string,
    agentId: string,
  ): Promise<{ result: 'transferred' | 'closed' | 'unknown_agent'; previousAgentId: string | null }> {
    return this.db.transaction(async (trx) => {
      const agent = await trx('agents').where({ id: agentId }).forUpdate().first('id');
      if (!agent) return { result: 'unknown_agent', previousAgentId: null };
      const conversation = await trx('conversations').where({ id: conversationId }).forUpdate().first();
      if (!conversation || conversation.status === 'closed') return { result: 'closed', previousAgentId: null };
      await because(trx, 'transferred');
      await assign(trx, conversationId, agentId);
      const previous = conversation.status === 'assigned' && conversation.agent_id !== agentId ? conversation.agent_id : null;
      return { result: 'transferred', previousAgentId: previous };
    });
  }
}

async function lockOnlineAgents(trx: Knex.Transaction, phoneNumberId: string): Promise<AgentCapacity[]> {
  // Locked in id order so concurrent transactions over overlapping agents cannot deadlock.
  const agents = (await trx('agents')
    .where({ status: 'online' })
    .andWhere((q) => q.whereNull('phone_number_ids').orWhereRaw('? = ANY(phone_number_ids)', [phoneNumberId]))
    .orderBy('id')
    .forUpdate()
    .select('id', 'reception_limit', 'last_assigned_at', 'phone_number_ids')) as AgentRow[];
  if (agents.length === 0) return [];
  const loads = await trx('conversations')
    .whereIn(
      'agent_id',
      agents.map((a) => a.id),
    )
    .andWhere({ status: 'assigned' })
    .groupBy('agent_id')
    .select('agent_id')
    .count<{ agent_id: string; count: string }[]>('* as count');
  const loadByAgent = new Map(loads.map((l) => [l.agent_id, Number(l.count)]));
  return agents.map((a) => ({ ...a, load: loadByAgent.get(a.id) ?? 0 }));
}

interface QueuedRow {
  id: string;
  workflow_id: string;
  contact_id: string;
  queued_at: Date;
  excluded_agent_ids: string[] | null;
}

/**
 * Assigns the number's queue in FIFO order while any online agent has capacity. An agent a
 * conversation was taken from (R13) never gets it; such a conversation waits for another
 * agent while those behind it may be served. `candidate` (R13) is a conversation not in the
 * queue yet that takes its place by `queued_at` and, when assigned, records `reason`.
 */
async function drainNumberQueue(
  trx: Knex.Transaction,
  phoneNumberId: string,
  agents: AgentCapacity[],
  preferLastAgent: boolean,
  candidate?: { row: QueuedRow; reason: RoutingReason },
): Promise<Assignment[]> {
  const assignments: Assignment[] = [];
  const queued = (await trx('conversations')
    .where({ phone_number_id: phoneNumberId, status: 'queued' })
    .orderBy([{ column: 'queued_at' }, { column: 'id' }])
    .forUpdate()
    .select('id', 'workflow_id', 'contact_id', 'queued_at', 'excluded_agent_ids')) as QueuedRow[];
  if (candidate) {
    const at = candidate.row.queued_at.getTime();
    const index = queued.findIndex((q) => q.queued_at.getTime() > at || (q.queued_at.getTime() === at && q.id > candidate.row.id));
    queued.splice(index < 0 ? queued.length : index, 0, candidate.row);
  }
  for (const conversation of queued) {
    if (!agents.some((a) => a.load < a.reception_limit)) break;
    const excluded = conversation.excluded_agent_ids ?? [];
    const available = agents.filter((a) => a.load < a.reception_limit && !excluded.includes(a.id));
    if (available.length === 0) continue;
    const lastAgentId = preferLastAgent ? await previousAgentOf(trx, phoneNumberId, conversation.contact_id, conversation.id) : null;
    const lastAgent = available.find((a) => a.id === lastAgentId);
    const agent = lastAgent ?? leastLoaded(available);
    const isCandidate = conversation === candidate?.row;
    await because(trx, isCandidate ? candidate.reason : lastAgent ? 'last_agent' : 'least_loaded');
    await assign(trx, conversation.id, agent.id);
    agent.load += 1;
    agent.last_assigned_at = new Date();
    assignments.push({ conversationId: conversation.id, workflowId: conversation.workflow_id, agentId: agent.id });
  }
  return assignments;
}

/** R3: least loaded; ties go to whoever has waited longest since their last assignment. */
function leastLoaded(agents: AgentCapacity[]): AgentCapacity {
  return [...agents].sort(
    (a, b) => a.load - b.load || (a.last_assigned_at?.getTime() ?? 0) - (b.last_assigned_at?.getTime() ?? 0) || a.id.localeCompare(b.id),
  )[0];
}

async function previousAgentOf(
  trx: Knex.Transaction,
  phoneNumberId: string,
  contactId: string,
  excludeConversationId: string,
): Promise<string | null> {
  const row = await trx('conversations')
    .where({ phone_number_id: phoneNumberId, contact_id: contactId })
    .whereNot({ id: excludeConversationId })
    .whereNotNull('agent_id')
    .orderBy('opened_at', 'desc')
    .first('agent_id');
  return row?.agent_id ?? null;
}

async function assign(trx: Knex.Transaction, conversationId: string, agentId: string): Promise<void> {
  const row = await trx('conversations').where({ id: conversationId }).first('workflow_id');
  await trx('assignment_outbox')
    .insert({ conversation_id: conversationId, workflow_id: row.workflow_id, agent_id: agentId, created_at: clockNow(trx) })
    .onConflict('conversation_id')
    .merge();
  await trx('conversations')
    .where({ id: conversationId })
    .update({ status: 'assigned', agent_id: agentId, assigned_at: clockNow(trx), handled_by_human: true, updated_at: trx.fn.now() });
  await trx('agents')
    .where({ id: agentId })
    .update({ last_assigned_at: clockNow(trx) });
}

/**
 * Why the next change to a conversation in this transaction happens: the timeline trigger
 * (migration 0004) records it with the change, in the same transaction.
 */
async function because(trx: Knex.Transaction, reason: RoutingReason): Promise<void> {
  await trx.raw(`SELECT set_config('inbox.reason', ?, true)`, [reason]);
}

/**
 * The moment the statement runs. now() is the start of the transaction, which under
 * contention can be long before the row locks were granted: two drains that overlap
 * would record their assignments in the order they began, not the order they happened,
 * and queued_at / assigned_at would contradict the FIFO order the locks enforced.
 */
function clockNow(trx: Knex.Transaction): Knex.Raw {
  return trx.raw('clock_timestamp()');
}

/**
 * The safety net behind the outbox: assignments whose notification is older than
 * `olderThanMs` (its sender may have crashed), after first draining the queue into any
 * online agent who has room (a drain may have been lost the same way).
 */
export async function reconcileAssignments(db: Database, store: AssignmentStore, olderThanMs: number): Promise<Assignment[]> {
  const idle = await db('agents as a')
    .where('a.status', 'online')
    .whereRaw(`(SELECT count(*) FROM conversations c WHERE c.agent_id = a.id AND c.status = 'assigned') < a.reception_limit`)
    .whereExists(
      db('conversations as q')
        .where('q.status', 'queued')
        .andWhere((q) => q.whereNull('a.phone_number_ids').orWhereRaw('q.phone_number_id = ANY(a.phone_number_ids)'))
        .andWhereRaw(`NOT (a.id = ANY(COALESCE(q.excluded_agent_ids, '{}')))`),
    )
    .select('a.id');
  for (const agent of idle) await store.drainForAgent(agent.id);
  const rows = await db('assignment_outbox')
    .where('created_at', '<', db.raw(`clock_timestamp() - make_interval(secs => ?)`, [olderThanMs / 1000]))
    .orWhereIn(
      'agent_id',
      idle.map((a: { id: string }) => a.id),
    )
    .select('conversation_id', 'workflow_id', 'agent_id');
  return rows.map((r: { conversation_id: string; workflow_id: string; agent_id: string }) => ({
    conversationId: r.conversation_id,
    workflowId: r.workflow_id,
    agentId: r.agent_id,
  }));
}

/** The workflows named have been told (or told themselves); their outbox rows go. */
export async function acknowledgeAssignments(db: Database, assignments: { conversationId: string; agentId: string }[]): Promise<void> {
  for (const a of assignments) {
    // Only the notification that was sent: a newer assignment of the same conversation stays.
    await db('assignment_outbox').where({ conversation_id: a.conversationId, agent_id: a.agentId }).delete();
  }
}

export function createAssignmentStore(db: Database): AssignmentStore {
  return new AssignmentStore(db);
}
