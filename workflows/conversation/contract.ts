/**
 * The conversation workflow's public surface, defined once and shared by the workflow,
 * the webhook receiver, the HTTP API and the tests. Importing this module never loads the
 * workflow's implementation.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AutomationSettings } from '../rules/automation-settings';
import type { ConversationState } from '../rules/conversation-machine';
import type { OutboundMessageContent } from '../rules/vocabulary';

export const CONVERSATION_WORKFLOW_TYPE = 'conversationWorkflow';

/** One workflow id per (number, contact); each run is one conversation. No phone number in it. */
export function conversationWorkflowId(phoneNumberId: string, contactId: string): string {
  return `conversation:${phoneNumberId}:${contactId}`;
}

/**
 * A workflow task that its worker never completes (the worker was killed, or the server
 * handed the task to a poll being cancelled by a shutdown) is retried after this long.
 * Temporal's default is 10 s; a conversation task takes milliseconds, so 5 s halves the
 * worst lateness after a restart and still leaves a loaded worker room.
 */
export const CONVERSATION_WORKFLOW_TASK_TIMEOUT = '5 seconds';

export interface ConversationWorkflowInput {
  phoneNumberId: string;
  contactId: string;
  /** Set by continue-as-new: the conversation carries on with this state. */
  resumeState?: ConversationState;
  /** Set by continue-as-new: customer messages that arrived as the previous conversation closed. */
  carriedMessages?: CustomerMessageSignal[];
  /** Continues the numbering of outbound messages (their idempotency keys) across runs. */
  outboundSequence?: number;
  /** History length that triggers continue-as-new (default 5,000; tests set it low). */
  continueAsNewAfterEvents?: number;
}

export interface CustomerMessageSignal {
  /** Our message row id (the wamid stays in the database). */
  messageId: string;
  /** Meta's timestamp, epoch ms. */
  sentAt: number;
  opensServiceWindow: boolean;
  isFirstContact: boolean;
}

export const customerMessageSignal = defineSignal<[CustomerMessageSignal]>('customerMessage');
/** The queue was drained into this conversation (the database already records it). */
export const assignedFromQueueSignal = defineSignal<[{ agentId: string; conversationId: string }]>('assignedFromQueue');
export const settingsChangedSignal = defineSignal<[{ settings: AutomationSettings }]>('settingsChanged');
/** R13: the agent went offline; the conversation decides whether to be routed again. */
export const agentOfflineSignal = defineSignal<[{ agentId: string; conversationId: string }]>('agentOffline');

/** What a conversation action returns once it took effect. */
export interface ConversationActionResult {
  /** The message sent, for replies. */
  messageId?: string;
  status?: string;
}

/**
 * The one way a conversation refuses an action: the update fails with an
 * ApplicationFailure of this type (from its validator, or from the main loop when the
 * action's turn came and the state no longer allowed it). The HTTP API answers 409.
 */
export const CONVERSATION_CONFLICT = 'Conflict';

/**
 * Every update names the conversation it is meant for: the workflow id is shared by all
 * of a contact's conversations, so a request for one that has closed must not reach the
 * next one.
 */
export interface Addressed {
  conversationId: string;
}

export const claimUpdate = defineUpdate<ConversationActionResult, [Addressed & { agentId: string }]>('claim');
export const assignUpdate = defineUpdate<ConversationActionResult, [Addressed & { agentId: string }]>('assign');
export const agentReplyUpdate = defineUpdate<ConversationActionResult, [Addressed & { agentId: string; message: OutboundMessageContent }]>(
  'agentReply',
);
export const closeUpdate = defineUpdate<ConversationActionResult, [Addressed & { agentId?: string }]>('close');
export const botReplyUpdate = defineUpdate<ConversationActionResult, [Addressed & { message: OutboundMessageContent }]>('botReply');
export const botHandoverUpdate = defineUpdate<ConversationActionResult, [Addressed]>('botHandover');
export const botCompleteUpdate = defineUpdate<ConversationActionResult, [Addressed]>('botComplete');

export const conversationStateQuery = defineQuery<ConversationState | null>('state');
