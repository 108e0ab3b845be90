import { Router } from 'express';
import { type Client, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import type { UpdateDefinition } from '@temporalio/common';
import { z } from 'zod';
import { agentIdSchema } from './identifiers';
import type { Database } from '../db/knex';
import { messageContentSchema } from '../whatsapp/message-content';
import {
  agentReplyUpdate,
  assignUpdate,
  botCompleteUpdate,
  botHandoverUpdate,
  botReplyUpdate,
  claimUpdate,
  closeUpdate,
  type ConversationRequestResult,
} from '../../workflows/conversation/definitions';
import { HttpError } from './errors';
import { parseOrThrow } from './validation';

export const idParam = z.strictObject({ id: z.uuid() });
const agentId = agentIdSchema;
export const agentBody = z.strictObject({ agentId });
export const replyBody = z.strictObject({ agentId, message: messageContentSchema });
export const closeBody = z.strictObject({ agentId: agentId.optional() });
export const botReplyBody = z.strictObject({ message: messageContentSchema });
export const emptyBody = z.strictObject({});

/**
 * Conversation actions are workflow updates: the workflow applies them in order with
 * everything else that happens to the conversation and answers only once done, so a 200
 * means the action really took effect and a 409 means it could not (SPEC §6).
 */
export function createConversationActionsRouter(deps: { db: Database; temporal: Client }): Router {
  const router = Router();
  const { db, temporal } = deps;

  async function conversationRow(id: string) {
    const row = await db('conversations').where({ id }).first('id', 'workflow_id', 'status');
    if (!row) throw new HttpError(404, 'not_found', `conversation ${id} does not exist`);
    return row as { id: string; workflow_id: string; status: string };
  }

  async function requireAgent(id: string) {
    const row = await db('agents').where({ id }).first('id');
    if (!row) throw new HttpError(404, 'not_found', `agent ${id} does not exist`, [{ field: 'agentId', message: 'no such agent' }]);
  }

  async function send<Args extends object>(conversation: { id: string; workflow_id: string; status: string }, update: UpdateDefinition<ConversationRequestResult, [Args & { conversationId: string }]>, args: Args) {
    if (conversation.status === 'closed') throw new HttpError(409, 'conflict', 'the conversation is closed');
    let result: ConversationRequestResult;
    try {
      result = await temporal.workflow.getHandle(conversation.workflow_id).executeUpdate(update, { args: [{ ...args, conversationId: conversation.id }] });
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && error.cause.type === 'Conflict') {
        throw new HttpError(409, 'conflict', error.cause.message);
      }
      if (error instanceof WorkflowNotFoundError || /already completed/i.test(String((error as Error).message))) {
        throw new HttpError(409, 'conflict', 'the conversation is closed');
      }
      throw error;
    }
    if (!result.ok) throw new HttpError(409, 'conflict', result.message);
    return result;
  }

  router.post('/conversations/:id/claim', async (req, res) => {
    const { id } = parseOrThrow(idParam, req.params, 'path');
    const body = parseOrThrow(agentBody, req.body ?? {}, 'body');
    const conversation = await conversationRow(id);
    await requireAgent(body.agentId);
    await send(conversation, claimUpdate, { agentId: body.agentId });
    res.json({ id, status: 'assigned', agentId: body.agentId });
  });

  router.post('/conversations/:id/assign', async (req, res) => {
    const { id } = parseOrThrow(idParam, req.params, 'path');
    const body = parseOrThrow(agentBody, req.body ?? {}, 'body');
    const conversation = await conversationRow(id);
    await requireAgent(body.agentId);
    await send(conversation, assignUpdate, { agentId: body.agentId });
    res.json({ id, status: 'assigned', agentId: body.agentId });
  });

  router.post('/conversations/:id/messages', async (req, res) => {
    const { id } = parseOrThrow(idParam, req.params, 'path');
    const body = parseOrThrow(replyBody, req.body ?? {}, 'body');
    const conversation = await conversationRow(id);
    const result = await send(conversation, agentReplyUpdate, { agentId: body.agentId, message: body.message });
    res.status(201).json({ id: result.messageId ?? null, status: result.status });
  });

  router.post('/conversations/:id/close', async (req, res) => {
    const { id } = parseOrThrow(idParam, req.params, 'path');
    const body = parseOrThrow(closeBody, req.body ?? {}, 'body');
    const conversation = await conversationRow(id);
    await send(conversation, closeUpdate, body.agentId ? { agentId: body.agentId } : {});
    res.json({ id, status: 'closed' });
  });

  router.post('/conversations/:id/bot/messages', async (req, res) => {
    const { id } = parseOrThrow(idParam, req.params, 'path');
    const body = parseOrThrow(botReplyBody, req.body ?? {}, 'body');
    const result = await send(await conversationRow(id), botReplyUpdate, { message: body.message });
    res.status(201).json({ id: result.messageId ?? null, status: result.status });
  });

  router.post('/conversations/:id/bot/handover', async (req, res) => {
    const { id } = parseOrThrow(idParam, req.params, 'path');
    parseOrThrow(emptyBody, req.body ?? {}, 'body');
    const result = await send(await conversationRow(id), botHandoverUpdate, {});
    res.json({ id, status: result.status });
  });

  router.post('/conversations/:id/bot/complete', async (req, res) => {
    const { id } = parseOrThrow(idParam, req.params, 'path');
    parseOrThrow(emptyBody, req.body ?? {}, 'body');
    await send(await conversationRow(id), botCompleteUpdate, {});
    res.json({ id, status: 'closed' });
  });

  return router;
}
