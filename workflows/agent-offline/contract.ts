/** The agent-offline workflow's public surface (R13 `reassign.onAgentOffline`). */
export const AGENT_OFFLINE_WORKFLOW_TYPE = 'agentOfflineWorkflow';

export interface AgentOfflineWorkflowInput {
  agentId: string;
}

/** One per status change; `changeId` makes it unique (an agent may go offline again later). */
export function agentOfflineWorkflowId(agentId: string, changeId: string): string {
  return `agent-offline:${agentId}:${changeId}`;
}
