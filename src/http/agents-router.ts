import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { agentIdSchema, phoneNumberIdSchema } from './identifiers';
import type { Database } from '../db/knex';
import type { queueDrainWorkflow } from '../../workflows/queue-drain-workflow';
import { HttpError } from './errors';
import { parseOrThrow } from './validation';

export const agentIdParam = z.strictObject({ agentId: agentIdSchema });
export const agentBody = z.strictObject({
  name: z.string().trim().min(1, 'is required').max(200),
  receptionLimit: z.number().int('must be a whole number').min(1, 'must be between 1 and 100').max(100, 'must be between 1 and 100'),
  status: z.enum(['online', 'offline']),
  phoneNumberIds: z.array(phoneNumberIdSchema).min(1).nullable().optional(),
});

interface AgentRow {
  id: string;
  name: string;
  reception_limit: number;
  status: string;
  phone_number_ids: string[] | null;
  load: string | number;
  queued: string | number;
}

/** Agents with their load and the people waiting in the queues of the numbers they serve (R6). */
function agentsWithLoad(db: Database) {
  return db('agents as a').select(
    'a.id',
    'a.name',
    'a.reception_limit',
    'a.status',
    'a.phone_number_ids',
    db.raw(`(SELECT count(*) FROM conversations c WHERE c.agent_id = a.id AND c.status = 'assigned') AS load`),
    db.raw(
      `(SELECT count(*) FROM conversations q WHERE q.status = 'queued' AND (a.phone_number_ids IS NULL OR q.phone_number_id = ANY(a.phone_number_ids))) AS queued`,
    ),
  );
}

function toAgent(row: AgentRow) {
  return {
    id: row.id,
    name: row.name,
    receptionLimit: row.reception_limit,
    status: row.status,
    phoneNumberIds: row.phone_number_ids,
    load: Number(row.load),
    queued: Number(row.queued),
  };
}

export function createAgentsRouter(deps: { db: Database; temporal: Client; taskQueue: string }): Router {
  const router = Router();
  const { db } = deps;

  router.put('/agents/:agentId', async (req, res) => {
    const { agentId } = parseOrThrow(agentIdParam, req.params, 'path');
    const body = parseOrThrow(agentBody, req.body ?? {}, 'body');
    const existed = Boolean(await db('agents').where({ id: agentId }).first('id'));
    await db('agents')
      .insert({
        id: agentId,
        name: body.name,
        reception_limit: body.receptionLimit,
        status: body.status,
        phone_number_ids: body.phoneNumberIds ?? null,
        updated_at: db.fn.now(),
      })
      .onConflict('id')
      .merge(['name', 'reception_limit', 'status', 'phone_number_ids', 'updated_at']);
    if (body.status === 'online') {
      // R6: coming online or a raised limit frees capacity; the queue drains into it.
      await deps.temporal.workflow.start<typeof queueDrainWorkflow>('queueDrainWorkflow', {
        taskQueue: deps.taskQueue,
        workflowId: `queue-drain:${agentId}:${randomUUID()}`,
        args: [{ agentId }],
      });
    }
    const row = (await agentsWithLoad(db).where('a.id', agentId).first()) as AgentRow;
    res.status(existed ? 200 : 201).json(toAgent(row));
  });

  router.get('/agents', async (_req, res) => {
    const rows = (await agentsWithLoad(db).orderBy('a.id')) as AgentRow[];
    res.json({ agents: rows.map(toAgent) });
  });

  router.get('/agents/:agentId', async (req, res) => {
    const { agentId } = parseOrThrow(agentIdParam, req.params, 'path');
    const row = (await agentsWithLoad(db).where('a.id', agentId).first()) as AgentRow | undefined;
    if (!row) throw new HttpError(404, 'not_found', `agent ${agentId} does not exist`);
    res.json(toAgent(row));
  });

  return router;
}
