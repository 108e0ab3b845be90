// The worker bundles everything exported here into Temporal's deterministic sandbox.
export { conversationWorkflow } from './conversation/conversation-workflow';
export { welcomeWorkflow } from './welcome-workflow';
