import { Router } from 'express';
import { z } from 'zod';
import { agentIdSchema, phoneNumberIdSchema } from './identifiers';
import type { Database } from '../db/knex';
import { HttpError } from './errors';
import { parseOrThrow } from './validation';

export const listQuery = z.strictObject({
  phoneNumberId: phoneNumberIdSchema.optional(),
  status: z.enum(['bot', 'unassigned', 'queued', 'assigned', 'closed']).optional(),
  agentId: agentIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const idParam = z.strictObject({ id: z.uuid() });

/** Reads come from PostgreSQL, never from workflow queries, so lists stay fast. */
export function createConversationsRouter(deps: { db: Database }): Router {
  const router = Router();
  const { db } = deps;

  router.get('/conversations', async (req, res) => {
    const query = parseOrThrow(listQuery, req.query, 'query');
    const rows = await db('conversations')
      .modify((q) => {
        if (query.phoneNumberId) q.where({ phone_number_id: query.phoneNumberId });
        if (query.status) q.where({ status: query.status });
        if (query.agentId) q.where({ agent_id: query.agentId });
        // Queued conversations are listed in queue order, everything else newest first.
        if (query.status === 'queued') q.orderBy([{ column: 'queued_at' }, { column: 'id' }]);
        else q.orderBy([{ column: 'opened_at', order: 'desc' }, { column: 'id' }]);
      })
      .limit(query.limit);
    res.json({ conversations: rows.map(toConversation) });
  });

  router.get('/conversations/:id', async (req, res) => {
    const { id } = parseOrThrow(idParam, req.params, 'path');
    const row = await db('conversations').where({ id }).first();
    if (!row) throw new HttpError(404, 'not_found', `conversation ${id} does not exist`);
    const messages = await db('messages').where({ conversation_id: id }).orderBy([{ column: 'sent_at' }, { column: 'created_at' }]);
    res.json({ ...toConversation(row), messages: messages.map(toMessage) });
  });

  return router;
}

export function toConversation(row: Record<string, unknown>) {
  return {
    id: row.id,
    phoneNumberId: row.phone_number_id,
    contactId: row.contact_id,
    status: row.status,
    agentId: row.agent_id ?? null,
    closeReason: row.close_reason ?? null,
    openedAt: row.opened_at,
    queuedAt: row.queued_at ?? null,
    assignedAt: row.assigned_at ?? null,
    closedAt: row.closed_at ?? null,
    lastCustomerMessageAt: row.last_customer_message_at ?? null,
    workflowId: row.workflow_id,
  };
}

export function toMessage(row: Record<string, unknown>) {
  return {
    id: row.id,
    direction: row.direction,
    author: row.author,
    agentId: row.agent_id ?? null,
    automation: row.automation ?? null,
    type: row.type,
    content: row.content,
    status: row.status,
    error: row.error ?? null,
    skipReason: row.skip_reason ?? null,
    wamid: row.wamid ?? null,
    sentAt: row.sent_at,
    statusAt: row.status_at ?? null,
  };
}
