/** The queue-drain workflow's public surface (R6 when an agent's capacity grows). */
export const QUEUE_DRAIN_WORKFLOW_TYPE = 'queueDrainWorkflow';

export interface QueueDrainWorkflowInput {
  agentId: string;
}

/** One drain per capacity change; `drainId` makes it unique (several may run for one agent). */
export function queueDrainWorkflowId(agentId: string, drainId: string): string {
  return `queue-drain:${agentId}:${drainId}`;
}
