import { database } from '../activity-profiles';
import { announceAssignments } from '../assignment-announcements';
import type { QueueDrainWorkflowInput } from './contract';

/**
 * R6 when an agent's capacity grows through the API (they come online, their limit is
 * raised): the transaction assigns the oldest queued conversations, and this workflow
 * tells each of them. Running it as a workflow makes the notification survive a crash of
 * the API process between the two steps.
 */
export async function queueDrainWorkflow(input: QueueDrainWorkflowInput): Promise<number> {
  const assignments = await database.drainQueueForAgent({ agentId: input.agentId });
  await announceAssignments(assignments);
  return assignments.length;
}
