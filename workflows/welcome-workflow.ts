import { workflowInfo } from '@temporalio/workflow';
import type { OutboundMessageContent } from './rules/automation-settings';
import { database, whatsapp } from './activity-profiles';

export interface WelcomeWorkflowInput {
  phoneNumberId: string;
  contactId: string;
  /** The request_welcome event's timestamp: it opens the customer-service window. */
  requestedAt: number;
}

/** The workflow id makes a contact's welcome unique, however often Meta asks. */
export function welcomeWorkflowId(phoneNumberId: string, contactId: string): string {
  return `welcome:${phoneNumberId}:${contactId}`;
}

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
    message: settings.welcome.message as OutboundMessageContent,
    lastCustomerMessageAt: input.requestedAt,
  });
}
