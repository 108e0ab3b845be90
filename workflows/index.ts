// The worker bundles everything exported here into Temporal's deterministic sandbox.
export { conversationWorkflow } from './conversation/conversation-workflow';
export { welcomeWorkflow } from './welcome/welcome-workflow';
export { queueDrainWorkflow } from './queue-drain/queue-drain-workflow';
export { agentOfflineWorkflow } from './agent-offline/agent-offline-workflow';
export { settingsBroadcastWorkflow } from './settings-broadcast/settings-broadcast-workflow';
export { assignmentSweeperWorkflow } from './assignment-sweeper/assignment-sweeper-workflow';
export { eventDeliveryWorkflow } from './event-delivery/event-delivery-workflow';
