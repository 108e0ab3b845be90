import { Router } from 'express';
import { openApiDocument } from './openapi';

/** SPEC §6: the API description. Public, so tools can read it before they hold a key. */
export function createOpenApiRouter(): Router {
  const router = Router();
  const body = JSON.stringify(openApiDocument);
  router.get('/api/openapi.json', (_req, res) => {
    res.type('application/json').send(body);
  });
  return router;
}
