import { type AutomationSettings, withDefaults } from '../workflows/rules/automation-settings';
import { type Assignment, type RoutingMode, type RoutingOutcome, acknowledgeAssignments, reconcileAssignments } from '../src/assignment/assignment-store';
import type { CloseReason } from '../workflows/rules/conversation-machine';
import type { ActivityDeps } from './deps';

export function createConversationActivities({ db, assignments }: ActivityDeps) {
  return {
    async loadAutomationSettings(phoneNumberId: string): Promise<AutomationSettings> {
      const row = await db('automation_settings').where({ phone_number_id: phoneNumberId }).first('settings');
      return withDefaults(row?.settings);
    },

    /** Idempotent: a retried attempt finds the row its earlier attempt wrote. */
    async openConversation(input: { conversationId: string; workflowId: string; phoneNumberId: string; contactId: string; openedAt: number }): Promise<void> {
      await db('conversations')
        .insert({
          id: input.conversationId,
          workflow_id: input.workflowId,
          phone_number_id: input.phoneNumberId,
          contact_id: input.contactId,
          status: 'unassigned',
          opened_at: new Date(input.openedAt),
        })
        .onConflict('id')
        .ignore();
    },

    async attachCustomerMessages(input: { conversationId: string; messageIds: string[]; lastCustomerMessageAt: number | null }): Promise<void> {
      await db.transaction(async (trx) => {
        await trx('messages').whereIn('id', input.messageIds).update({ conversation_id: input.conversationId });
        if (input.lastCustomerMessageAt !== null) {
          await trx('conversations')
            .where({ id: input.conversationId })
            .update({ last_customer_message_at: new Date(input.lastCustomerMessageAt), updated_at: trx.fn.now() });
        }
      });
    },

    async routeConversation(input: { conversationId: string; mode: RoutingMode; preferLastAgent: boolean }): Promise<RoutingOutcome> {
      return assignments.route(input);
    },

    async claimConversation(input: { conversationId: string; agentId: string }): Promise<'claimed' | 'not_waiting' | 'unknown_agent'> {
      return assignments.claim(input.conversationId, input.agentId);
    },

    /** Admin transfer; the previous agent's freed capacity goes to the queue (R6). */
    async transferConversation(input: { conversationId: string; agentId: string }): Promise<{ result: 'transferred' | 'closed' | 'unknown_agent'; drained: Assignment[] }> {
      const { result, previousAgentId } = await assignments.transfer(input.conversationId, input.agentId);
      const drained = previousAgentId ? await assignments.drainForAgent(previousAgentId) : [];
      return { result, drained };
    },

    /** Who holds the conversation according to the database (the arbiter of assignment). */
    async currentAssignment(input: { conversationId: string }): Promise<{ status: string | null; agentId: string | null }> {
      const row = await db('conversations').where({ id: input.conversationId }).first('status', 'agent_id');
      return { status: row?.status ?? null, agentId: row?.agent_id ?? null };
    },

    /** Removes outbox rows of assignments whose workflows have now been told. */
    async acknowledgeAssignments(input: { assignments: { conversationId: string; agentId: string }[] }): Promise<void> {
      await acknowledgeAssignments(db, input.assignments);
    },

    /** The sweeper's pass: drains lost drains, returns notifications that may have been lost. */
    async reconcileAssignments(input: { olderThanMs: number }): Promise<Assignment[]> {
      return reconcileAssignments(db, assignments, input.olderThanMs);
    },

    async drainQueueForAgent(input: { agentId: string }): Promise<Assignment[]> {
      return assignments.drainForAgent(input.agentId);
    },

    async listOpenConversations(input: { phoneNumberId: string; afterConversationId: string | null; limit: number }): Promise<{ conversationId: string; workflowId: string }[]> {
      const rows = await db('conversations')
        .where({ phone_number_id: input.phoneNumberId })
        .whereNot({ status: 'closed' })
        .modify((q) => {
          if (input.afterConversationId) q.where('id', '>', input.afterConversationId);
        })
        .orderBy('id')
        .limit(input.limit)
        .select('id', 'workflow_id');
      return rows.map((r: { id: string; workflow_id: string }) => ({ conversationId: r.id, workflowId: r.workflow_id }));
    },

    /** Closes the conversation and hands the agent's freed capacity to the queue (R6). */
    async closeConversation(input: { conversationId: string; reason: CloseReason }): Promise<{ drained: Assignment[] }> {
      const agentId = await db.transaction(async (trx) => {
        const row = await trx('conversations').where({ id: input.conversationId }).forUpdate().first('status', 'agent_id');
        if (row && row.status !== 'closed') {
          await trx('conversations')
            .where({ id: input.conversationId })
            .update({ status: 'closed', close_reason: input.reason, closed_at: trx.fn.now(), updated_at: trx.fn.now() });
        }
        return (row?.agent_id as string | null | undefined) ?? null;
      });
      // A retried attempt (row already closed) still drains: draining is idempotent.
      return { drained: agentId ? await assignments.drainForAgent(agentId) : [] };
    },
  };
}
