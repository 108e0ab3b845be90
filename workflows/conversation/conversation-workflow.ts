/**
 * One run of this workflow is one conversation (SPEC §2). It wires the pure rules in
 * ../rules/conversation-machine.ts to Temporal: signals and updates become events,
 * the machine's next deadline becomes a durable timer, and its commands become
 * activities. Handlers only queue work; the main loop alone changes state and calls
 * activities, so events are applied one at a time, in arrival order.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Assignment } from '../../src/assignment/assignment-store';
import {
  type ConversationCommand,
  type ConversationEvent,
  type ConversationState,
  initialState,
  nextDeadline,
  step,
} from '../rules/conversation-machine';
import { AssignedAgentIdKey, ConversationIdKey, ConversationStatusKey, PhoneNumberIdKey } from '../search-attributes';
import {
  type ConversationRequestResult,
  type ConversationWorkflowInput,
  type CustomerMessageSignal,
  agentReplyUpdate,
  assignUpdate,
  assignedFromQueueSignal,
  botCompleteUpdate,
  botHandoverUpdate,
  botReplyUpdate,
  claimUpdate,
  closeUpdate,
  conversationStateQuery,
  customerMessageSignal,
  settingsChangedSignal,
} from './definitions';
import { database, whatsapp } from '../activity-profiles';
import { announceAssignments } from '../assignment-announcements';

/** Well below Temporal's 51,200-event limit, leaving room for a burst after the check. */
const HISTORY_EVENTS_BEFORE_CONTINUE_AS_NEW = 5_000;

type ConversationRequest =
  | { type: 'claim'; agentId: string }
  | { type: 'assign'; agentId: string }
  | { type: 'agent_reply'; agentId: string; message: Record<string, unknown> & { type: string } }
  | { type: 'close'; agentId: string | null }
  | { type: 'bot_reply'; message: Record<string, unknown> & { type: string } }
  | { type: 'bot_handover' }
  | { type: 'bot_complete' };

type InboxItem =
  | { kind: 'customer_message'; message: CustomerMessageSignal }
  | { kind: 'event'; event: ConversationEvent; conversationId?: string }
  | { kind: 'request'; requestId: string; request: ConversationRequest };

export async function conversationWorkflow(input: ConversationWorkflowInput): Promise<void> {
  const { workflowId } = workflowInfo();
  const inbox: InboxItem[] = (input.carriedMessages ?? []).map((message) => ({ kind: 'customer_message', message }));
  const results = new Map<string, ConversationRequestResult>();
  let state: ConversationState | null = input.resumeState ?? null;
  let outboundSequence = input.outboundSequence ?? 0;

  setHandler(conversationStateQuery, () => state);
  setHandler(customerMessageSignal, (message) => {
    inbox.push({ kind: 'customer_message', message });
  });
  setHandler(assignedFromQueueSignal, ({ agentId, conversationId }) => {
    inbox.push({ kind: 'event', event: { type: 'assigned', agentId }, conversationId });
  });
  setHandler(settingsChangedSignal, ({ settings }) => {
    inbox.push({ kind: 'event', event: { type: 'settings_changed', settings } });
  });

  const request = async (req: ConversationRequest): Promise<ConversationRequestResult> => {
    const requestId = uuid4();
    inbox.push({ kind: 'request', requestId, request: req });
    await condition(() => results.has(requestId));
    const result = results.get(requestId)!;
    results.delete(requestId);
    return result;
  };
  // Validators turn away what cannot succeed before it reaches history; the main loop
  // re-checks, because the state may change while a request waits its turn. While the
  // conversation is being routed the outcome is not known yet, so requests wait for it.
  const requireStatus =
    (...allowed: string[]) =>
    ({ conversationId }: { conversationId: string }) => {
      if (!state || state.conversationId !== conversationId) throw conflict('the conversation is closed');
      if (state.status !== 'routing' && !allowed.includes(state.status)) throw conflict(`the conversation is ${state.status}, not ${allowed.join(' or ')}`);
    };
  // An agent's own request is refused only when someone else holds the conversation: the
  // database may already have given a waiting conversation to this agent (a queue drain
  // whose signal is on its way), which the main loop confirms.
  const requireNotHeldByAnother = (agentId: string | undefined) => {
    if (agentId && state?.status === 'assigned' && state.agentId !== agentId) throw conflict(`the conversation is assigned to ${state.agentId}, not ${agentId}`);
  };
  setHandler(claimUpdate, ({ agentId }) => request({ type: 'claim', agentId }), { validator: requireStatus('queued', 'unassigned') });
  setHandler(assignUpdate, ({ agentId }) => request({ type: 'assign', agentId }), {
    validator: requireStatus('queued', 'unassigned', 'assigned', 'bot'),
  });
  setHandler(agentReplyUpdate, ({ agentId, message }) => request({ type: 'agent_reply', agentId, message }), {
    validator: (input) => {
      requireStatus('assigned', 'queued', 'unassigned')(input);
      requireNotHeldByAnother(input.agentId);
    },
  });
  setHandler(closeUpdate, ({ agentId }) => request({ type: 'close', agentId: agentId ?? null }), {
    validator: (input) => {
      requireStatus('bot', 'unassigned', 'queued', 'assigned')(input);
      requireNotHeldByAnother(input.agentId);
    },
  });
  setHandler(botReplyUpdate, ({ message }) => request({ type: 'bot_reply', message }), { validator: requireStatus('bot') });
  setHandler(botHandoverUpdate, () => request({ type: 'bot_handover' }), { validator: requireStatus('bot') });
  setHandler(botCompleteUpdate, () => request({ type: 'bot_complete' }), { validator: requireStatus('bot') });

  /** Applies one event and carries out what the rules ask for. */
  async function apply(event: ConversationEvent): Promise<Map<string, { messageId: string | null; status: string }>> {
    const { state: next, commands } = step(state!, event, Date.now());
    state = next;
    const replies = await execute(commands);
    publishSearchAttributes();
    return replies;
  }

  async function execute(commands: ConversationCommand[]): Promise<Map<string, { messageId: string | null; status: string }>> {
    const replies = new Map<string, { messageId: string | null; status: string }>();
    for (const command of commands) {
      const s = state!;
      const outbound = {
        idempotencyKey: `${s.conversationId}:${++outboundSequence}`,
        phoneNumberId: s.phoneNumberId,
        contactId: s.contactId,
        conversationId: s.conversationId,
        lastCustomerMessageAt: s.lastCustomerMessageAt,
      };
      switch (command.type) {
        case 'route': {
          const outcome = await database.routeConversation({
            conversationId: s.conversationId,
            mode: command.mode,
            preferLastAgent: s.settings.routing.preferLastAgent,
          });
          for (const [id, r] of await apply({ type: 'routed', status: outcome.status, agentId: outcome.agentId })) replies.set(id, r);
          const mine = outcome.status === 'assigned' && outcome.agentId ? [{ conversationId: s.conversationId, workflowId, agentId: outcome.agentId }] : [];
          await notifyAssigned([...mine, ...outcome.othersAssigned]);
          break;
        }
        case 'send_automation':
          await whatsapp.sendMessage({ ...outbound, author: 'automation', automation: command.automation, agentId: s.agentId, message: command.message });
          break;
        case 'skip':
          await database.recordSkippedMessage({ ...outbound, author: 'automation', automation: command.automation, agentId: s.agentId, message: command.message, reason: command.reason });
          break;
        case 'send_reply': {
          const result = await whatsapp.sendMessage({ ...outbound, author: command.author, automation: null, agentId: command.agentId, message: command.message });
          replies.set(command.requestId, result);
          break;
        }
        case 'close': {
          const { drained } = await database.closeConversation({ conversationId: s.conversationId, reason: command.reason });
          await notifyAssigned(drained);
          break;
        }
      }
    }
    return replies;
  }

  /** Announces assignments; this conversation's own one goes straight into the inbox. */
  async function notifyAssigned(assignments: Assignment[]): Promise<void> {
    await announceAssignments(assignments, (a) => {
      if (a.workflowId !== workflowId) return false;
      if (a.conversationId === state?.conversationId && !(state.status === 'assigned' && state.agentId === a.agentId)) {
        inbox.push({ kind: 'event', event: { type: 'assigned', agentId: a.agentId }, conversationId: a.conversationId });
      }
      return true;
    });
  }

  let published = '';
  function publishSearchAttributes(): void {
    if (!state || state.status === 'routing') return;
    const key = `${state.status}|${state.agentId ?? ''}`;
    if (key === published) return;
    published = key;
    upsertSearchAttributes([
      { key: ConversationStatusKey, value: state.status },
      { key: AssignedAgentIdKey, value: state.agentId },
    ]);
  }

  /**
   * Whether the agent holds the conversation. A waiting conversation may already be theirs
   * in the database (its drain notification not yet here): then it is applied now.
   */
  async function holds(agentId: string): Promise<boolean> {
    const s = state!;
    if (s.status === 'assigned') return s.agentId === agentId;
    if (s.status !== 'queued' && s.status !== 'unassigned') return false;
    const current = await database.currentAssignment({ conversationId: s.conversationId });
    if (current.status !== 'assigned' || current.agentId !== agentId) return false;
    await apply({ type: 'assigned', agentId });
    await database.acknowledgeAssignments({ assignments: [{ conversationId: s.conversationId, agentId }] });
    return true;
  }

  async function handleRequest(requestId: string, req: ConversationRequest): Promise<void> {
    const s = state!;
    const reject = (message: string) => results.set(requestId, { ok: false, code: 'conflict', message });
    if (s.status === 'closed') return void reject('the conversation is closed');
    switch (req.type) {
      case 'claim': {
        if (s.status !== 'queued' && s.status !== 'unassigned') return void reject(`the conversation is ${s.status}, no longer waiting`);
        const outcome = await database.claimConversation({ conversationId: s.conversationId, agentId: req.agentId });
        if (outcome !== 'claimed') return void reject(outcome === 'unknown_agent' ? `agent ${req.agentId} does not exist` : 'the conversation is no longer waiting');
        await apply({ type: 'assigned', agentId: req.agentId });
        return void results.set(requestId, { ok: true, status: 'assigned' });
      }
      case 'assign': {
        const outcome = await database.transferConversation({ conversationId: s.conversationId, agentId: req.agentId });
        if (outcome.result !== 'transferred') {
          await notifyAssigned(outcome.drained);
          return void reject(outcome.result === 'unknown_agent' ? `agent ${req.agentId} does not exist` : 'the conversation is closed');
        }
        await apply({ type: 'assigned', agentId: req.agentId });
        await notifyAssigned([{ conversationId: s.conversationId, workflowId, agentId: req.agentId }, ...outcome.drained]);
        return void results.set(requestId, { ok: true, status: 'assigned' });
      }
      case 'agent_reply': {
        if (!(await holds(req.agentId))) return void reject(`only the assigned agent (${state!.agentId ?? 'none'}) may reply`);
        const replies = await apply({ type: 'agent_reply', agentId: req.agentId, message: req.message, requestId });
        const sent = replies.get(requestId);
        return void results.set(requestId, { ok: true, messageId: sent?.messageId ?? undefined, status: sent?.status });
      }
      case 'close':
        if (req.agentId && !(await holds(req.agentId))) return void reject(`only the assigned agent (${state!.agentId ?? 'none'}) may close it`);
        await apply({ type: 'close', by: req.agentId ? 'agent' : 'admin', agentId: req.agentId });
        return void results.set(requestId, { ok: true, status: 'closed' });
      case 'bot_reply': {
        if (s.status !== 'bot') return void reject(`the conversation is ${s.status}, not with the bot`);
        const replies = await apply({ type: 'bot_reply', message: req.message, requestId });
        const sent = replies.get(requestId);
        return void results.set(requestId, { ok: true, messageId: sent?.messageId ?? undefined, status: sent?.status });
      }
      case 'bot_handover':
      case 'bot_complete':
        if (s.status !== 'bot') return void reject(`the conversation is ${s.status}, not with the bot`);
        await apply({ type: req.type });
        return void results.set(requestId, { ok: true, status: state!.status });
    }
  }

  /** Drains the inbox in arrival order. Customer messages are attached in one batch. */
  async function processInbox(): Promise<void> {
    const attached: string[] = [];
    while (inbox.length > 0 && state!.status !== 'closed') {
      const item = inbox.shift()!;
      if (item.kind === 'customer_message') {
        attached.push(item.message.messageId);
        await apply({ type: 'customer_message', ...item.message });
      } else if (item.kind === 'event') {
        // A drain addressed to an earlier conversation of this contact is stale.
        if (item.conversationId && item.conversationId !== state!.conversationId) continue;
        // Notifications may repeat (the sweeper re-sends what it cannot prove was delivered).
        if (item.event.type === 'assigned' && state!.status === 'assigned' && state!.agentId === item.event.agentId) continue;
        await apply(item.event);
      } else {
        await handleRequest(item.requestId, item.request);
      }
    }
    if (attached.length > 0) {
      await database.attachCustomerMessages({ conversationId: state!.conversationId, messageIds: attached, lastCustomerMessageAt: state!.lastCustomerMessageAt });
    }
  }

  if (!state) {
    const conversationId = uuid4();
    const now = Date.now();
    const settings = await database.loadAutomationSettings(input.phoneNumberId);
    await database.openConversation({ conversationId, workflowId, phoneNumberId: input.phoneNumberId, contactId: input.contactId, openedAt: now });
    upsertSearchAttributes([
      { key: ConversationIdKey, value: conversationId },
      { key: PhoneNumberIdKey, value: input.phoneNumberId },
    ]);
    // The first customer message is applied before routing, so the welcome (R1) goes first
    // and R7 counts from it.
    const first = initialState({ conversationId, phoneNumberId: input.phoneNumberId, contactId: input.contactId, settings, now });
    state = first.state;
    const routeCommands = first.commands;
    const firstMessage = inbox.findIndex((i) => i.kind === 'customer_message');
    if (firstMessage >= 0) {
      const [item] = inbox.splice(firstMessage, 1) as [{ kind: 'customer_message'; message: CustomerMessageSignal }];
      await apply({ type: 'customer_message', ...item.message });
      await database.attachCustomerMessages({ conversationId, messageIds: [item.message.messageId], lastCustomerMessageAt: state.lastCustomerMessageAt });
    }
    await execute(routeCommands);
    publishSearchAttributes();
  }

  // Handlers and activities replace `state`; read it through a function so TypeScript
  // does not narrow a value that changes under it.
  const isClosed = () => state!.status === 'closed';
  while (!isClosed()) {
    const deadline = nextDeadline(state!);
    await condition(() => inbox.length > 0, deadline === null ? undefined : Math.max(deadline - Date.now(), 1));
    await processInbox();
    if (!isClosed()) await apply({ type: 'tick' });
    if (!isClosed() && historyIsLong(input.continueAsNewAfterEvents ?? HISTORY_EVENTS_BEFORE_CONTINUE_AS_NEW)) {
      await settleHandlers();
      if (inbox.length === 0) {
        await continueAsNew<typeof conversationWorkflow>({
          phoneNumberId: input.phoneNumberId,
          contactId: input.contactId,
          resumeState: state,
          outboundSequence,
          continueAsNewAfterEvents: input.continueAsNewAfterEvents,
        });
      }
    }
  }

  // Closed. Messages that arrived as it closed start the contact's next conversation.
  const nextConversation: CustomerMessageSignal[] = [];
  const drainClosedInbox = () => {
    for (const item of inbox.splice(0)) {
      if (item.kind === 'customer_message') nextConversation.push(item.message);
      else if (item.kind === 'request') results.set(item.requestId, { ok: false, code: 'conflict', message: 'the conversation is closed' });
    }
  };
  drainClosedInbox();
  while (!allHandlersFinished()) {
    await condition(() => inbox.length > 0 || allHandlersFinished());
    drainClosedInbox();
  }
  if (nextConversation.length > 0) {
    await continueAsNew<typeof conversationWorkflow>({ phoneNumberId: input.phoneNumberId, contactId: input.contactId, carriedMessages: nextConversation });
  }

  async function settleHandlers(): Promise<void> {
    while (!allHandlersFinished()) {
      await condition(() => inbox.length > 0 || allHandlersFinished());
      await processInbox();
    }
  }
}

function historyIsLong(limit: number): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength > limit;
}

function conflict(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'Conflict', message, nonRetryable: true });
}
