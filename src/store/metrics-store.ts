/** Figures the metrics page reads at scrape time (src/observability/metrics.ts). */
import type { Database } from '../db/knex';

export interface MetricsStore {
  /** Open conversations per number and status (queued ones are the queue, R6). */
  openConversationCounts(): Promise<{ phoneNumberId: string; status: string; count: number }[]>;
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
  };
}
