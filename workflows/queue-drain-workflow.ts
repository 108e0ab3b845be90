import { getExternalWorkflowHandle, log } from '@temporalio/workflow';
import { assignedFromQueueSignal } from './conversation/definitions';
import { database } from './activity-profiles';

/**
 * R6 when an agent's capacity grows through the API (they come online, their limit is
 * raised): the transaction assigns the oldest queued conversations, and this workflow
 * tells each of them. Running it as a workflow makes the notification survive a crash of
 * the API process between the two steps.
 */
export async function queueDrainWorkflow(input: { agentId: string }): Promise<number> {
  const assignments = await database.drainQueueForAgent({ agentId: input.agentId });
  for (const a of assignments) {
    try {
      await getExternalWorkflowHandle(a.workflowId).signal(assignedFromQueueSignal, { agentId: a.agentId, conversationId: a.conversationId });
    } catch (error) {
      log.warn('could not notify an assigned conversation', { conversationId: a.conversationId, error: String(error) });
    }
  }
  if (assignments.length > 0) await database.acknowledgeAssignments({ assignments });
  return assignments.length;
}
