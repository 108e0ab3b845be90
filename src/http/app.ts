import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type { Store } from '../store';
import type { Logger } from '../logger';
import type { WebhookIntake } from '../inbound/webhook-intake';
import { requireApiKey } from './auth';
import { createConversationsRouter } from './conversations-router';
import { createConversationActionsRouter } from './conversation-actions-router';
import { createAutomationRouter } from './automation-router';
import { createAgentsRouter } from './agents-router';
import { createReportsRouter } from './reports-router';
import type { GraphClient } from '../whatsapp/graph-client';
import { errorHandler, HttpError, sendError } from './errors';
import { findUnstorableText } from '../db/storable';
import { createHealthRouter } from './health-router';
import { createWebhookRouter } from './webhook-router';
import { createOpenApiRouter } from './openapi-router';

export interface AppDeps {
  /** The data-access layer: the only way the routers reach PostgreSQL. */
  store: Store;
  temporal: Client;
  intake: WebhookIntake;
  log: Logger;
  taskQueue: string;
  /** null in sandbox mode. */
  graph: GraphClient | null;
  /** No WhatsApp access token: outbound messages are recorded, not sent. */
  sandbox: boolean;
  apiKeys: string[];
  appSecret: string;
  verifyToken: string;
}

/** API bodies are small JSON documents; anything larger is a mistake or an attack. */
const MAX_API_BODY = '256kb';

/**
 * PostgreSQL cannot store U+0000 or unpaired surrogates, and no legitimate name, id or
 * message needs them: refuse them with a 400 naming the field instead of failing later.
 */
const rejectUnstorableText: express.RequestHandler = (req, _res, next) => {
  const field = findUnstorableText(req.body);
  if (field === null) return next();
  next(
    new HttpError(400, 'invalid_request', 'the request body contains a character no field accepts', [
      { field, message: 'must not contain U+0000 or an unpaired UTF-16 surrogate' },
    ]),
  );
};

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(createHealthRouter(deps));
  app.use(createWebhookRouter(deps));
  app.use(createOpenApiRouter());

  const api = express.Router();
  api.use(requireApiKey(deps.apiKeys));
  api.use(express.json({ limit: MAX_API_BODY }));
  api.use(rejectUnstorableText);
  api.use(createConversationsRouter(deps));
  api.use(createConversationActionsRouter(deps));
  api.use(createAutomationRouter(deps));
  api.use(createAgentsRouter(deps));
  api.use(createReportsRouter(deps));
  app.use('/api', api);

  app.use((_req, res) => sendError(res, 404, 'not_found', 'no such route'));
  app.use(errorHandler(deps.log));
  return app;
}
