// The worker bundles everything exported here into Temporal's deterministic sandbox.
export { conversationWorkflow } from './conversation/conversation-workflow';
export { welcomeWorkflow } from './welcome-workflow';
export { queueDrainWorkflow } from './queue-drain-workflow';
export { settingsBroadcastWorkflow } from './settings-broadcast-workflow';
export { assignmentSweeperWorkflow } from './assignment-sweeper-workflow';
