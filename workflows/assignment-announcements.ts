import { getExternalWorkflowHandle, log } from '@temporalio/workflow';
import { database } from './activity-profiles';
import { assignedFromQueueSignal } from './conversation/contract';
import type { Assignment } from './rules/vocabulary';

/**
 * Tells conversations that a transaction assigned them, then clears their outbox rows.
 * Should the caller be lost halfway, the rows stay and the sweeper announces them again
 * (the conversations ignore a repeat). `deliverHere` lets a conversation workflow take
 * its own assignment directly instead of signalling itself.
 */
export async function announceAssignments(assignments: Assignment[], deliverHere?: (assignment: Assignment) => boolean): Promise<void> {
  if (assignments.length === 0) return;
  for (const a of assignments) {
    if (deliverHere?.(a)) continue;
    try {
      await getExternalWorkflowHandle(a.workflowId).signal(assignedFromQueueSignal, { agentId: a.agentId, conversationId: a.conversationId });
    } catch (error) {
      // The conversation ended meanwhile: its close already released the capacity again.
      log.warn('could not notify an assigned conversation', { conversationId: a.conversationId, error: String(error) });
    }
  }
  await database.acknowledgeAssignments({ assignments });
}
