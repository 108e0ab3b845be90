/** Figures the metrics page reads at scrape time (src/observability/metrics.ts). */
import type { Database } from '../db/knex';

export interface MetricsStore {
  /** Open conversations per number and status (queued ones are the queue, R6). */
  openConversationCounts(): Promise<{ phoneNumberId: string; status: string; count: number }[]>;
  /** Outbound event deliveries not yet delivered or given up, per subscription, and the oldest one's event time. */
  pendingEventDeliveries(): Promise<{ subscriptionId: string; pending: number; oldestOccurredAt: Date }[]>;
}

export function createMetricsStore(db: Database): MetricsStore {
  return {
    async openConversationCounts() {
      const rows = (await db('conversations')
        .whereNot('status', 'closed')
        .groupBy('phone_number_id', 'status')
        .select('phone_number_id', 'status', db.raw('count(*)::int AS n'))) as { phone_number_id: string; status: string; n: number }[];
      return rows.map((r) => ({ phoneNumberId: r.phone_number_id, status: r.status, count: r.n }));
    },

    async pendingEventDeliveries() {
      const rows = (await db('webhook_deliveries as d')
        .join('outbound_events as e', 'e.id', 'd.event_id')
        .where('d.status', 'pending')
        .groupBy('d.subscription_id')
        .select('d.subscription_id', db.raw('count(*)::int AS n'), db.raw('min(e.occurred_at) AS oldest'))) as {
        subscription_id: string;
        n: number;
        oldest: Date;
      }[];
      return rows.map((r) => ({ subscriptionId: r.subscription_id, pending: r.n, oldestOccurredAt: r.oldest }));
    },
  };
}
