/**
 * The automation rules of SPEC §3 as a pure state machine:
 *
 *   step(state, event, now) → { state, commands }
 *   nextDeadline(state)     → when the machine next wants a `tick`
 *
 * No Temporal, no I/O, no clock: the conversation workflow feeds it signals and timer
 * ticks and carries out the commands it returns through activities. Every time is epoch
 * milliseconds so the state is plain JSON (it must survive continue-as-new).
 *
 * Timers are not stored: each deadline is derived from the moment its rule started
 * counting plus the current settings, so a settings change (R12) re-arms every timer
 * against the same starting moment simply by changing the settings.
 */
import type { AutomationSettings } from './automation-settings';
import { addBusinessTime, closedPeriodStart } from './business-hours';
import {
  type Automation,
  type CloseReason,
  type ConversationStatus,
  type MachineStatus,
  MINUTE,
  type OutboundMessageContent,
  OUTSIDE_SERVICE_WINDOW,
  type RoutedStatus,
  type RoutingMode,
  isWithinServiceWindow,
} from './vocabulary';

/** R8: a bot conversation closes after 10 minutes without the customer answering. */
export const BOT_INACTIVITY_MS = 10 * MINUTE;
/** SPEC §3: every timer fires within one second of its deadline. */
const TIMER_PUNCTUALITY_MS = 1_000;
/** How many message ids the machine remembers to drop duplicate deliveries. */
const SEEN_MESSAGE_IDS_KEPT = 200;

export interface ConversationState {
  conversationId: string;
  phoneNumberId: string;
  contactId: string;
  status: MachineStatus;
  agentId: string | null;
  settings: AutomationSettings;
  openedAt: number;
  /** R11: the customer's last window-opening message, by Meta's timestamp. */
  lastCustomerMessageAt: number | null;
  /** R4: when the conversation entered `unassigned` and its reply is still owed. */
  unassignedReplyOwedSince: number | null;
  /** R7: the first customer message of the current unanswered stretch. */
  unansweredSince: number | null;
  reminderSentInStretch: boolean;
  assignedAt: number | null;
  /** R9: the agent reply that is the last message, automated ones aside. */
  lastAgentReplyAwaitingCustomer: number | null;
  /** R8: last exchange in a bot conversation. */
  botActiveAt: number | null;
  closeReason: CloseReason | null;
  seenMessageIds: string[];
  /**
   * R15, while queued: when it entered the queue, when its place was last looked at for a
   * position update, and the place the customer was last told (or had at entry). Absent
   * in states from before R15: read as null.
   */
  queuedAt?: number | null;
  positionCheckedAt?: number | null;
  toldPosition?: number | null;
  /** R14: the closed period (its start) the out-of-office message was sent in; absent before R14. */
  outOfOfficePeriod?: number | null;
  /** R13: the agents this conversation was taken from (never routed back to them); absent before R13. */
  excludedAgentIds?: string[];
}

export type ConversationEvent =
  | {
      type: 'customer_message';
      messageId: string;
      /** Meta's timestamp of the message. */
      sentAt: number;
      /** Reactions, system and unsupported messages do not (see WHATSAPP.md §3.1). */
      opensServiceWindow: boolean;
      /** A contact this number has never seen before (R1 first contact). */
      isFirstContact: boolean;
    }
  | { type: 'routed'; status: RoutedStatus; agentId: string | null }
  /** Assigned from the queue, claimed or transferred; the database already says so. */
  | { type: 'assigned'; agentId: string }
  | { type: 'agent_reply'; agentId: string; message: OutboundMessageContent; requestId: string }
  | { type: 'bot_reply'; message: OutboundMessageContent; requestId: string }
  | { type: 'bot_handover' }
  | { type: 'bot_complete' }
  | { type: 'close'; by: 'agent' | 'admin'; agentId: string | null }
  | { type: 'settings_changed'; settings: AutomationSettings }
  /** R15: the place in the queue a queue message was sent with (or found, for an update). */
  | { type: 'queue_position_known'; position: number; told: boolean }
  /** R13: the agent went offline (through the API); each of their conversations decides. */
  | { type: 'agent_offline'; agentId: string }
  | { type: 'tick' };

export type ConversationCommand =
  | { type: 'route'; mode: RoutingMode }
  | {
      type: 'send_automation';
      automation: Automation;
      message: OutboundMessageContent;
      /** R15: send only if the customer's place in the queue is now better than this one. */
      onlyIfQueuePositionBelow?: number;
    }
  | { type: 'send_reply'; author: 'agent' | 'bot'; agentId: string | null; message: OutboundMessageContent; requestId: string }
  /** R11: a message that would leave the 24-hour window is recorded, not sent. */
  | { type: 'skip'; automation: Automation; message: OutboundMessageContent; reason: string }
  | { type: 'close'; reason: CloseReason; agentId: string | null }
  /**
   * R13: take the conversation from `fromAgentId` and route it again (R3 `auto`) among the
   * others; if it is queued, it stands where a customer waiting since `waitingSince` stands.
   */
  | { type: 'reassign'; fromAgentId: string; reason: 'reassigned' | 'agent_offline'; waitingSince: number };

export interface StepResult {
  state: ConversationState;
  commands: ConversationCommand[];
}

export function initialState(init: {
  conversationId: string;
  phoneNumberId: string;
  contactId: string;
  settings: AutomationSettings;
  now: number;
}): StepResult {
  const state: ConversationState = {
    conversationId: init.conversationId,
    phoneNumberId: init.phoneNumberId,
    contactId: init.contactId,
    status: 'routing',
    agentId: null,
    settings: init.settings,
    openedAt: init.now,
    lastCustomerMessageAt: null,
    unassignedReplyOwedSince: null,
    unansweredSince: null,
    reminderSentInStretch: false,
    assignedAt: null,
    lastAgentReplyAwaitingCustomer: null,
    botActiveAt: null,
    closeReason: null,
    seenMessageIds: [],
  };
  return { state, commands: [{ type: 'route', mode: init.settings.routing.mode }] };
}

/** A customer message as the machine sees it. */
export type CustomerMessage = Omit<Extract<ConversationEvent, { type: 'customer_message' }>, 'type'>;

export interface Opening {
  state: ConversationState;
  /** Carried out first: what the first customer message asks for (R1's welcome). */
  onFirstMessage: ConversationCommand[];
  /** Carried out once that message is attached to the conversation: routing (R3). */
  routing: ConversationCommand[];
}

/**
 * A new conversation. Its first customer message is applied before routing, so the
 * welcome (R1) goes out before any routing reply and R7 counts from that message.
 * `now` is when the first message is applied (`init.now` is when the conversation opened).
 */
export function openConversation(init: Parameters<typeof initialState>[0], firstMessage: CustomerMessage | null, now: number): Opening {
  const opened = initialState(init);
  if (!firstMessage) return { state: opened.state, onFirstMessage: [], routing: opened.commands };
  const first = step(opened.state, { type: 'customer_message', ...firstMessage }, now);
  return { state: first.state, onFirstMessage: first.commands, routing: opened.commands };
}

// ---- Requests: the conversation actions of SPEC §6 -------------------------------------------

export type ConversationRequest =
  | { type: 'claim'; agentId: string }
  | { type: 'assign'; agentId: string }
  | { type: 'agent_reply'; agentId: string; message: OutboundMessageContent }
  | { type: 'close'; agentId: string | null }
  | { type: 'bot_reply'; message: OutboundMessageContent }
  | { type: 'bot_handover' }
  | { type: 'bot_complete' };

/** In which statuses each request may be made (an agent's reply or close also needs the agent to hold it). */
export const REQUEST_ALLOWED_IN: { readonly [T in ConversationRequest['type']]: readonly ConversationStatus[] } = {
  claim: ['queued', 'unassigned'],
  assign: ['queued', 'unassigned', 'assigned', 'bot'],
  agent_reply: ['assigned', 'queued', 'unassigned'],
  close: ['bot', 'unassigned', 'queued', 'assigned'],
  bot_reply: ['bot'],
  bot_handover: ['bot'],
  bot_complete: ['bot'],
};

export type RequestVerdict =
  | { verdict: 'allowed' }
  | { verdict: 'refused'; reason: string }
  /** Routing is under way: the request waits for its outcome and is judged again then. */
  | { verdict: 'wait' }
  /**
   * An agent acts on a conversation that is still waiting here: the database may already
   * have given it to them (a queue drain whose signal is on its way). Allowed if it has.
   */
  | { verdict: 'confirm_assignment'; agentId: string };

/**
 * Whether a request may be carried out now, for the conversation it names. The update
 * validators (before a request reaches history) and the main loop (when its turn comes,
 * as the state may have changed meanwhile) both ask this, so they cannot disagree.
 */
export function judgeRequest(state: ConversationState | null, conversationId: string, request: ConversationRequest, now?: number): RequestVerdict {
  const verdict = judgeHolder(state, conversationId, request);
  if (verdict.verdict === 'refused' || verdict.verdict === 'wait' || now === undefined) return verdict;
  // R16, judged when the request is made (the update validator passes the time). The main
  // loop does not judge the window again at its turn: the send activity checks it at the
  // moment of sending, and records a reply that missed it as skipped.
  if (request.type === 'agent_reply' && request.message.type !== 'template' && !isWithinServiceWindow(state!.lastCustomerMessageAt, now)) {
    return refused(FREE_FORM_OUTSIDE_WINDOW);
  }
  return verdict;
}

/** R16: the refusal of a free-form agent reply once the customer-service window has closed. */
export const FREE_FORM_OUTSIDE_WINDOW =
  'the customer last wrote more than 24 hours ago (outside the customer-service window): only a template message can be sent now';

/** Whether the conversation is in a state, and held by the agent, that the request needs. */
function judgeHolder(state: ConversationState | null, conversationId: string, request: ConversationRequest): RequestVerdict {
  if (!state || state.conversationId !== conversationId || state.status === 'closed') return refused('the conversation is closed');
  if (state.status === 'routing') return { verdict: 'wait' };
  const allowedIn = REQUEST_ALLOWED_IN[request.type];
  if (!allowedIn.includes(state.status)) return refused(`the conversation is ${state.status}, not ${allowedIn.join(' or ')}`);
  const agentId = actingAgent(request);
  if (agentId === null) return { verdict: 'allowed' };
  if (state.status === 'assigned') {
    return state.agentId === agentId ? { verdict: 'allowed' } : refused(`the conversation is assigned to ${state.agentId}, not ${agentId}`);
  }
  if (state.status === 'queued' || state.status === 'unassigned') return { verdict: 'confirm_assignment', agentId };
  return refused(`only the assigned agent may ${request.type === 'close' ? 'close it' : 'reply'}; it is ${state.status}`);
}

/** The agent who must hold the conversation for the request, if any. Claims and transfers are decided by the database. */
function actingAgent(request: ConversationRequest): string | null {
  if (request.type === 'agent_reply') return request.agentId;
  if (request.type === 'close') return request.agentId;
  return null;
}

function refused(reason: string): RequestVerdict {
  return { verdict: 'refused', reason };
}

// ---- Events ---------------------------------------------------------------------------------

export function step(state: ConversationState, event: ConversationEvent, now: number): StepResult {
  if (state.status === 'closed') return { state, commands: [] };
  switch (event.type) {
    case 'customer_message':
      return onCustomerMessage(state, event, now);
    case 'routed':
      return enter(state, event.status, event.agentId, now);
    case 'assigned':
      return enter(state, 'assigned', event.agentId, now);
    case 'agent_reply':
      return {
        state: {
          ...state,
          unansweredSince: null,
          reminderSentInStretch: false,
          lastAgentReplyAwaitingCustomer: now,
        },
        commands: [{ type: 'send_reply', author: 'agent', agentId: event.agentId, message: event.message, requestId: event.requestId }],
      };
    case 'bot_reply':
      return {
        state: { ...state, botActiveAt: now },
        commands: [{ type: 'send_reply', author: 'bot', agentId: null, message: event.message, requestId: event.requestId }],
      };
    case 'bot_handover':
      // R8: a handover routes the conversation as R3 `auto` does.
      return { state: { ...state, status: 'routing', botActiveAt: null }, commands: [{ type: 'route', mode: 'auto' }] };
    case 'bot_complete':
      return close(state, 'bot_completed', now);
    case 'close':
      return close(state, event.by, now);
    case 'settings_changed':
      return onSettingsChanged(state, event.settings);
    case 'queue_position_known':
      if (state.status !== 'queued' || (!event.told && state.toldPosition != null)) return { state, commands: [] };
      return { state: { ...state, toldPosition: event.position }, commands: [] };
    case 'agent_offline': {
      // R13: only a conversation of that agent that awaits their reply, and only when enabled.
      const r = state.settings.reassign;
      const awaits = state.status === 'assigned' && state.agentId === event.agentId && state.unansweredSince !== null;
      return r?.enabled && r.onAgentOffline && awaits ? reassign(state, 'agent_offline') : { state, commands: [] };
    }
    case 'tick':
      return onTick(state, now);
  }
}

function onCustomerMessage(state: ConversationState, event: Extract<ConversationEvent, { type: 'customer_message' }>, now: number): StepResult {
  if (state.seenMessageIds.includes(event.messageId)) return { state, commands: [] };
  const commands: ConversationCommand[] = [];
  const next: ConversationState = {
    ...state,
    seenMessageIds: [...state.seenMessageIds, event.messageId].slice(-SEEN_MESSAGE_IDS_KEPT),
    // R9: any customer reply cancels a pending auto-close.
    lastAgentReplyAwaitingCustomer: null,
    unansweredSince: state.unansweredSince ?? now,
    botActiveAt: state.status === 'bot' ? now : state.botActiveAt,
  };
  if (event.opensServiceWindow) {
    next.lastCustomerMessageAt = Math.max(state.lastCustomerMessageAt ?? 0, event.sentAt);
  }
  if (event.isFirstContact && state.settings.welcome.enabled) {
    commands.push(automated(next, 'welcome', state.settings.welcome.message, now));
  }
  // R14: a customer still waiting for a person hears, once per closed period, that it is closed.
  const closed = next.status === 'unassigned' || next.status === 'queued' ? closedPeriodAt(next.settings, now) : null;
  if (closed !== null) {
    const told = outOfOffice(next, closed, now);
    return { state: told.state, commands: [...commands, ...told.commands] };
  }
  return { state: next, commands };
}

/** Every transition into a status goes through here, so entry actions are never missed. */
function enter(state: ConversationState, status: ConversationStatus, agentId: string | null, now: number): StepResult {
  const next: ConversationState = {
    ...state,
    status,
    agentId: status === 'assigned' ? agentId : null,
    unassignedReplyOwedSince: null,
    assignedAt: status === 'assigned' ? now : null,
    botActiveAt: status === 'bot' ? now : null,
    queuedAt: status === 'queued' ? now : null,
    positionCheckedAt: null,
    toldPosition: null,
  };
  const commands: ConversationCommand[] = [];
  // R14: outside business hours the out-of-office message replaces the R4 and R5 messages.
  const closed = status === 'unassigned' || status === 'queued' ? closedPeriodAt(state.settings, now) : null;
  if (closed !== null) return outOfOffice(next, closed, now);
  if (status === 'unassigned') {
    // R4: owed from the moment of entry, only if enabled then (enabling it later does not
    // answer an entry that happened while it was off); sent after the delay if still
    // unassigned then.
    next.unassignedReplyOwedSince = state.settings.unassignedReply.enabled ? now : null;
    return onTickWith(next, now, commands);
  }
  if (status === 'queued' && state.settings.queueReply.enabled) {
    commands.push(automated(next, 'queue_reply', state.settings.queueReply.message, now));
  }
  return { state: next, commands };
}

function onTickWith(state: ConversationState, now: number, before: ConversationCommand[]): StepResult {
  const ticked = onTick(state, now);
  return { state: ticked.state, commands: [...before, ...ticked.commands] };
}

function close(state: ConversationState, reason: CloseReason, now: number): StepResult {
  const wasHandledByHuman = state.status === 'assigned';
  const next: ConversationState = { ...state, status: 'closed', closeReason: reason, unassignedReplyOwedSince: null };
  const commands: ConversationCommand[] = [{ type: 'close', reason, agentId: state.agentId }];
  // R10: only conversations a human held at the moment they closed are surveyed.
  if (wasHandledByHuman && state.settings.csat.enabled) commands.push(survey(next, now));
  return { state: next, commands };
}

/** R13: taken from the current agent and routed again, never back to them in this conversation. */
function reassign(state: ConversationState, reason: 'reassigned' | 'agent_offline'): StepResult {
  const fromAgentId = state.agentId!;
  const excluded = state.excludedAgentIds ?? [];
  const next: ConversationState = {
    ...state,
    status: 'routing',
    agentId: null,
    assignedAt: null,
    excludedAgentIds: excluded.includes(fromAgentId) ? excluded : [...excluded, fromAgentId],
  };
  return { state: next, commands: [{ type: 'reassign', fromAgentId, reason, waitingSince: state.unansweredSince! }] };
}

function onSettingsChanged(state: ConversationState, settings: AutomationSettings): StepResult {
  const next = { ...state, settings };
  // A reply that is no longer wanted is forgotten rather than sent on re-enable.
  if (!settings.unassignedReply.enabled) next.unassignedReplyOwedSince = null;
  return { state: next, commands: [] };
}

function onTick(state: ConversationState, now: number): StepResult {
  const due = dueTimers(state).filter((t) => t.at <= now);
  let next = state;
  const commands: ConversationCommand[] = [];
  for (const timer of due) {
    // R11 is judged at the deadline when the timer fires on time, so the few milliseconds
    // a timer takes to fire never push a message due inside the window out of it. An
    // overdue timer (re-armed into the past by R12, or held up by an outage) is judged now.
    const dueAt = now - timer.at <= TIMER_PUNCTUALITY_MS ? timer.at : now;
    switch (timer.rule) {
      case 'unassigned_reply': {
        next = { ...next, unassignedReplyOwedSince: null };
        // R14: a delay that ends after closing time ends in the out-of-office message.
        const closed = closedPeriodAt(next.settings, dueAt);
        if (closed !== null) {
          const told = outOfOffice(next, closed, dueAt);
          next = told.state;
          commands.push(...told.commands);
        } else commands.push(automated(next, 'unassigned_reply', next.settings.unassignedReply.message, dueAt));
        break;
      }
      case 'reminder':
        next = { ...next, reminderSentInStretch: true };
        commands.push(automated(next, 'reminder', next.settings.reminder.message, dueAt));
        break;
      case 'reassign': {
        // Whatever else was due is judged again once the conversation has its next agent.
        const taken = reassign(next, 'reassigned');
        return { state: taken.state, commands: [...commands, ...taken.commands] };
      }
      case 'auto_close': {
        const closed = close(next, 'auto_close', dueAt);
        return { state: closed.state, commands: [...commands, ...closed.commands] };
      }
      case 'bot_timeout': {
        const closed = close(next, 'bot_timeout', dueAt);
        return { state: closed.state, commands: [...commands, ...closed.commands] };
      }
      case 'queue_position': {
        // R15: looked at every P; told only when better than what the customer last heard.
        next = { ...next, positionCheckedAt: timer.at };
        const update = automated(next, 'queue_position', next.settings.queueReply.positionUpdates!.message, dueAt);
        commands.push(
          update.type === 'send_automation' && next.toldPosition != null ? { ...update, onlyIfQueuePositionBelow: next.toldPosition } : update,
        );
        break;
      }
    }
  }
  return { state: next, commands };
}

export type TimerRule = 'unassigned_reply' | 'queue_position' | 'reminder' | 'reassign' | 'auto_close' | 'bot_timeout';

/** R14 pauseClocks: `wait` of business time only (Infinity when the hours never open). */
function afterWaiting(settings: AutomationSettings, from: number, wait: number): number {
  const hours = settings.businessHours;
  return hours?.enabled && hours.pauseClocks ? addBusinessTime(hours, from, wait) : from + wait;
}

/** The armed timers and when each fires, derived from state and settings. */
export function dueTimers(state: ConversationState): { rule: TimerRule; at: number }[] {
  const s = state.settings;
  const timers: { rule: TimerRule; at: number }[] = [];
  if (state.status === 'unassigned' && state.unassignedReplyOwedSince !== null && s.unassignedReply.enabled) {
    timers.push({ rule: 'unassigned_reply', at: state.unassignedReplyOwedSince + s.unassignedReply.delaySeconds * 1000 });
  }
  if (state.status === 'assigned') {
    if (s.reminder.enabled && state.unansweredSince !== null && !state.reminderSentInStretch) {
      // R7: an agent who just received the conversation gets the full waiting time.
      const from = Math.max(state.unansweredSince, state.assignedAt ?? state.unansweredSince);
      // R14 pauseClocks: only business time counts (Infinity when the hours never open: no timer).
      const at = afterWaiting(s, from, s.reminder.waitMinutes * MINUTE);
      if (Number.isFinite(at)) timers.push({ rule: 'reminder', at });
    }
    if (s.reassign?.enabled && state.unansweredSince !== null) {
      // R13, measured as R7: the agent who just received the conversation gets the full X.
      const from = Math.max(state.unansweredSince, state.assignedAt ?? state.unansweredSince);
      const at = afterWaiting(s, from, s.reassign.afterMinutes * MINUTE);
      if (Number.isFinite(at)) timers.push({ rule: 'reassign', at });
    }
    if (s.autoClose.enabled && state.lastAgentReplyAwaitingCustomer !== null) {
      timers.push({ rule: 'auto_close', at: state.lastAgentReplyAwaitingCustomer + s.autoClose.afterMinutes * MINUTE });
    }
  }
  if (state.status === 'bot' && state.botActiveAt !== null) {
    timers.push({ rule: 'bot_timeout', at: state.botActiveAt + BOT_INACTIVITY_MS });
  }
  const updates = s.queueReply.positionUpdates;
  if (state.status === 'queued' && updates?.enabled && state.queuedAt != null) {
    timers.push({ rule: 'queue_position', at: (state.positionCheckedAt ?? state.queuedAt) + updates.everyMinutes * MINUTE });
  }
  return timers.sort((a, b) => a.at - b.at);
}

/** When the workflow should next deliver a `tick`, or null when no timer is armed. */
export function nextDeadline(state: ConversationState): number | null {
  if (state.status === 'closed') return null;
  const timers = dueTimers(state);
  return timers.length ? timers[0].at : null;
}

/** R14: the start of the closed period `at` falls in; null when open, or when business hours are off. */
function closedPeriodAt(settings: AutomationSettings, at: number): number | null {
  const hours = settings.businessHours;
  return hours?.enabled ? closedPeriodStart(hours, at) : null;
}

/** R14: the out-of-office message, at most once per closed period of this conversation. */
function outOfOffice(state: ConversationState, period: number, now: number): StepResult {
  if (state.outOfOfficePeriod === period) return { state, commands: [] };
  const next = { ...state, outOfOfficePeriod: period };
  return { state: next, commands: [automated(next, 'out_of_office', state.settings.businessHours!.outOfOfficeMessage, now)] };
}

/** R11 gate for every automated message. */
function automated(state: ConversationState, automation: Automation, message: OutboundMessageContent, now: number): ConversationCommand {
  if (!isWithinServiceWindow(state.lastCustomerMessageAt, now)) {
    return { type: 'skip', automation, message, reason: OUTSIDE_SERVICE_WINDOW };
  }
  return { type: 'send_automation', automation, message };
}

export const CSAT_OPTIONS = [
  { score: 5, title: 'Very satisfied' },
  { score: 4, title: 'Satisfied' },
  { score: 3, title: 'Neutral' },
  { score: 2, title: 'Dissatisfied' },
  { score: 1, title: 'Very dissatisfied' },
] as const;

/** The row id carries the conversation, so an answer is recorded against it after close. */
export function csatRowId(conversationId: string, score: number): string {
  return `csat:${conversationId}:${score}`;
}

export function parseCsatRowId(id: string): { conversationId: string; score: number } | null {
  const match = /^csat:([0-9a-f-]{36}):([1-5])$/.exec(id);
  return match ? { conversationId: match[1], score: Number(match[2]) } : null;
}

/** R10, and R16 once the window has closed: the survey as a template when one is named. */
function survey(state: ConversationState, now: number): ConversationCommand {
  const template = state.settings.csat.template;
  if (template && !isWithinServiceWindow(state.lastCustomerMessageAt, now)) {
    return { type: 'send_automation', automation: 'csat', message: surveyTemplate(state.conversationId, template) };
  }
  return automated(state, 'csat', surveyMessage(state), now);
}

/** The approved survey template; its quick-reply buttons, in order, answer 5, 4, 3, 2, 1. */
export function surveyTemplate(conversationId: string, template: { name: string; language: string }): OutboundMessageContent {
  return {
    type: 'template',
    template: {
      name: template.name,
      language: { code: template.language },
      components: CSAT_OPTIONS.map((o, index) => ({
        type: 'button',
        sub_type: 'quick_reply',
        index: String(index),
        parameters: [{ type: 'payload', payload: csatRowId(conversationId, o.score) }],
      })),
    },
  };
}

function surveyMessage(state: ConversationState): OutboundMessageContent {
  return {
    type: 'interactive',
    interactive: {
      type: 'list',
      body: { text: state.settings.csat.body },
      action: {
        button: state.settings.csat.buttonText,
        sections: [
          {
            rows: CSAT_OPTIONS.map((o) => ({ id: csatRowId(state.conversationId, o.score), title: `${o.score} ${o.title}` })),
          },
        ],
      },
    },
  };
}
