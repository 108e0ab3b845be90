/**
 * The product's words, defined once (SPEC §2–§6). The rules machine, the stores, the
 * HTTP schemas, the OpenAPI document and the tests all derive from these lists, so a new
 * status or rule is added here and the compiler finds every place that must handle it.
 * No Temporal, no I/O: this module is safe in the workflow sandbox and everywhere else.
 */

// ---- Time -------------------------------------------------------------------------------
export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

// ---- Conversations ------------------------------------------------------------------------
/** Where a conversation stands (SPEC §2); what the database, the API and search attributes say. */
export const CONVERSATION_STATUSES = ['bot', 'unassigned', 'queued', 'assigned', 'closed'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];
/** The statuses a conversation is in until it closes. */
export type OpenConversationStatus = Exclude<ConversationStatus, 'closed'>;
/** The statuses routing can end in (R3, R8). */
export const ROUTED_STATUSES = ['bot', 'unassigned', 'queued', 'assigned'] as const satisfies readonly OpenConversationStatus[];
export type RoutedStatus = (typeof ROUTED_STATUSES)[number];
/**
 * Inside the workflow only: `routing` is the short moment between a request to route and
 * its outcome. It is never stored or published (the search attribute keeps the status
 * before it, or none yet for a new conversation).
 */
export type MachineStatus = ConversationStatus | 'routing';

/** R3: how a number routes new conversations. */
export const ROUTING_MODES = ['auto', 'manual', 'bot'] as const;
export type RoutingMode = (typeof ROUTING_MODES)[number];

/** Why a conversation closed. */
export const CLOSE_REASONS = ['agent', 'admin', 'auto_close', 'bot_completed', 'bot_timeout'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

// ---- Agents -------------------------------------------------------------------------------
/** Only online agents receive conversations (R3). */
export const AGENT_STATUSES = ['online', 'offline'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

// ---- Messages ---------------------------------------------------------------------------
export const MESSAGE_DIRECTIONS = ['inbound', 'outbound'] as const;
export type MessageDirection = (typeof MESSAGE_DIRECTIONS)[number];

/** The automated messages of the rules (R1, R4, R5, R7, R10), as recorded on each message. */
export const AUTOMATIONS = ['welcome', 'unassigned_reply', 'queue_reply', 'queue_position', 'out_of_office', 'reminder', 'csat'] as const;
export type Automation = (typeof AUTOMATIONS)[number];

/** Who wrote a message. */
export const MESSAGE_AUTHORS = ['customer', 'agent', 'bot', 'automation'] as const;
export type MessageAuthor = (typeof MESSAGE_AUTHORS)[number];
export type OutboundAuthor = Exclude<MessageAuthor, 'customer'>;

/** A Cloud API message object without `messaging_product` and `to` (SPEC §4): the one content type. */
export type OutboundMessageContent = { type: string } & Record<string, unknown>;

// ---- The 24-hour customer-service window (R11) --------------------------------------------
/** Meta allows free-form messages for 24 hours after the customer's last message. */
export const SERVICE_WINDOW_MS = 24 * HOUR;
/** Recorded on a message that was not sent because the window had closed. */
export const OUTSIDE_SERVICE_WINDOW = 'outside the 24-hour customer-service window';

/** Whether a free-form message may be sent at `at`, given the customer's last window-opening message. */
export function isWithinServiceWindow(lastCustomerMessageAt: number | null, at: number): boolean {
  return lastCustomerMessageAt !== null && at - lastCustomerMessageAt <= SERVICE_WINDOW_MS;
}

// ---- Assignment (R3, R6) ------------------------------------------------------------------
/** The database gave a conversation to an agent; its workflow must be told. */
export interface Assignment {
  conversationId: string;
  workflowId: string;
  agentId: string;
}

/** What routing decided for one conversation, and whom else the same transaction served. */
export interface RoutingOutcome {
  status: RoutedStatus;
  agentId: string | null;
  /** Other queued conversations that this transaction assigned (FIFO ahead of this one). */
  othersAssigned: Assignment[];
}

// ---- People and access (SPEC §6.1) ----------------------------------------------------------
/** A user signs in with a password; an agent user is the agent record of R3. */
export const USER_ROLES = ['admin', 'agent'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** An API key's role: `admin` may do everything, `bot` only the /bot/* endpoints and reads of bot conversations. */
export const API_KEY_ROLES = ['admin', 'bot'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/** Why routing gave a conversation to whom (or to nobody), as recorded in the timeline. */
export const ROUTING_REASONS = [
  'last_agent',
  'least_loaded',
  'queued',
  'queue_drain',
  'no_agent_online',
  'manual',
  'bot',
  'claimed',
  'transferred',
  // R13: taken from an agent who did not answer in time, or who went offline.
  'reassigned',
  'agent_offline',
] as const;
export type RoutingReason = (typeof ROUTING_REASONS)[number];

/** The kinds of timeline entry of a conversation (SPEC §6). */
export const TIMELINE_KINDS = [
  'opened',
  'message_received',
  'routed',
  'transferred',
  'timer_armed',
  'timer_rearmed',
  'timer_cancelled',
  'timer_fired',
  'automated_message_sent',
  'automated_message_skipped',
  'automated_message_failed',
  'reply_sent',
  'closed',
  'survey_answered',
  'action',
] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

/** Live change events (GET /api/events/stream). */
export const CHANGE_EVENT_TYPES = [
  'message.received',
  'message.sent',
  'message.status',
  'conversation.created',
  'conversation.status',
  'conversation.assigned',
  'conversation.closed',
  'queue.changed',
] as const;
export type ChangeEventType = (typeof CHANGE_EVENT_TYPES)[number];

/** Outbound event types a subscription may ask for (SPEC §9); written by the triggers of migration 0008. */
export const OUTBOUND_EVENT_TYPES = [
  'conversation.opened',
  'conversation.routed',
  'conversation.reassigned',
  'conversation.closed',
  'message.received',
  'message.sent',
  'message.status',
  'automation.skipped',
  'csat.answered',
  'agent.status',
] as const;
export type OutboundEventType = (typeof OUTBOUND_EVENT_TYPES)[number];
