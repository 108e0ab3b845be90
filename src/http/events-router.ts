import { Router } from 'express';
import type { EventHub } from './event-stream';
import { scopeOf } from './access';

/** GET /api/events/stream: live updates for the principal (see event-stream.ts). */
export function createEventsRouter(deps: { events: () => EventHub }): Router {
  const router = Router();
  router.get('/events/stream', async (req, res) => {
    await deps.events().serve(req, res, scopeOf(res));
  });
  return router;
}
