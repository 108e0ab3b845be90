/** The welcome workflow's public surface (R1 on a `request_welcome` event). */
export const WELCOME_WORKFLOW_TYPE = 'welcomeWorkflow';

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
