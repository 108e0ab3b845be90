import { Router } from 'express';
import { z } from 'zod';
import { agentIdSchema, phoneNumberIdSchema } from './identifiers';
import type { Database } from '../db/knex';
import { toConversation } from './conversations-router';
import { phoneNumberIdParam } from './automation-router';
import { parseOrThrow } from './validation';

export const csatQuery = z.strictObject({
  phoneNumberId: phoneNumberIdSchema.optional(),
  agentId: agentIdSchema.optional(),
});

interface CsatRow {
  conversation_id: string;
  phone_number_id: string;
  agent_id: string | null;
  score: number;
  answered_at: Date;
}

export function createReportsRouter(deps: { db: Database }): Router {
  const router = Router();
  const { db } = deps;

  router.get('/numbers/:phoneNumberId/queue', async (req, res) => {
    const { phoneNumberId } = parseOrThrow(phoneNumberIdParam, req.params, 'path');
    const rows = await db('conversations')
      .where({ phone_number_id: phoneNumberId, status: 'queued' })
      .orderBy([{ column: 'queued_at' }, { column: 'id' }]);
    res.json({ phoneNumberId, length: rows.length, conversations: rows.map((r, i) => ({ position: i + 1, ...toConversation(r) })) });
  });

  router.get('/csat', async (req, res) => {
    const query = parseOrThrow(csatQuery, req.query, 'query');
    const rows: CsatRow[] = await db('csat_answers')
      .modify((q) => {
        if (query.phoneNumberId) q.where({ phone_number_id: query.phoneNumberId });
        if (query.agentId) q.where({ agent_id: query.agentId });
      })
      .orderBy('answered_at', 'desc');
    const total = rows.reduce((sum, r) => sum + Number(r.score), 0);
    res.json({
      count: rows.length,
      average: rows.length ? Math.round((total / rows.length) * 100) / 100 : null,
      answers: rows.map((r) => ({
        conversationId: r.conversation_id,
        phoneNumberId: r.phone_number_id,
        agentId: r.agent_id,
        score: r.score,
        answeredAt: r.answered_at,
      })),
    });
  });

  return router;
}
