import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Store } from '../store';
import { readConditions } from '../health/service-conditions';

/** Each dependency gets this long to answer; /healthz itself never hangs on one that is gone. */
export const HEALTH_CHECK_TIMEOUT_MS = 2_000;

/**
 * 200 while PostgreSQL and Temporal answer, 503 otherwise, naming the part that does not
 * (`postgres: "down"` or `temporal: "down"`). A rejected WhatsApp token does not make the
 * process unhealthy (webhooks must still be accepted) but is shown as
 * `whatsappToken: "rejected"` and `status: "degraded"`.
 */
export function createHealthRouter(deps: { store: Store; temporal: Client; sandbox: boolean }): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    const [postgres, temporal] = await Promise.all([
      within(HEALTH_CHECK_TIMEOUT_MS, deps.store.isReachable()),
      within(HEALTH_CHECK_TIMEOUT_MS, isTemporalReachable(deps.temporal, HEALTH_CHECK_TIMEOUT_MS)),
    ]);
    const conditions = postgres
      ? await within(HEALTH_CHECK_TIMEOUT_MS, readConditions(deps.store.serviceConditions)).then(
          (c) => c || ({} as Awaited<ReturnType<typeof readConditions>>),
        )
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

/** The check's value, or false if it fails or takes longer than `ms`. */
async function within<T>(ms: number, check: Promise<T>): Promise<T | false> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([check, new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

async function isTemporalReachable(client: Client, ms: number): Promise<boolean> {
  try {
    await client.connection.withDeadline(Date.now() + ms, () => client.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  }
}
