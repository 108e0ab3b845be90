import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { z } from 'zod';
import { agentIdSchema } from './identifiers';
import type { Store } from '../store';
import { replyContentSchema } from '../whatsapp/message-content';
import {
  agentReplyUpdate,
  assignUpdate,
  botCompleteUpdate,
  botHandoverUpdate,
  botReplyUpdate,
  claimUpdate,
  closeUpdate,
  type Addressed,
  type ConversationActionResult,
} from '../../workflows/conversation/contract';
import { ConversationConflict, requestConversationAction } from '../temporal/conversation-actions';
import { HttpError } from './errors';
import { actorOf } from '../accounts/accounts';
import { principalOf } from './access';
import type { Response } from 'express';
import { parseOrThrow } from './validation';

export const idParam = z.strictObject({ id: z.uuid() });
const agentId = agentIdSchema;
export const agentBody = z.strictObject({ agentId });
export const replyBody = z.strictObject({ agentId, message: replyContentSchema });
export const closeBody = z.strictObject({ agentId: agentId.optional() });
export const botReplyBody = z.strictObject({ message: replyContentSchema });
export const emptyBody = z.strictObject({});

/**
 * Conversation actions are workflow updates: the workflow applies them in order with
 * everything else that happens to the conversation and answers only once done, so a 200
 * means the action really took effect and a 409 means it could not (SPEC §6).
 */
export function createConversationActionsRouter(deps: { store: Store; temporal: Client }): Router {
  const router = Router();
  const { store, temporal } = deps;

  async function conversationRow(id: string) {
    const row = await store.conversations.get(id);
    if (!row) throw new HttpError(404, 'not_found', `conversation ${id} does not exist`);
    return row;
  }

  async function requireAgent(id: string) {
    if (!(await store.agents.exists(id)))
      throw new HttpError(404, 'not_found', `agent ${id} does not exist`, [{ field: 'agentId', message: 'no such agent' }]);
  }

  /** The timeline names who asked (the rules' own entries come from the database triggers). */
  async function recordActor(res: Response, conversationId: string, details: Record<string, unknown>): Promise<void> {
    const principal = principalOf(res);
    if (principal) await store.activity.recordAction(conversationId, actorOf(principal), details);
  }

  async function send<Args extends object>(
    conversation: { id: string; workflowId: string; status: string },
    update: UpdateDefinition<ConversationActionResult, [Args & Addressed]>,
    args: Args,
  ): Promise<ConversationActionResult> {
    if (conversation.status === 'closed') throw new ConversationConflict('the conversation is closed');
    return requestConversationAction(temporal, conversation.workflowId, update, { ...args, conversationId: conversation.id });
  }

  router.post('/conversations/:id/claim', async (req, res) => {
    const { id } = parseOrThrow(idParam, req.params, 'path');
    const body = parseOrThrow(agentBody, req.body ?? {}, 'body');
    const conversation = await conversationRow(id);
    await requireAgent(body.agentId);
    await send(conversation, claimUpdate, { agentId: body.agentId });
    await recordActor(res, id, { action: 'claim', agentId: body.agentId });
    res.json({ id, status: 'assigned', agentId: body.agentId });
  });

  router.post('/conversations/:id/assign', async (req, res) => {
    const { id } = parseOrThrow(idParam, req.params, 'path');
    const body = parseOrThrow(agentBody, req.body ?? {}, 'body');
    const conversation = await conversationRow(id);
    await requireAgent(body.agentId);
    await send(conversation, assignUpdate, { agentId: body.agentId });
    await recordActor(res, id, { action: 'assign', agentId: body.agentId });
    res.json({ id, status: 'assigned', agentId: body.agentId });
  });

  router.post('/conversations/:id/messages', async (req, res) => {
    const { id } = parseOrThrow(idParam, req.params, 'path');
    const body = parseOrThrow(replyBody, req.body ?? {}, 'body');
    const conversation = await conversationRow(id);
    const result = await send(conversation, agentReplyUpdate, { agentId: body.agentId, message: body.message });
    await recordActor(res, id, { action: 'reply', agentId: body.agentId, messageId: result.messageId ?? null });
    res.status(201).json({ id: result.messageId ?? null, status: result.status });
  });

  router.post('/conversations/:id/close', async (req, res) => {
    const { id } = parseOrThrow(idParam, req.params, 'path');
    const body = parseOrThrow(closeBody, req.body ?? {}, 'body');
    const conversation = await conversationRow(id);
    await send(conversation, closeUpdate, body.agentId ? { agentId: body.agentId } : {});
    await recordActor(res, id, { action: 'close', agentId: body.agentId ?? null });
    res.json({ id, status: 'closed' });
  });

  router.post('/conversations/:id/bot/messages', async (req, res) => {
    const { id } = parseOrThrow(idParam, req.params, 'path');
    const body = parseOrThrow(botReplyBody, req.body ?? {}, 'body');
    const result = await send(await conversationRow(id), botReplyUpdate, { message: body.message });
    await recordActor(res, id, { action: 'bot_reply', messageId: result.messageId ?? null });
    res.status(201).json({ id: result.messageId ?? null, status: result.status });
  });

  router.post('/conversations/:id/bot/handover', async (req, res) => {
    const { id } = parseOrThrow(idParam, req.params, 'path');
    parseOrThrow(emptyBody, req.body ?? {}, 'body');
    const result = await send(await conversationRow(id), botHandoverUpdate, {});
    await recordActor(res, id, { action: 'bot_handover' });
    res.json({ id, status: result.status });
  });

  router.post('/conversations/:id/bot/complete', async (req, res) => {
    const { id } = parseOrThrow(idParam, req.params, 'path');
    parseOrThrow(emptyBody, req.body ?? {}, 'body');
    await send(await conversationRow(id), botCompleteUpdate, {});
    await recordActor(res, id, { action: 'bot_complete' });
    res.json({ id, status: 'closed' });
  });

  return router;
}
