import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Store } from '../store';
import { readConditions } from '../health/service-conditions';

/**
 * 200 while PostgreSQL and Temporal answer, 503 otherwise. A rejected WhatsApp token does
 * not make the process unhealthy (webhooks must still be accepted) but is shown as
 * `whatsappToken: "rejected"` and `status: "degraded"`.
 */
export function createHealthRouter(deps: { store: Store; temporal: Client; sandbox: boolean }): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    const [postgres, temporal] = await Promise.all([deps.store.isReachable(), isTemporalReachable(deps.temporal)]);
    const conditions = postgres
      ? await readConditions(deps.store.serviceConditions).catch(() => ({}) as Awaited<ReturnType<typeof readConditions>>)
      : {};
    const whatsappToken = deps.sandbox ? 'sandbox' : (conditions.whatsapp_token?.state ?? 'ok');
    const reachable = postgres && temporal;
    res.status(reachable ? 200 : 503).json({
      status: reachable && whatsappToken !== 'rejected' ? 'ok' : 'degraded',
      postgres: postgres ? 'up' : 'down',
      temporal: temporal ? 'up' : 'down',
      whatsappToken,
    });
  });
  return router;
}

async function isTemporalReachable(client: Client): Promise<boolean> {
  try {
    await client.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  }
}
