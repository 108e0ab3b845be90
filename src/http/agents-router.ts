import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { agentIdSchema, phoneNumberIdSchema } from './identifiers';
import type { AgentWithLoad, Store } from '../store';
import { AGENT_STATUSES } from '../../workflows/rules/vocabulary';
import { QUEUE_DRAIN_WORKFLOW_TYPE, type QueueDrainWorkflowInput, queueDrainWorkflowId } from '../../workflows/queue-drain/contract';
import { AGENT_OFFLINE_WORKFLOW_TYPE, type AgentOfflineWorkflowInput, agentOfflineWorkflowId } from '../../workflows/agent-offline/contract';
import { HttpError } from './errors';
import { parseOrThrow } from './validation';

export const agentIdParam = z.strictObject({ agentId: agentIdSchema });
export const agentBody = z.strictObject({
  name: z.string().trim().min(1, 'is required').max(200),
  receptionLimit: z.number().int('must be a whole number').min(1, 'must be between 1 and 100').max(100, 'must be between 1 and 100'),
  status: z.enum(AGENT_STATUSES),
  phoneNumberIds: z.array(phoneNumberIdSchema).min(1).nullable().optional(),
});

export const agentStatusBody = z.strictObject({ status: z.enum(AGENT_STATUSES) });

/** The API's Agent (SPEC §6). */
function toAgent(agent: AgentWithLoad) {
  return {
    id: agent.id,
    name: agent.name,
    receptionLimit: agent.receptionLimit,
    status: agent.status,
    phoneNumberIds: agent.phoneNumberIds,
    load: agent.load,
    queued: agent.queued,
  };
}

export function createAgentsRouter(deps: { store: Store; temporal: Client; taskQueue: string }): Router {
  const router = Router();
  const { store } = deps;

  /** R6: coming online or a raised limit frees capacity; the queue drains into it. */
  async function startDrain(agentId: string): Promise<void> {
    const drain: QueueDrainWorkflowInput = { agentId };
    await deps.temporal.workflow.start(QUEUE_DRAIN_WORKFLOW_TYPE, {
      taskQueue: deps.taskQueue,
      workflowId: queueDrainWorkflowId(agentId, randomUUID()),
      args: [drain],
    });
  }

  /** R13: going offline; each conversation the agent holds decides whether to be routed again. */
  async function tellConversationsOffline(agentId: string): Promise<void> {
    const input: AgentOfflineWorkflowInput = { agentId };
    await deps.temporal.workflow.start(AGENT_OFFLINE_WORKFLOW_TYPE, {
      taskQueue: deps.taskQueue,
      workflowId: agentOfflineWorkflowId(agentId, randomUUID()),
      args: [input],
    });
  }

  router.put('/agents/:agentId', async (req, res) => {
    const { agentId } = parseOrThrow(agentIdParam, req.params, 'path');
    const body = parseOrThrow(agentBody, req.body ?? {}, 'body');
    const wasOnline = (await store.agents.getWithLoad(agentId))?.status === 'online';
    const { created } = await store.agents.upsert({
      id: agentId,
      name: body.name,
      receptionLimit: body.receptionLimit,
      status: body.status,
      phoneNumberIds: body.phoneNumberIds ?? null,
    });
    if (body.status === 'online') await startDrain(agentId);
    else if (wasOnline) await tellConversationsOffline(agentId);
    const agent = (await store.agents.getWithLoad(agentId))!;
    res.status(created ? 201 : 200).json(toAgent(agent));
  });

  router.put('/agents/:agentId/status', async (req, res) => {
    const { agentId } = parseOrThrow(agentIdParam, req.params, 'path');
    const { status } = parseOrThrow(agentStatusBody, req.body ?? {}, 'body');
    const agent = await store.agents.getWithLoad(agentId);
    if (!agent) throw new HttpError(404, 'not_found', `agent ${agentId} does not exist`);
    await store.agents.upsert({ ...agent, status });
    if (status === 'online') await startDrain(agentId);
    else if (agent.status === 'online') await tellConversationsOffline(agentId);
    res.json(toAgent((await store.agents.getWithLoad(agentId))!));
  });

  router.get('/agents', async (_req, res) => {
    const agents = await store.agents.listWithLoad();
    res.json({ agents: agents.map(toAgent) });
  });

  router.get('/agents/:agentId', async (req, res) => {
    const { agentId } = parseOrThrow(agentIdParam, req.params, 'path');
    const agent = await store.agents.getWithLoad(agentId);
    if (!agent) throw new HttpError(404, 'not_found', `agent ${agentId} does not exist`);
    res.json(toAgent(agent));
  });

  return router;
}
