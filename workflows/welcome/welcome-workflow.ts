import { workflowInfo } from '@temporalio/workflow';
import { database, whatsapp } from '../activity-profiles';
import type { WelcomeWorkflowInput } from './contract';

/**
 * R1 on a `request_welcome` event: the contact opened the chat but wrote nothing yet, so
 * there is no conversation for agents; the welcome is sent on its own.
 */
export async function welcomeWorkflow(input: WelcomeWorkflowInput): Promise<void> {
  const settings = await database.loadAutomationSettings(input.phoneNumberId);
  if (!settings.welcome.enabled) return;
  await whatsapp.sendMessage({
    idempotencyKey: `${workflowInfo().workflowId}:welcome`,
    phoneNumberId: input.phoneNumberId,
    contactId: input.contactId,
    conversationId: null,
    author: 'automation',
    automation: 'welcome',
    agentId: null,
    message: settings.welcome.message,
    lastCustomerMessageAt: input.requestedAt,
  });
}
