import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type { Store } from '../store';
import { type Logger, withLogContext } from '../logger';
import type { WebhookIntake } from '../inbound/webhook-intake';
import type { ServiceMetrics } from '../observability/metrics';
import { authenticate } from './auth';
import { authorize, requireAuthentication } from './access';
import { createPeopleRouter } from './people-router';
import { createEventsRouter } from './events-router';
import { createEventHub, type EventHub } from './event-stream';
import { createConversationsRouter } from './conversations-router';
import { createConversationActionsRouter } from './conversation-actions-router';
import { createAutomationRouter } from './automation-router';
import { createAgentsRouter } from './agents-router';
import { createReportsRouter } from './reports-router';
import { createWebhooksRouter } from './webhooks-router';
import type { DeliveryWaker } from '../outbound/delivery-waker';
import type { GraphClient } from '../whatsapp/graph-client';
import { errorHandler, HttpError, sendError } from './errors';
import { findUnstorableText } from '../db/storable';
import { createHealthRouter } from './health-router';
import { createWebhookRouter } from './webhook-router';
import { createOpenApiRouter } from './openapi-router';
import { createWebAppRouter } from '../web/serve';

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
  /** PUBLIC_URL: https makes the session cookie Secure; its origin passes the same-origin check. */
  publicUrl?: string;
  /** The live-update fan-out; created (lazily) when not given. Its owner stops it. */
  events?: EventHub;
  /** GET /metrics (Prometheus) and the webhook acknowledgement histogram; absent: no /metrics. */
  metrics?: ServiceMetrics;
  /** How long a webhook waits for PostgreSQL before answering 503 (default WEBHOOK_STORE_TIMEOUT_MS, 10 s). */
  webhookStoreTimeoutMs?: number;
  /** ALLOW_HTTP_WEBHOOKS: subscriptions may use http to any host (SPEC §9); default loopback only. */
  allowHttpWebhooks?: boolean;
  /** Starts a subscription's delivery workflow when it is saved; absent: at its first event. */
  deliveryWaker?: DeliveryWaker;
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

/** An incoming X-Request-Id is kept when it is short and plain (it ends up in logs); otherwise one is made. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Every response carries `X-Request-Id` and every line logged while the request is handled
 * carries `requestId`, so a person can quote the header and find the log lines.
 */
const requestId: express.RequestHandler = (req, res, next) => {
  const given = req.header('x-request-id');
  const id = given && SANE_REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', id);
  res.locals.requestId = id;
  withLogContext({ requestId: id }, next);
};

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestId);
  app.use(createHealthRouter(deps));
  const { metrics } = deps;
  if (metrics) {
    app.get('/metrics', async (_req, res, next) => {
      try {
        res.type(metrics.contentType).send(await metrics.render());
      } catch (error) {
        next(error);
      }
    });
    // Acknowledgement latency of every webhook POST, by the status it was answered with.
    app.use('/webhooks/whatsapp', (req, res, next) => {
      if (req.method !== 'POST') return next();
      const end = metrics.webhookAckSeconds.startTimer();
      res.once('finish', () => end({ status: String(res.statusCode) }));
      next();
    });
  }
  app.use(createWebhookRouter({ ...deps, storeTimeoutMs: deps.webhookStoreTimeoutMs }));
  app.use(createOpenApiRouter());

  let events = deps.events ?? null;
  const api = express.Router();
  api.use(authenticate({ store: deps.store, apiKeys: deps.apiKeys, publicUrl: deps.publicUrl }));
  api.use(requireAuthentication());
  api.use(express.json({ limit: MAX_API_BODY }));
  api.use(rejectUnstorableText);
  // Who may do what: one table (access.ts), applied here before any router.
  api.use(authorize(deps.store));
  api.use(createPeopleRouter(deps));
  api.use(createEventsRouter({ events: () => (events ??= createEventHub({ store: deps.store, log: deps.log })) }));
  api.use(createConversationsRouter(deps));
  api.use(createConversationActionsRouter(deps));
  api.use(createAutomationRouter(deps));
  api.use(createAgentsRouter(deps));
  api.use(createReportsRouter(deps));
  api.use(createWebhooksRouter({ store: deps.store, allowHttpWebhooks: deps.allowHttpWebhooks ?? false, waker: deps.deliveryWaker }));
  app.use('/api', api);
  // The web app (SPEC §8): dist/web at /, index.html for client routes (not /api, /webhooks…).
  app.use(createWebAppRouter());

  app.use((_req, res) => sendError(res, 404, 'not_found', 'no such route'));
  app.use(errorHandler(deps.log));
  return app;
}
