/**
 * Outbound event subscriptions, their deliveries and the delivery log (SPEC §9; tables
 * of migration 0008, whose triggers write the events and deliveries). A delivery is
 * handed out only when it heads its line: the oldest pending delivery of its ordering key
 * (conversation or agent) for its subscription, so events reach a subscriber in order.
 */
import type { Database } from '../db/knex';
import { listenToChannel } from './listen';
import type { OutboundEventType } from '../../workflows/rules/vocabulary';

export interface Subscription {
  id: string;
  url: string;
  eventTypes: OutboundEventType[];
  /** null: every number. */
  phoneNumberIds: string[] | null;
  enabled: boolean;
  /** Why it was disabled (e.g. the subscriber answered 410), or null. */
  disabledReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface SubscriptionInput {
  id: string;
  url: string;
  secret: string;
  eventTypes: OutboundEventType[];
  phoneNumberIds: string[] | null;
  enabled: boolean;
}

export interface DeliveryTarget {
  url: string;
  secret: string;
  enabled: boolean;
}

export interface DueDelivery {
  deliveryId: string;
  event: { id: string; type: OutboundEventType; occurredAt: Date; data: Record<string, unknown> };
  /** Attempts made before this one. */
  attempts: number;
  firstAttemptAt: Date | null;
}

export type AttemptOutcome = 'delivered' | 'retry' | 'failed' | 'gone';

export interface AttemptRecord {
  deliveryId: string;
  eventId: string;
  eventType: string;
  attempt: number;
  httpStatus: number | null;
  error: string | null;
  latencyMs: number;
  startedAt: Date;
  outcome: AttemptOutcome;
  /** For `retry`: when to try again. */
  nextAttemptAt?: Date;
}

export interface DeliveryLogEntry {
  id: string;
  eventId: string;
  eventType: string;
  attempt: number;
  httpStatus: number | null;
  error: string | null;
  latencyMs: number;
  outcome: AttemptOutcome;
  at: Date;
}

export interface WebhookStore {
  put(input: SubscriptionInput): Promise<{ created: boolean; subscription: Subscription }>;
  get(id: string): Promise<Subscription | null>;
  list(): Promise<Subscription[]>;
  /** Deletes the subscription with its deliveries and log; false when there was none. */
  remove(id: string): Promise<boolean>;
  target(id: string): Promise<DeliveryTarget | null>;
  /** Heads of line due now (at most `limit`); when none is, when the next one will be. */
  due(subscriptionId: string, limit: number): Promise<{ due: DueDelivery[]; nextDueAt: Date | null }>;
  /** Logs a round's attempts and moves their deliveries on, in one transaction. */
  recordAttempts(subscriptionId: string, attempts: AttemptRecord[]): Promise<void>;
  /** Turns the subscription off and drops its pending deliveries (a 410). */
  disable(subscriptionId: string, reason: string): Promise<void>;
  /** Attempts newest first; `beforeId` pages back. */
  log(subscriptionId: string, options: { limit: number; beforeId?: string }): Promise<DeliveryLogEntry[]>;
  /** Ids of the enabled subscriptions that have pending deliveries. */
  withPendingDeliveries(): Promise<string[]>;
  /** A dedicated connection told the id of each subscription that got new events, at commit. */
  listen(listener: { onNewEvents(subscriptionId: string): void; onLost(): void }): Promise<{ stop(): Promise<void> }>;
}

interface SubscriptionRow {
  id: string;
  url: string;
  secret: string;
  event_types: OutboundEventType[];
  phone_number_ids: string[] | null;
  enabled: boolean;
  disabled_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

function toSubscription(row: SubscriptionRow): Subscription {
  return {
    id: row.id,
    url: row.url,
    eventTypes: row.event_types,
    phoneNumberIds: row.phone_number_ids,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

interface HeadRow {
  id: string;
  event_id: string;
  attempts: number;
  first_attempt_at: Date | null;
  next_attempt_at: Date;
  type: OutboundEventType;
  occurred_at: Date;
  data: Record<string, unknown>;
}

function toDue(r: HeadRow): DueDelivery {
  return {
    deliveryId: String(r.id),
    event: { id: r.event_id, type: r.type, occurredAt: r.occurred_at, data: r.data },
    attempts: r.attempts,
    firstAttemptAt: r.first_attempt_at,
  };
}

const SUBSCRIPTION_COLUMNS = ['id', 'url', 'event_types', 'phone_number_ids', 'enabled', 'disabled_reason', 'created_at', 'updated_at'];

export function createWebhookStore(db: Database): WebhookStore {
  return {
    async put(input) {
      const existing = await db('webhook_subscriptions').where({ id: input.id }).first('id');
      const [row] = await db<SubscriptionRow>('webhook_subscriptions')
        .insert({
          id: input.id,
          url: input.url,
          secret: input.secret,
          event_types: input.eventTypes,
          phone_number_ids: input.phoneNumberIds,
          enabled: input.enabled,
          disabled_reason: null,
          updated_at: db.fn.now(),
        })
        .onConflict('id')
        .merge()
        .returning(SUBSCRIPTION_COLUMNS);
      return { created: !existing, subscription: toSubscription(row as SubscriptionRow) };
    },

    async get(id) {
      const row = (await db('webhook_subscriptions').where({ id }).first(SUBSCRIPTION_COLUMNS)) as SubscriptionRow | undefined;
      return row ? toSubscription(row) : null;
    },

    async list() {
      const rows = (await db('webhook_subscriptions').orderBy('created_at').select(SUBSCRIPTION_COLUMNS)) as SubscriptionRow[];
      return rows.map(toSubscription);
    },

    async remove(id) {
      return db.transaction(async (trx) => {
        // The events stay (other subscriptions may share them); this one's deliveries and log go.
        await trx('webhook_delivery_attempts').where({ subscription_id: id }).delete();
        await trx('webhook_deliveries').where({ subscription_id: id }).delete();
        return (await trx('webhook_subscriptions').where({ id }).delete()) > 0;
      });
    },

    async target(id) {
      const row = await db<SubscriptionRow>('webhook_subscriptions').where({ id }).first('url', 'secret', 'enabled');
      return row ? { url: row.url, secret: row.secret, enabled: row.enabled } : null;
    },

    async due(subscriptionId, limit) {
      const { rows } = await db.raw<{ rows: HeadRow[] }>(
        `WITH heads AS (
           SELECT DISTINCT ON (ordering_key) id, event_id, attempts, first_attempt_at, next_attempt_at
           FROM webhook_deliveries
           WHERE subscription_id = ? AND status = 'pending'
           ORDER BY ordering_key, id
         )
         SELECT h.*, e.type, e.occurred_at, e.data FROM heads h JOIN outbound_events e ON e.id = h.event_id
         WHERE h.next_attempt_at <= clock_timestamp()
         ORDER BY h.id LIMIT ?`,
        [subscriptionId, limit],
      );
      if (rows.length > 0) return { due: rows.map(toDue), nextDueAt: null };
      // Nothing due: when the next retry is (the caller sleeps until then).
      const next = await db.raw<{ rows: { next: Date | null }[] }>(
        `SELECT min(next_attempt_at) AS next FROM (
           SELECT DISTINCT ON (ordering_key) next_attempt_at FROM webhook_deliveries
           WHERE subscription_id = ? AND status = 'pending' ORDER BY ordering_key, id
         ) heads WHERE next_attempt_at > clock_timestamp()`,
        [subscriptionId],
      );
      return { due: [], nextDueAt: next.rows[0]?.next ?? null };
    },

    async recordAttempts(subscriptionId, attempts) {
      if (attempts.length === 0) return;
      // The subscription may have been deleted while the attempts were in flight: nothing to record.
      if (!(await db('webhook_subscriptions').where({ id: subscriptionId }).first('id'))) return;
      await db.transaction(async (trx) => {
        await trx('webhook_delivery_attempts').insert(
          attempts.map((a) => ({
            subscription_id: subscriptionId,
            delivery_id: a.deliveryId,
            event_id: a.eventId,
            event_type: a.eventType,
            attempt: a.attempt,
            http_status: a.httpStatus,
            error: a.error,
            latency_ms: a.latencyMs,
            outcome: a.outcome,
          })),
        );
        // One statement for the round: each delivery moves on (retry: its next time; otherwise finished).
        const values = attempts.map(() => '(?::bigint, ?::int, ?::text, ?::timestamptz, ?::timestamptz)').join(', ');
        const bindings = attempts.flatMap((a) => [
          a.deliveryId,
          a.attempt,
          a.outcome === 'retry' ? 'pending' : a.outcome === 'gone' ? 'dropped' : a.outcome,
          a.nextAttemptAt ?? null,
          a.startedAt,
        ]);
        await trx.raw(
          `UPDATE webhook_deliveries d SET
             attempts = v.attempts,
             status = v.status,
             first_attempt_at = COALESCE(d.first_attempt_at, v.started_at),
             next_attempt_at = COALESCE(v.next_attempt_at, d.next_attempt_at),
             finished_at = CASE WHEN v.status = 'pending' THEN NULL ELSE clock_timestamp() END
           FROM (VALUES ${values}) AS v(id, attempts, status, next_attempt_at, started_at)
           WHERE d.id = v.id AND d.status = 'pending'`,
          bindings,
        );
      });
    },

    async disable(subscriptionId, reason) {
      await db.transaction(async (trx) => {
        await trx('webhook_subscriptions')
          .where({ id: subscriptionId })
          .update({ enabled: false, disabled_reason: reason, updated_at: trx.fn.now() });
        await trx('webhook_deliveries')
          .where({ subscription_id: subscriptionId, status: 'pending' })
          .update({ status: 'dropped', finished_at: trx.raw('clock_timestamp()') });
      });
    },

    async log(subscriptionId, { limit, beforeId }) {
      const q = db('webhook_delivery_attempts').where({ subscription_id: subscriptionId }).orderBy('id', 'desc').limit(limit);
      if (beforeId) q.where('id', '<', beforeId);
      const rows = await q.select('id', 'event_id', 'event_type', 'attempt', 'http_status', 'error', 'latency_ms', 'outcome', 'at');
      return rows.map((r) => ({
        id: String(r.id),
        eventId: r.event_id,
        eventType: r.event_type,
        attempt: r.attempt,
        httpStatus: r.http_status,
        error: r.error,
        latencyMs: r.latency_ms,
        outcome: r.outcome,
        at: r.at,
      }));
    },

    async withPendingDeliveries() {
      const rows = await db('webhook_subscriptions as s')
        .where('s.enabled', true)
        .whereExists((q) => q.select(db.raw('1')).from('webhook_deliveries as d').whereRaw('d.subscription_id = s.id').where('d.status', 'pending'))
        .select('s.id');
      return rows.map((r) => r.id as string);
    },

    listen(listener) {
      return listenToChannel(db, 'outbound_events', { onNotification: (id) => listener.onNewEvents(id), onLost: () => listener.onLost() });
    },
  };
}
