/**
 * Outbound event subscriptions and their delivery log (SPEC §9, §6); admin only (access.ts).
 * The secret is write-only: it signs deliveries and is never returned.
 */
import { Router } from 'express';
import { z } from 'zod';
import { phoneNumberIdSchema } from './identifiers';
import type { DeliveryLogEntry, Store, Subscription } from '../store';
import { OUTBOUND_EVENT_TYPES } from '../../workflows/rules/vocabulary';
import { subscriptionUrlProblem } from '../outbound/subscription-url';
import type { DeliveryWaker } from '../outbound/delivery-waker';
import { HttpError } from './errors';
import { parseOrThrow } from './validation';

export const subscriptionIdParam = z.strictObject({
  webhookId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1–64 letters, digits, or . _ -'),
});

export function subscriptionBody(allowHttp: boolean) {
  return z.strictObject({
    url: z
      .string()
      .trim()
      .superRefine((url, ctx) => {
        const problem = subscriptionUrlProblem(url, allowHttp);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    secret: z.string().min(16, 'must be at least 16 characters').max(256, 'must be at most 256 characters'),
    events: z
      .array(z.enum(OUTBOUND_EVENT_TYPES))
      .min(1, 'must name at least one event type')
      .refine((types) => new Set(types).size === types.length, 'must not repeat an event type'),
    phoneNumberIds: z.array(phoneNumberIdSchema).min(1, 'must name at least one number, or be omitted for all').nullable().optional(),
    enabled: z.boolean().optional(),
  });
}

export const deliveryLogQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z
    .string()
    .regex(/^[0-9]{1,19}$/, 'must be an id from this log')
    .optional(),
});

/** The API's Webhook (SPEC §6). */
function toWebhook(s: Subscription) {
  return {
    id: s.id,
    url: s.url,
    events: s.eventTypes,
    phoneNumberIds: s.phoneNumberIds,
    enabled: s.enabled,
    disabledReason: s.disabledReason,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

function toDelivery(d: DeliveryLogEntry) {
  return {
    id: d.id,
    eventId: d.eventId,
    type: d.eventType,
    attempt: d.attempt,
    status: d.httpStatus,
    error: d.error,
    latencyMs: d.latencyMs,
    outcome: d.outcome,
    at: d.at.toISOString(),
  };
}

export function createWebhooksRouter(deps: { store: Store; allowHttpWebhooks: boolean; waker?: DeliveryWaker }): Router {
  const router = Router();
  const { store } = deps;
  const body = subscriptionBody(deps.allowHttpWebhooks);

  router.put('/webhooks/:webhookId', async (req, res) => {
    const { webhookId: id } = parseOrThrow(subscriptionIdParam, req.params, 'path');
    const input = parseOrThrow(body, req.body ?? {}, 'body');
    const { created, subscription } = await store.webhooks.put({
      id,
      url: input.url,
      secret: input.secret,
      eventTypes: input.events,
      phoneNumberIds: input.phoneNumberIds ?? null,
      enabled: input.enabled ?? true,
    });
    // Re-enabled (after a 410) or new: its delivery workflow starts now, not at the first event.
    if (subscription.enabled) deps.waker?.wake(id);
    res.status(created ? 201 : 200).json(toWebhook(subscription));
  });

  router.get('/webhooks', async (_req, res) => {
    res.json({ webhooks: (await store.webhooks.list()).map(toWebhook) });
  });

  router.get('/webhooks/:webhookId', async (req, res) => {
    const { webhookId: id } = parseOrThrow(subscriptionIdParam, req.params, 'path');
    const subscription = await store.webhooks.get(id);
    if (!subscription) throw new HttpError(404, 'not_found', `webhook ${id} does not exist`);
    res.json(toWebhook(subscription));
  });

  router.delete('/webhooks/:webhookId', async (req, res) => {
    const { webhookId: id } = parseOrThrow(subscriptionIdParam, req.params, 'path');
    if (!(await store.webhooks.remove(id))) throw new HttpError(404, 'not_found', `webhook ${id} does not exist`);
    res.status(204).end();
  });

  router.get('/webhooks/:webhookId/deliveries', async (req, res) => {
    const { webhookId: id } = parseOrThrow(subscriptionIdParam, req.params, 'path');
    const query = parseOrThrow(deliveryLogQuery, req.query, 'query');
    if (!(await store.webhooks.get(id))) throw new HttpError(404, 'not_found', `webhook ${id} does not exist`);
    const entries = await store.webhooks.log(id, { limit: query.limit, beforeId: query.before });
    res.json({
      deliveries: entries.map(toDelivery),
      nextCursor: entries.length === query.limit ? entries[entries.length - 1].id : null,
    });
  });

  return router;
}
