import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { AutomationSettings } from '../../workflows/rules/automation-settings';
import { isOpen, nextOpening } from '../../workflows/rules/business-hours';
import { agentIdSchema, phoneNumberIdSchema } from './identifiers';
import { type Conversation, InvalidCursor, type Message, type Store, type TimelineEntry } from '../store';
import type { Logger } from '../logger';
import { CONVERSATION_STATUSES } from '../../workflows/rules/vocabulary';
import { dueTimers } from '../../workflows/rules/conversation-machine';
import { conversationStateQuery } from '../../workflows/conversation/contract';
import { HttpError } from './errors';
import { parseOrThrow } from './validation';
import { scopeOf } from './access';

export const listQuery = z.strictObject({
  phoneNumberId: phoneNumberIdSchema.optional(),
  status: z.enum(CONVERSATION_STATUSES).optional(),
  agentId: agentIdSchema.optional(),
  q: z.string().trim().min(1).max(200).optional(),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(100),
});

/** How long the detail view waits for the workflow to say which timers are armed. */
const TIMERS_QUERY_TIMEOUT_MS = 2000;

export const idParam = z.strictObject({ id: z.uuid() });

/** Reads come from PostgreSQL, never from workflow queries, so lists stay fast. */
export function createConversationsRouter(deps: { store: Store; temporal: Client; log: Logger }): Router {
  const router = Router();
  const { store } = deps;

  /**
   * The armed deadlines, straight from the rules (dueTimers) over the workflow's own state:
   * nothing here re-implements when a rule fires. A closed conversation has none.
   */
  async function timersOf(conversation: Conversation): Promise<{ rule: string; dueAt: string }[] | null> {
    if (conversation.status === 'closed') return [];
    let timeout: NodeJS.Timeout | undefined;
    try {
      const state = await Promise.race([
        deps.temporal.workflow.getHandle(conversation.workflowId).query(conversationStateQuery),
        new Promise<never>((_, reject) => {
          timeout = setTimeout(() => reject(new Error('timed out')), TIMERS_QUERY_TIMEOUT_MS);
        }),
      ]);
      if (!state || state.status === 'closed') return [];
      return dueTimers(state).map((t) => ({ rule: t.rule, dueAt: new Date(t.at).toISOString() }));
    } catch (error) {
      deps.log.warn({ err: error, conversationId: conversation.id }, 'could not read the armed timers');
      return null;
    } finally {
      clearTimeout(timeout);
    }
  }

  router.get('/conversations', async (req, res) => {
    const query = parseOrThrow(listQuery, req.query, 'query');
    const scope = scopeOf(res);
    // A bot key sees bot conversations only: asking for another status finds nothing.
    if (scope.status && query.status && query.status !== scope.status) return void res.json({ conversations: [], nextCursor: null });
    try {
      const page = await store.conversations.listPage({ ...query, phoneNumberIds: scope.phoneNumberIds, status: scope.status ?? query.status });
      res.json({ conversations: page.conversations.map(toConversation), nextCursor: page.nextCursor });
    } catch (error) {
      if (error instanceof InvalidCursor)
        throw new HttpError(400, 'invalid_request', 'invalid query', [{ field: 'query.cursor', message: error.message }]);
      throw error;
    }
  });

  router.get('/conversations/:id', async (req, res) => {
    const { id } = parseOrThrow(idParam, req.params, 'path');
    const conversation = await store.conversations.get(id);
    if (!conversation) throw new HttpError(404, 'not_found', `conversation ${id} does not exist`);
    const [messages, timeline, timers, settings] = await Promise.all([
      store.messages.listForConversation(id),
      store.activity.timeline(id),
      timersOf(conversation),
      store.settings.get(conversation.phoneNumberId),
    ]);
    res.json({
      ...toConversation(conversation),
      messages: messages.map(toMessage),
      timers,
      timeline: timeline.map(toTimelineEntry),
      businessHours: businessHoursNow(settings.businessHours, Date.now()),
    });
  });

  router.get('/contacts/:id', async (req, res) => {
    const { id } = parseOrThrow(idParam, req.params, 'path');
    const contact = await store.contacts.get(id);
    if (!contact) throw new HttpError(404, 'not_found', `contact ${id} does not exist`);
    const conversations = await store.conversations.listForContact(id);
    res.json({
      id: contact.id,
      phoneNumberId: contact.phoneNumberId,
      name: contact.profileName,
      waId: contact.waId,
      userId: contact.userId,
      firstSeenAt: contact.firstSeenAt,
      conversations: conversations.map(toConversation),
    });
  });

  return router;
}

/** The API's Conversation (SPEC §6). */
export function toConversation(c: Conversation) {
  return {
    id: c.id,
    phoneNumberId: c.phoneNumberId,
    contactId: c.contactId,
    status: c.status,
    agentId: c.agentId,
    closeReason: c.closeReason,
    openedAt: c.openedAt,
    queuedAt: c.queuedAt,
    assignedAt: c.assignedAt,
    closedAt: c.closedAt,
    lastCustomerMessageAt: c.lastCustomerMessageAt,
    workflowId: c.workflowId,
    contact: c.contact ? { id: c.contact.id, name: c.contact.name, waId: c.contact.waId, userId: c.contact.userId } : null,
  };
}

/** One decision in a conversation's timeline (SPEC §6). */
export function toTimelineEntry(e: TimelineEntry) {
  return { at: e.at, kind: e.kind, actor: e.actor, ...e.details };
}

/** The API's Message (SPEC §6). */
export function toMessage(m: Message) {
  return {
    id: m.id,
    direction: m.direction,
    author: m.author,
    agentId: m.agentId,
    automation: m.automation,
    type: m.type,
    content: m.content,
    status: m.status,
    error: m.error,
    skipReason: m.skipReason,
    wamid: m.wamid,
    sentAt: m.sentAt,
    statusAt: m.statusAt,
  };
}

/** R14, for the people serving the conversation: whether its number is open now, and when it opens. */
export function businessHoursNow(hours: AutomationSettings['businessHours'], now: number) {
  if (!hours?.enabled) return null;
  const open = isOpen(hours, now);
  const next = open ? null : nextOpening(hours, now);
  return { timezone: hours.timezone, open, nextOpeningAt: next === null ? null : new Date(next).toISOString() };
}
