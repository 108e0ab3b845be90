import type { AutomationSettings } from '../workflows/rules/automation-settings';
import type { TimerChange } from '../workflows/rules/timer-changes';
import type { Assignment, CloseReason, RoutingMode, RoutingOutcome } from '../workflows/rules/vocabulary';
import type { ActivityDeps } from './deps';

export function createConversationActivities({ store }: ActivityDeps) {
  const { assignments } = store;
  return {
    async loadAutomationSettings(phoneNumberId: string): Promise<AutomationSettings> {
      return store.settings.get(phoneNumberId);
    },

    /** Idempotent: a retried attempt finds the row its earlier attempt wrote. */
    async openConversation(input: {
      conversationId: string;
      workflowId: string;
      phoneNumberId: string;
      contactId: string;
      openedAt: number;
    }): Promise<void> {
      await store.conversations.open({
        id: input.conversationId,
        workflowId: input.workflowId,
        phoneNumberId: input.phoneNumberId,
        contactId: input.contactId,
        openedAt: new Date(input.openedAt),
      });
    },

    async attachCustomerMessages(input: { conversationId: string; messageIds: string[]; lastCustomerMessageAt: number | null }): Promise<void> {
      await store.conversations.attachMessages({
        conversationId: input.conversationId,
        messageIds: input.messageIds,
        lastCustomerMessageAt: input.lastCustomerMessageAt === null ? null : new Date(input.lastCustomerMessageAt),
      });
    },

    async routeConversation(input: { conversationId: string; mode: RoutingMode; preferLastAgent: boolean }): Promise<RoutingOutcome> {
      return assignments.route(input);
    },

    async claimConversation(input: { conversationId: string; agentId: string }): Promise<'claimed' | 'not_waiting' | 'unknown_agent'> {
      return assignments.claim(input.conversationId, input.agentId);
    },

    /** Admin transfer; the previous agent's freed capacity goes to the queue (R6). */
    async transferConversation(input: {
      conversationId: string;
      agentId: string;
    }): Promise<{ result: 'transferred' | 'closed' | 'unknown_agent'; drained: Assignment[] }> {
      const { result, previousAgentId } = await assignments.transfer(input.conversationId, input.agentId);
      const drained = previousAgentId ? await assignments.drainForAgent(previousAgentId) : [];
      return { result, drained };
    },

    /**
     * R13: takes the conversation from the agent and routes it again; the agent's freed
     * capacity goes to the queue (R6). A retried attempt returns the outcome that stands.
     */
    async reassignConversation(input: {
      conversationId: string;
      fromAgentId: string;
      waitingSince: number;
      reason: 'reassigned' | 'agent_offline';
      preferLastAgent: boolean;
    }): Promise<RoutingOutcome & { drained: Assignment[] }> {
      const outcome = await assignments.reassign({ ...input, waitingSince: new Date(input.waitingSince) });
      return { ...outcome, drained: await assignments.drainForAgent(input.fromAgentId) };
    },

    /** R13: the conversations an agent who went offline holds. */
    async listAssignedConversations(input: { agentId: string }): Promise<{ conversationId: string; workflowId: string }[]> {
      return assignments.assignedTo(input.agentId);
    },

    /** Who holds the conversation according to the database (the arbiter of assignment). */
    async currentAssignment(input: { conversationId: string }): Promise<{ status: string | null; agentId: string | null }> {
      const conversation = await store.conversations.get(input.conversationId);
      return { status: conversation?.status ?? null, agentId: conversation?.agentId ?? null };
    },

    /** Removes outbox rows of assignments whose workflows have now been told. */
    async acknowledgeAssignments(input: { assignments: { conversationId: string; agentId: string }[] }): Promise<void> {
      await store.assignmentOutbox.acknowledge(input.assignments);
    },

    /** The sweeper's pass: drains lost drains, returns notifications that may have been lost. */
    async reconcileAssignments(input: { olderThanMs: number }): Promise<Assignment[]> {
      return store.assignmentOutbox.reconcile(input.olderThanMs);
    },

    async drainQueueForAgent(input: { agentId: string }): Promise<Assignment[]> {
      return assignments.drainForAgent(input.agentId);
    },

    async listOpenConversations(input: {
      phoneNumberId: string;
      afterConversationId: string | null;
      limit: number;
    }): Promise<{ conversationId: string; workflowId: string }[]> {
      const open = await store.conversations.listOpen({ phoneNumberId: input.phoneNumberId, afterId: input.afterConversationId, limit: input.limit });
      return open.map((c) => ({ conversationId: c.id, workflowId: c.workflowId }));
    },

    /** The timeline's timer entries (armed, re-armed, cancelled, fired); a retry records nothing twice. */
    async recordTimerChanges(input: { conversationId: string; changes: (TimerChange & { key: string })[] }): Promise<void> {
      await store.activity.recordRuleEntries(
        input.conversationId,
        // Entries take the database's clock, like every other entry, so the timeline reads in
        // order; the workflow's moment of decision is at most a database round trip earlier.
        input.changes.map(({ key, change, rule, dueAt, previousDueAt }) => ({
          key,
          kind: `timer_${change}`,
          details: {
            rule,
            dueAt: new Date(dueAt).toISOString(),
            ...(previousDueAt === undefined ? {} : { previousDueAt: new Date(previousDueAt).toISOString() }),
          },
        })),
      );
    },

    /** Closes the conversation and hands the agent's freed capacity to the queue (R6). */
    async closeConversation(input: { conversationId: string; reason: CloseReason }): Promise<{ drained: Assignment[] }> {
      const { agentId } = await store.conversations.close(input.conversationId, input.reason);
      // A retried attempt (row already closed) still drains: draining is idempotent.
      return { drained: agentId ? await assignments.drainForAgent(agentId) : [] };
    },
  };
}
