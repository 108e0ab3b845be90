import { getExternalWorkflowHandle, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { assignedFromQueueSignal } from './conversation/definitions';

// Database work: retried without limit, like the conversation's (see conversation-workflow).
const store = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * R6 when an agent's capacity grows through the API (they come online, their limit is
 * raised): the transaction assigns the oldest queued conversations, and this workflow
 * tells each of them. Running it as a workflow makes the notification survive a crash of
 * the API process between the two steps.
 */
export async function queueDrainWorkflow(input: { agentId: string }): Promise<number> {
  const assignments = await store.drainQueueForAgent({ agentId: input.agentId });
  for (const a of assignments) {
    try {
      await getExternalWorkflowHandle(a.workflowId).signal(assignedFromQueueSignal, { agentId: a.agentId, conversationId: a.conversationId });
    } catch (error) {
      log.warn('could not notify an assigned conversation', { conversationId: a.conversationId, error: String(error) });
    }
  }
  if (assignments.length > 0) await store.acknowledgeAssignments({ assignments });
  return assignments.length;
}
