/** The settings-broadcast workflow's public surface (R12). */
export const SETTINGS_BROADCAST_WORKFLOW_TYPE = 'settingsBroadcastWorkflow';

export interface SettingsBroadcastWorkflowInput {
  phoneNumberId: string;
  /** Set by continue-as-new: the page starts after this conversation. */
  afterConversationId?: string;
}

/** One broadcast per number: a newer save replaces a running one. */
export function settingsBroadcastWorkflowId(phoneNumberId: string): string {
  return `settings-broadcast:${phoneNumberId}`;
}
