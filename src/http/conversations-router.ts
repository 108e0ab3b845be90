import { Router } from 'express';
import { z } from 'zod';
import { agentIdSchema, phoneNumberIdSchema } from './identifiers';
import type { Conversation, Message, Store } from '../store';
import { CONVERSATION_STATUSES } from '../../workflows/rules/vocabulary';
import { HttpError } from './errors';
import { parseOrThrow } from './validation';

export const listQuery = z.strictObject({
  phoneNumberId: phoneNumberIdSchema.optional(),
  status: z.enum(CONVERSATION_STATUSES).optional(),
  agentId: agentIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const idParam = z.strictObject({ id: z.uuid() });

/** Reads come from PostgreSQL, never from workflow queries, so lists stay fast. */
export function createConversationsRouter(deps: { store: Store }): Router {
  const router = Router();
  const { store } = deps;

  router.get('/conversations', async (req, res) => {
    const query = parseOrThrow(listQuery, req.query, 'query');
    const conversations = await store.conversations.list(query);
    res.json({ conversations: conversations.map(toConversation) });
  });

  router.get('/conversations/:id', async (req, res) => {
    const { id } = parseOrThrow(idParam, req.params, 'path');
    const conversation = await store.conversations.get(id);
    if (!conversation) throw new HttpError(404, 'not_found', `conversation ${id} does not exist`);
    const messages = await store.messages.listForConversation(id);
    res.json({ ...toConversation(conversation), messages: messages.map(toMessage) });
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
  };
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
