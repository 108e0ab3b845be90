import express, { Router } from 'express';
import type { Logger } from '../logger';
import type { WebhookIntake } from '../inbound/webhook-intake';
import { parseWebhookPayload } from '../whatsapp/webhook-parser';
import { checkWebhookSignature, constantTimeEquals } from '../whatsapp/signature';
import { sendError } from './errors';
import { withinDatabaseBound } from '../health/dependency-errors';

/** Meta documents webhook payloads of up to 3 MB. */
const MAX_WEBHOOK_BYTES = 3 * 1024 * 1024;

/**
 * A PostgreSQL that accepts but never answers (frozen, a black-holed network) must not
 * hold Meta's request open: past this the webhook answers 503 and Meta redelivers. A store
 * that completes late is harmless, the wamid makes the redelivery a no-op.
 */
export const WEBHOOK_STORE_TIMEOUT_MS = 10_000;

export function createWebhookRouter(deps: {
  appSecret: string;
  verifyToken: string;
  intake: WebhookIntake;
  log: Logger;
  /** WEBHOOK_STORE_TIMEOUT_MS unless given (tests). */
  storeTimeoutMs?: number;
}): Router {
  const router = Router();

  // SPEC §5 verification handshake: echo the challenge, opaque, as plain text.
  router.get('/webhooks/whatsapp', (req, res) => {
    const mode = req.query['hub.mode'];
    const token = req.query['hub.verify_token'];
    const challenge = req.query['hub.challenge'];
    if (mode === 'subscribe' && typeof token === 'string' && typeof challenge === 'string' && constantTimeEquals(token, deps.verifyToken)) {
      res.status(200).type('text/plain').send(challenge);
      return;
    }
    deps.log.warn({ mode }, 'webhook verification refused');
    sendError(res, 403, 'forbidden', 'verification failed');
  });

  // The signature covers the exact bytes Meta sent, so the body is read raw.
  router.post('/webhooks/whatsapp', express.raw({ type: () => true, limit: MAX_WEBHOOK_BYTES }), async (req, res, next) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const check = checkWebhookSignature(raw, req.header('x-hub-signature-256'), deps.appSecret);
    if (check !== 'valid') {
      deps.log.warn({ check }, 'webhook signature rejected');
      return sendError(res, check === 'missing' ? 401 : 403, 'invalid_signature', `signature ${check}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return sendError(res, 400, 'invalid_json', 'the webhook body is not valid JSON');
    }
    try {
      await withinDatabaseBound(deps.storeTimeoutMs ?? WEBHOOK_STORE_TIMEOUT_MS, deps.intake.accept(parseWebhookPayload(body)), 'webhook');
      // Exactly 200: Meta treats anything else as a failure and redelivers.
      res.status(200).json({ ok: true });
    } catch (error) {
      next(error);
    }
  });

  return router;
}
