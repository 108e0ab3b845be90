/**
 * One conversation's life inside its workflow run: the inbox that signal and update
 * handlers fill, the pure machine's state, and the activities its commands become.
 * The workflow function (conversation-workflow.ts) only wires handlers to this class and
 * runs the main loop; the rules themselves live in ../rules/conversation-machine.ts.
 *
 * Only the main loop calls the async methods, one at a time, so events are applied in
 * arrival order and no two activities of a conversation ever race.
 */
import { ApplicationFailure, condition, patched, upsertSearchAttributes, uuid4 } from '@temporalio/workflow';
import { automatedWhatsapp, bookkeeping, database, openingDatabase, whatsapp } from '../activity-profiles';
import { announceAssignments } from '../assignment-announcements';
import {
  type ConversationCommand,
  type ConversationEvent,
  type ConversationRequest,
  type ConversationState,
  type CustomerMessage,
  type RequestVerdict,
  dueTimers,
  judgeRequest,
  nextDeadline,
  openConversation,
  step,
} from '../rules/conversation-machine';
import { type TimerChange, timerChanges } from '../rules/timer-changes';
import type { Assignment } from '../rules/vocabulary';
import { AssignedAgentIdKey, ConversationIdKey, ConversationStatusKey, PhoneNumberIdKey } from '../search-attributes';
import { CONVERSATION_CONFLICT, type ConversationActionResult, type ConversationWorkflowInput, type CustomerMessageSignal } from './contract';

export type InboxItem =
  | { kind: 'customer_message'; message: CustomerMessageSignal }
  | { kind: 'event'; event: ConversationEvent; conversationId?: string }
  | { kind: 'request'; requestId: string; conversationId: string; request: ConversationRequest };

/**
 * Runs that began before the timeline recorded timers replay without the bookkeeping
 * activity; from this marker on, a run records every timer change.
 */
export const TIMELINE_RECORDS_TIMERS = 'timeline-records-timers';

/**
 * Runs that began before the opening ran as local activities replay its steps as scheduled
 * activities; from this marker on, a run opens with local ones (`openingDatabase`).
 */
export const OPENING_RUNS_LOCALLY = 'opening-runs-locally';

/**
 * Runs that began before automated sends ran as local activities replay them as scheduled
 * activities; from this marker on, a run sends its automations with local ones
 * (`automatedWhatsapp`); agents' replies stay scheduled.
 */
export const AUTOMATED_SENDS_RUN_LOCALLY = 'automated-sends-run-locally';

/** The database steps of an opening: scheduled activities, or local ones (OPENING_RUNS_LOCALLY). */
type OpeningSteps = Pick<typeof database, keyof typeof openingDatabase>;

type RequestOutcome = { ok: true; result: ConversationActionResult } | { ok: false; reason: string };
type SentReplies = Map<string, { messageId: string | null; status: string }>;

export class Conversation {
  state: ConversationState | null;
  private readonly inbox: InboxItem[];
  private readonly outcomes = new Map<string, RequestOutcome>();
  private outboundSequence: number;
  private publishedSearchAttributes = '';
  /** While a tick runs: the deadline of each timer rule it fires. */
  private tickDeadlines: Map<string, number> | null = null;
  /** Timer changes decided but not yet in the timeline. */
  private unrecordedTimerChanges: TimerChange[] = [];
  /** While the opening runs: how its database steps run (then routing is scheduled again). */
  private openingSteps: OpeningSteps | null = null;

  constructor(
    private readonly input: ConversationWorkflowInput,
    private readonly workflowId: string,
  ) {
    this.state = input.resumeState ?? null;
    this.outboundSequence = input.outboundSequence ?? 0;
    this.inbox = (input.carriedMessages ?? []).map((message) => ({ kind: 'customer_message', message }));
  }

  // ---- Called by handlers: they only queue work ----------------------------------------------

  receive(item: Exclude<InboxItem, { kind: 'request' }>): void {
    this.inbox.push(item);
  }

  /** An update validator: refuses what cannot succeed before it reaches history. */
  validate(conversationId: string, request: ConversationRequest): void {
    const verdict = judgeRequest(this.state, conversationId, request, Date.now());
    if (verdict.verdict === 'refused') throw conflict(verdict.reason);
  }

  /** An update handler: queues the request and answers once the main loop has carried it out. */
  async request(conversationId: string, request: ConversationRequest): Promise<ConversationActionResult> {
    const requestId = uuid4();
    this.inbox.push({ kind: 'request', requestId, conversationId, request });
    await condition(() => this.outcomes.has(requestId));
    const outcome = this.outcomes.get(requestId)!;
    this.outcomes.delete(requestId);
    if (!outcome.ok) throw conflict(outcome.reason);
    return outcome.result;
  }

  // ---- Read by the main loop -----------------------------------------------------------------

  get isNew(): boolean {
    return this.state === null;
  }

  get isClosed(): boolean {
    return this.state!.status === 'closed';
  }

  get hasWork(): boolean {
    return this.inbox.length > 0;
  }

  /** How long the main loop may wait for work before the next timer is due; undefined: no timer. */
  timeUntilNextDeadline(now: number): number | undefined {
    const deadline = nextDeadline(this.state!);
    return deadline === null ? undefined : Math.max(deadline - now, 1);
  }

  /** The input of the next run when history grows long: the same conversation goes on. */
  continuation(): ConversationWorkflowInput {
    return {
      phoneNumberId: this.input.phoneNumberId,
      contactId: this.input.contactId,
      resumeState: this.state!,
      outboundSequence: this.outboundSequence,
      continueAsNewAfterEvents: this.input.continueAsNewAfterEvents,
    };
  }

  // ---- Run by the main loop ------------------------------------------------------------------

  /** Opens the conversation: its row, its search attributes, the first message (R1), routing (R3). */
  async open(): Promise<void> {
    const steps: OpeningSteps = patched(OPENING_RUNS_LOCALLY) ? openingDatabase : database;
    this.openingSteps = steps;
    try {
      await this.openWith(steps);
    } finally {
      this.openingSteps = null;
    }
  }

  private async openWith(steps: OpeningSteps): Promise<void> {
    const conversationId = uuid4();
    const openedAt = Date.now();
    const { phoneNumberId, contactId } = this.input;
    const settings = await steps.loadAutomationSettings(phoneNumberId);
    await steps.openConversation({ conversationId, workflowId: this.workflowId, phoneNumberId, contactId, openedAt });
    upsertSearchAttributes([
      { key: ConversationIdKey, value: conversationId },
      { key: PhoneNumberIdKey, value: phoneNumberId },
    ]);
    const first = this.takeFirstCustomerMessage();
    const opening = openConversation({ conversationId, phoneNumberId, contactId, settings, now: openedAt }, first, Date.now());
    this.state = opening.state;
    this.unrecordedTimerChanges.push(...timerChanges(null, opening.state, Date.now(), false));
    if (first) {
      await this.execute(opening.onFirstMessage);
      this.publishSearchAttributes();
      await steps.attachCustomerMessages({
        conversationId,
        messageIds: [first.messageId],
        lastCustomerMessageAt: this.state.lastCustomerMessageAt,
      });
    }
    await this.execute(opening.routing);
    this.publishSearchAttributes();
    await this.recordTimerChanges();
  }

  /** Applies everything queued, in arrival order; customer messages are attached in one batch. */
  async processInbox(): Promise<void> {
    const attached: string[] = [];
    while (this.inbox.length > 0 && !this.isClosed) {
      const item = this.inbox.shift()!;
      if (item.kind === 'customer_message') {
        attached.push(item.message.messageId);
        await this.apply({ type: 'customer_message', ...item.message });
      } else if (item.kind === 'event') {
        if (!this.isStale(item)) await this.apply(item.event);
      } else {
        await this.handleRequest(item);
      }
    }
    if (attached.length > 0) {
      await database.attachCustomerMessages({
        conversationId: this.state!.conversationId,
        messageIds: attached,
        lastCustomerMessageAt: this.state!.lastCustomerMessageAt,
      });
    }
    await this.recordTimerChanges();
  }

  /** Lets the rules act on the time that has passed (timers that came due). */
  async tick(): Promise<void> {
    // The deadlines of the timers this tick fires travel with their messages (the send
    // activity measures lateness against them); arguments only, the commands are the same.
    const now = Date.now();
    this.tickDeadlines = new Map(
      dueTimers(this.state!)
        .filter((t) => t.at <= now)
        .map((t) => [t.rule as string, t.at]),
    );
    try {
      await this.apply({ type: 'tick' });
    } finally {
      this.tickDeadlines = null;
    }
    await this.recordTimerChanges();
  }

  /**
   * After the close: requests still queued are refused; customer messages that arrived as
   * it closed are returned, to start the contact's next conversation.
   */
  takeMessagesForNextConversation(): CustomerMessageSignal[] {
    const next: CustomerMessageSignal[] = [];
    for (const item of this.inbox.splice(0)) {
      if (item.kind === 'customer_message') next.push(item.message);
      else if (item.kind === 'request') this.outcomes.set(item.requestId, { ok: false, reason: 'the conversation is closed' });
    }
    return next;
  }

  // ---- Inside ------------------------------------------------------------------------------

  private takeFirstCustomerMessage(): CustomerMessage | null {
    const index = this.inbox.findIndex((i) => i.kind === 'customer_message');
    if (index < 0) return null;
    const [item] = this.inbox.splice(index, 1) as [{ kind: 'customer_message'; message: CustomerMessageSignal }];
    return item.message;
  }

  private isStale(item: Extract<InboxItem, { kind: 'event' }>): boolean {
    const state = this.state!;
    // A drain addressed to an earlier conversation of this contact.
    if (item.conversationId && item.conversationId !== state.conversationId) return true;
    // Notifications may repeat (the sweeper re-sends what it cannot prove was delivered).
    return item.event.type === 'assigned' && state.status === 'assigned' && state.agentId === item.event.agentId;
  }

  /** Applies one event to the rules and carries out the commands they return. */
  private async apply(event: ConversationEvent): Promise<SentReplies> {
    const now = Date.now();
    const before = this.state!;
    const { state, commands } = step(before, event, now);
    this.state = state;
    this.unrecordedTimerChanges.push(...timerChanges(before, state, now, event.type === 'tick'));
    // A timer that fired, or a close that cancels timers, comes before its effects (the
    // message sent, the conversation closed) in the timeline.
    if (event.type === 'tick' || state.status === 'closed') await this.recordTimerChanges();
    const replies = await this.execute(commands);
    this.publishSearchAttributes();
    return replies;
  }

  private async execute(commands: ConversationCommand[]): Promise<SentReplies> {
    const replies: SentReplies = new Map();
    for (const command of commands) {
      const s = this.state!;
      const outbound = {
        idempotencyKey: `${s.conversationId}:${++this.outboundSequence}`,
        phoneNumberId: s.phoneNumberId,
        contactId: s.contactId,
        conversationId: s.conversationId,
        lastCustomerMessageAt: s.lastCustomerMessageAt,
      };
      switch (command.type) {
        case 'route': {
          const outcome = await (this.openingSteps ?? database).routeConversation({
            conversationId: s.conversationId,
            mode: command.mode,
            preferLastAgent: s.settings.routing.preferLastAgent,
          });
          for (const [id, reply] of await this.apply({ type: 'routed', status: outcome.status, agentId: outcome.agentId })) replies.set(id, reply);
          const mine =
            outcome.status === 'assigned' && outcome.agentId
              ? [{ conversationId: s.conversationId, workflowId: this.workflowId, agentId: outcome.agentId }]
              : [];
          await this.announce([...mine, ...outcome.othersAssigned]);
          break;
        }
        case 'send_automation': {
          const sender = patched(AUTOMATED_SENDS_RUN_LOCALLY) ? automatedWhatsapp : whatsapp;
          const sent = await sender.sendMessage({
            ...outbound,
            author: 'automation',
            automation: command.automation,
            agentId: s.agentId,
            message: command.message,
            dueAt: this.tickDeadlines?.get(command.automation),
            ...(command.onlyIfQueuePositionBelow !== undefined && { onlyIfQueuePositionBelow: command.onlyIfQueuePositionBelow }),
          });
          // R15: the place the customer was told (or found unchanged), for the next position update.
          if (sent.queuePosition !== undefined) {
            const told = sent.status === 'accepted' || sent.status === 'recorded';
            await this.apply({ type: 'queue_position_known', position: sent.queuePosition, told });
          }
          break;
        }
        case 'skip':
          await database.recordSkippedMessage({
            ...outbound,
            author: 'automation',
            automation: command.automation,
            agentId: s.agentId,
            message: command.message,
            reason: command.reason,
          });
          break;
        case 'send_reply':
          replies.set(
            command.requestId,
            await whatsapp.sendMessage({ ...outbound, author: command.author, automation: null, agentId: command.agentId, message: command.message }),
          );
          break;
        case 'reassign': {
          // R13: routed again without the agent; their freed capacity drains the queue (R6).
          const outcome = await database.reassignConversation({
            conversationId: s.conversationId,
            fromAgentId: command.fromAgentId,
            waitingSince: command.waitingSince,
            reason: command.reason,
            preferLastAgent: s.settings.routing.preferLastAgent,
          });
          for (const [id, reply] of await this.apply({ type: 'routed', status: outcome.status, agentId: outcome.agentId })) replies.set(id, reply);
          const mine =
            outcome.status === 'assigned' && outcome.agentId
              ? [{ conversationId: s.conversationId, workflowId: this.workflowId, agentId: outcome.agentId }]
              : [];
          await this.announce([...mine, ...outcome.othersAssigned, ...outcome.drained]);
          break;
        }
        case 'close': {
          const { drained } = await database.closeConversation({ conversationId: s.conversationId, reason: command.reason });
          await this.announce(drained);
          break;
        }
      }
    }
    return replies;
  }

  /** Writes the timer changes decided so far into the timeline, in one local activity. */
  private async recordTimerChanges(): Promise<void> {
    if (this.unrecordedTimerChanges.length === 0) return;
    const changes = this.unrecordedTimerChanges.splice(0);
    if (!patched(TIMELINE_RECORDS_TIMERS)) return;
    await bookkeeping.recordTimerChanges({
      conversationId: this.state!.conversationId,
      changes: changes.map((change) => ({ ...change, key: uuid4() })),
    });
  }

  /** Announces assignments; this conversation's own one goes straight into its inbox. */
  private async announce(assignments: Assignment[]): Promise<void> {
    await announceAssignments(assignments, (a) => {
      if (a.workflowId !== this.workflowId) return false;
      const state = this.state;
      if (a.conversationId === state?.conversationId && !(state.status === 'assigned' && state.agentId === a.agentId)) {
        this.inbox.push({ kind: 'event', event: { type: 'assigned', agentId: a.agentId }, conversationId: a.conversationId });
      }
      return true;
    });
  }

  private publishSearchAttributes(): void {
    const state = this.state;
    if (!state || state.status === 'routing') return;
    const published = `${state.status}|${state.agentId ?? ''}`;
    if (published === this.publishedSearchAttributes) return;
    this.publishedSearchAttributes = published;
    upsertSearchAttributes([
      { key: ConversationStatusKey, value: state.status },
      { key: AssignedAgentIdKey, value: state.agentId },
    ]);
  }

  private async handleRequest(item: Extract<InboxItem, { kind: 'request' }>): Promise<void> {
    const verdict = await this.confirmed(judgeRequest(this.state, item.conversationId, item.request));
    const outcome: RequestOutcome =
      verdict.verdict === 'allowed'
        ? await this.carryOut(item.requestId, item.request)
        : { ok: false, reason: verdict.verdict === 'refused' ? verdict.reason : 'the conversation is being routed' };
    this.outcomes.set(item.requestId, outcome);
  }

  /**
   * Settles a `confirm_assignment` verdict with the database, the arbiter of assignment:
   * if it already gave the waiting conversation to the agent (its drain notification not
   * here yet), the assignment is applied now and the request goes ahead.
   */
  private async confirmed(verdict: RequestVerdict): Promise<RequestVerdict> {
    if (verdict.verdict !== 'confirm_assignment') return verdict;
    const state = this.state!;
    const current = await database.currentAssignment({ conversationId: state.conversationId });
    if (current.status !== 'assigned' || current.agentId !== verdict.agentId) {
      return { verdict: 'refused', reason: `only the assigned agent (${state.agentId ?? 'none'}) may act on it; it is ${state.status}` };
    }
    await this.apply({ type: 'assigned', agentId: verdict.agentId });
    await database.acknowledgeAssignments({ assignments: [{ conversationId: state.conversationId, agentId: verdict.agentId }] });
    return { verdict: 'allowed' };
  }

  private async carryOut(requestId: string, request: ConversationRequest): Promise<RequestOutcome> {
    const conversationId = this.state!.conversationId;
    switch (request.type) {
      case 'claim': {
        const outcome = await database.claimConversation({ conversationId, agentId: request.agentId });
        if (outcome !== 'claimed')
          return refusal(outcome === 'unknown_agent' ? `agent ${request.agentId} does not exist` : 'the conversation is no longer waiting');
        await this.apply({ type: 'assigned', agentId: request.agentId });
        return done({ status: 'assigned' });
      }
      case 'assign': {
        const outcome = await database.transferConversation({ conversationId, agentId: request.agentId });
        if (outcome.result !== 'transferred') {
          await this.announce(outcome.drained);
          return refusal(outcome.result === 'unknown_agent' ? `agent ${request.agentId} does not exist` : 'the conversation is closed');
        }
        await this.apply({ type: 'assigned', agentId: request.agentId });
        await this.announce([{ conversationId, workflowId: this.workflowId, agentId: request.agentId }, ...outcome.drained]);
        return done({ status: 'assigned' });
      }
      case 'agent_reply':
        return sent(requestId, await this.apply({ type: 'agent_reply', agentId: request.agentId, message: request.message, requestId }));
      case 'bot_reply':
        return sent(requestId, await this.apply({ type: 'bot_reply', message: request.message, requestId }));
      case 'close':
        await this.apply({ type: 'close', by: request.agentId ? 'agent' : 'admin', agentId: request.agentId });
        return done({ status: 'closed' });
      case 'bot_handover':
      case 'bot_complete':
        await this.apply({ type: request.type });
        return done({ status: this.state!.status });
    }
  }
}

function done(result: ConversationActionResult): RequestOutcome {
  return { ok: true, result };
}

function refusal(reason: string): RequestOutcome {
  return { ok: false, reason };
}

function sent(requestId: string, replies: SentReplies): RequestOutcome {
  const reply = replies.get(requestId);
  return done({ messageId: reply?.messageId ?? undefined, status: reply?.status });
}

function conflict(reason: string): ApplicationFailure {
  return ApplicationFailure.create({ type: CONVERSATION_CONFLICT, message: reason, nonRetryable: true });
}
