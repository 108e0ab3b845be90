import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { type Database, isDatabaseReachable } from '../db/knex';

export function createHealthRouter(deps: { db: Database; temporal: Client }): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    const [postgres, temporal] = await Promise.all([isDatabaseReachable(deps.db), isTemporalReachable(deps.temporal)]);
    const ok = postgres && temporal;
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', postgres: postgres ? 'up' : 'down', temporal: temporal ? 'up' : 'down' });
  });
  return router;
}

async function isTemporalReachable(client: Client): Promise<boolean> {
  try {
    await client.workflowService.getSystemInfo({}, );
    return true;
  } catch {
    return false;
  }
}
