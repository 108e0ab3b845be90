/**
 * The service's Prometheus metrics (SPEC §7), served at GET /metrics: what the webhook,
 * the relay, the timers and the sends do, what PostgreSQL says about open conversations
 * and queues (read at scrape time), and the Temporal SDK's own worker metrics (the core
 * runtime's Prometheus exporter on loopback, appended to the same page).
 *
 * One registry per running service (tests start several in one process).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '../store';

export interface ServiceMetrics {
  registry: Registry;
  webhookAckSeconds: Histogram<'status'>;
  timerLatenessSeconds: Histogram<'rule'>;
  sends: Counter<'outcome' | 'automation'>;
  /** The page: our metrics, then the SDK's (when this process runs a worker). */
  render(): Promise<string>;
  contentType: string;
}

export function createMetrics(options: {
  store: Store;
  temporalMetricsUrl?: string | null;
  /** `npm start` with its worker in a child process: that worker's page, merged into this one. */
  workerMetricsUrl?: string | null;
}): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'inbox_autopilot_process_' });
  const { store } = options;

  const webhookAckSeconds = new Histogram({
    name: 'inbox_autopilot_webhook_ack_seconds',
    help: 'From a webhook request arriving to its answer (SPEC §5: 200 once durably stored).',
    labelNames: ['status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const timerLatenessSeconds = new Histogram({
    name: 'inbox_autopilot_timer_lateness_seconds',
    help: 'From a timer rule’s deadline (passed along by the workflow) to its message being handed to the Graph API.',
    labelNames: ['rule'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const sends = new Counter({
    name: 'inbox_autopilot_sends_total',
    help: 'Outbound messages by outcome (accepted, recorded, skipped, failed, duplicate, retried).',
    labelNames: ['outcome', 'automation'],
    registers: [registry],
  });
  new Gauge({
    name: 'inbox_autopilot_relay_backlog',
    help: 'Stored customer messages not yet handed to their workflows.',
    registers: [registry],
    async collect() {
      this.set((await store.inboundRelay.backlog()).pending);
    },
  });
  // Its own read: prom-client collects every metric at once, so a value set by another
  // metric's collect would be a scrape late.
  new Gauge({
    name: 'inbox_autopilot_relay_lag_seconds',
    help: 'Age of the oldest customer message waiting for the relay (0 when none waits).',
    registers: [registry],
    async collect() {
      const { oldestCreatedAt } = await store.inboundRelay.backlog();
      this.set(oldestCreatedAt ? Math.max(0, (Date.now() - oldestCreatedAt.getTime()) / 1000) : 0);
    },
  });
  new Gauge({
    name: 'inbox_autopilot_event_deliveries_pending',
    help: 'Outbound events (SPEC §9) not yet delivered to their subscriber nor given up, per subscription.',
    labelNames: ['subscription'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const p of await store.metrics.pendingEventDeliveries()) this.set({ subscription: p.subscriptionId }, p.pending);
    },
  });
  new Gauge({
    name: 'inbox_autopilot_event_delivery_lag_seconds',
    help: 'Age of the oldest outbound event waiting for its subscriber, per subscription (absent when none waits).',
    labelNames: ['subscription'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const p of await store.metrics.pendingEventDeliveries()) {
        this.set({ subscription: p.subscriptionId }, Math.max(0, (Date.now() - p.oldestOccurredAt.getTime()) / 1000));
      }
    },
  });
  // Each gauge reads at its own collect: prom-client collects them in turn, one scrape each.
  new Gauge({
    name: 'inbox_autopilot_open_conversations',
    help: 'Open conversations per number and status.',
    labelNames: ['phone_number_id', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of await store.metrics.openConversationCounts()) this.set({ phone_number_id: c.phoneNumberId, status: c.status }, c.count);
    },
  });
  new Gauge({
    name: 'inbox_autopilot_queue_length',
    help: 'Conversations waiting in the FIFO queue per number (R6).',
    labelNames: ['phone_number_id'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of await store.metrics.openConversationCounts())
        if (c.status === 'queued') this.set({ phone_number_id: c.phoneNumberId }, c.count);
    },
  });

  return {
    registry,
    webhookAckSeconds,
    timerLatenessSeconds,
    sends,
    contentType: registry.contentType,
    async render() {
      const ours = await registry.metrics();
      const url = options.temporalMetricsUrl ?? options.workerMetricsUrl;
      if (!url) return ours;
      let theirs: string;
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
        theirs = await response.text();
      } catch {
        return ours;
      }
      return options.temporalMetricsUrl ? `${ours}\n${theirs}` : mergePages(ours, theirs);
    },
  };
}

/**
 * Merges the worker process's page into the API's: one block per metric family. A family
 * both pages have keeps the samples of the page that observed it (the webhook and relay
 * figures here, timer lateness and sends there); where both have samples (process metrics,
 * the database gauges) this process's are kept, so no series appears twice.
 */
export function mergePages(ours: string, theirs: string): string {
  const blocks = (page: string) => {
    const families = new Map<string, { header: string[]; samples: string[] }>();
    let current: { header: string[]; samples: string[] } | null = null;
    for (const line of page.split('\n')) {
      if (line.trim() === '') continue;
      const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (meta) {
        current = families.get(meta[2]) ?? { header: [], samples: [] };
        families.set(meta[2], current);
        current.header.push(line);
      } else if (current) current.samples.push(line);
    }
    return families;
  };
  const mine = blocks(ours);
  const other = blocks(theirs);
  const out: string[] = [];
  for (const [name, family] of mine) {
    const fromOther = other.get(name);
    out.push(...family.header, ...(family.samples.length > 0 || !fromOther ? family.samples : fromOther.samples));
  }
  for (const [name, family] of other) if (!mine.has(name)) out.push(...family.header, ...family.samples);
  return `${out.join('\n')}\n`;
}
