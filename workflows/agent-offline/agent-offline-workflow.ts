import { getExternalWorkflowHandle, log } from '@temporalio/workflow';
import { database } from '../activity-profiles';
import { agentOfflineSignal } from '../conversation/contract';
import type { AgentOfflineWorkflowInput } from './contract';

/**
 * R13 when an agent goes offline through the API: tells each conversation they hold, and
 * each conversation's rules decide (only with `reassign.onAgentOffline`, and only when it
 * awaits the agent's reply). A workflow, so the telling survives a crash of the API process.
 */
export async function agentOfflineWorkflow(input: AgentOfflineWorkflowInput): Promise<number> {
  const held = await database.listAssignedConversations({ agentId: input.agentId });
  for (const c of held) {
    try {
      await getExternalWorkflowHandle(c.workflowId).signal(agentOfflineSignal, { agentId: input.agentId, conversationId: c.conversationId });
    } catch (error) {
      // The conversation ended meanwhile: nothing to reassign.
      log.warn('could not tell a conversation its agent went offline', { conversationId: c.conversationId, error: String(error) });
    }
  }
  return held.length;
}
