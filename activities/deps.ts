import type { Logger } from '../src/logger';
import type { Store } from '../src/store';
import type { GraphClient } from '../src/whatsapp/graph-client';
import type { SendPacer } from '../src/whatsapp/send-pacer';
import type { ServiceMetrics } from '../src/observability/metrics';

/** What activities are built from; injected so tests can hand in real but local parts. */
export interface ActivityDeps {
  /** The data-access layer: every table, and assignment as PostgreSQL transactions. */
  store: Store;
  /** null: sandbox mode, outbound messages are recorded instead of sent. */
  graph: GraphClient | null;
  /** Meta's throughput and pair-rate limits, shared by every worker replica. */
  pacer: SendPacer;
  log: Logger;
  /** Timer lateness and sends by outcome (GET /metrics); absent in tests that do not read them. */
  metrics?: Pick<ServiceMetrics, 'timerLatenessSeconds' | 'sends'>;
  /** Outbound event delivery (SPEC §9): the first retry's wait (EVENT_RETRY_BASE_MS, default 1 s). */
  eventDelivery?: { retryBaseMs: number };
}
