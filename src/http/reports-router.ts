import { Router } from 'express';
import { z } from 'zod';
import { agentIdSchema, phoneNumberIdSchema } from './identifiers';
import type { Store } from '../store';
import { toConversation } from './conversations-router';
import { phoneNumberIdParam } from './automation-router';
import { parseOrThrow } from './validation';
import { scopeOf } from './access';

export const csatQuery = z.strictObject({
  phoneNumberId: phoneNumberIdSchema.optional(),
  agentId: agentIdSchema.optional(),
});

export function createReportsRouter(deps: { store: Store }): Router {
  const router = Router();
  const { store } = deps;

  router.get('/numbers/:phoneNumberId/queue', async (req, res) => {
    const { phoneNumberId } = parseOrThrow(phoneNumberIdParam, req.params, 'path');
    const queue = await store.conversations.queue(phoneNumberId);
    res.json({ phoneNumberId, length: queue.length, conversations: queue.map((c, i) => ({ position: i + 1, ...toConversation(c) })) });
  });

  router.get('/csat', async (req, res) => {
    const query = parseOrThrow(csatQuery, req.query, 'query');
    const scope = scopeOf(res);
    const answers = await store.csat.list({ ...query, agentId: scope.agentId ?? query.agentId });
    const total = answers.reduce((sum, a) => sum + Number(a.score), 0);
    res.json({
      count: answers.length,
      average: answers.length ? Math.round((total / answers.length) * 100) / 100 : null,
      answers: answers.map((a) => ({
        conversationId: a.conversationId,
        phoneNumberId: a.phoneNumberId,
        agentId: a.agentId,
        score: a.score,
        answeredAt: a.answeredAt,
      })),
    });
  });

  return router;
}
