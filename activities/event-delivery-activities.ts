import { postEvent } from '../src/outbound/post-event';
import { afterFailure, DEFAULT_RETRY_BASE_MS } from '../src/outbound/retry-policy';
import type { AttemptOutcome, AttemptRecord, DueDelivery } from '../src/store';
import type { ActivityDeps } from './deps';

/** Heads of line posted at once: one per conversation, so a batch never reorders a conversation. */
const BATCH = 128;
/** A round returns to its workflow after this long, so its history moves on and a stop is prompt. */
const ROUND_BUDGET_MS = 20_000;

export interface DeliveryRound {
  /** `stopped`: the subscription is gone or disabled; its workflow ends. */
  state: 'active' | 'stopped';
  /** When the next retry is due (0: at once), or null when nothing is pending. */
  nextDueInMs: number | null;
}

export function createEventDeliveryActivities({ store, log, eventDelivery }: ActivityDeps) {
  const retryBaseMs = eventDelivery?.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;

  async function attempt(target: { url: string; secret: string }, delivery: DueDelivery): Promise<AttemptRecord> {
    const startedAt = new Date();
    const result = await postEvent(target.url, target.secret, delivery.event);
    const number = delivery.attempts + 1;
    const ok = result.httpStatus !== null && result.httpStatus >= 200 && result.httpStatus < 300;
    let outcome: AttemptOutcome = ok ? 'delivered' : result.httpStatus === 410 ? 'gone' : 'retry';
    let nextAttemptAt: Date | undefined;
    if (outcome === 'retry') {
      const next = afterFailure({ attempts: number, firstAttemptAt: delivery.firstAttemptAt ?? startedAt, now: new Date(), baseMs: retryBaseMs });
      if (next.kind === 'retry') nextAttemptAt = next.at;
      else outcome = 'failed';
    }
    if (outcome === 'failed') log.warn({ eventId: delivery.event.id, attempts: number }, 'event delivery failed for 24 hours: given up');
    return {
      deliveryId: delivery.deliveryId,
      eventId: delivery.event.id,
      eventType: delivery.event.type,
      attempt: number,
      httpStatus: result.httpStatus,
      error: result.error,
      latencyMs: result.latencyMs,
      startedAt,
      outcome,
      nextAttemptAt,
    };
  }

  return {
    /**
     * Posts every delivery of the subscription that heads its line and is due, round after
     * round, until none is due; records each attempt. Idempotent enough to retry: a
     * delivery is handed out until its attempt is recorded, so a lost attempt is made
     * again (delivery is at least once; the event id lets the receiver drop repeats).
     */
    async deliverDueEvents(input: { subscriptionId: string }): Promise<DeliveryRound> {
      const { subscriptionId } = input;
      const started = Date.now();
      for (;;) {
        const target = await store.webhooks.target(subscriptionId);
        if (!target?.enabled) return { state: 'stopped', nextDueInMs: null };
        const { due, nextDueAt } = await store.webhooks.due(subscriptionId, BATCH);
        if (due.length === 0) return { state: 'active', nextDueInMs: nextDueAt ? Math.max(0, nextDueAt.getTime() - Date.now()) : null };
        const attempts = await Promise.all(due.map((d) => attempt(target, d)));
        await store.webhooks.recordAttempts(subscriptionId, attempts);
        if (attempts.some((a) => a.outcome === 'gone')) {
          await store.webhooks.disable(subscriptionId, 'the subscriber answered 410 Gone');
          log.warn({ subscriptionId }, 'event subscription disabled: the subscriber answered 410 Gone');
          return { state: 'stopped', nextDueInMs: null };
        }
        if (Date.now() - started > ROUND_BUDGET_MS) return { state: 'active', nextDueInMs: 0 };
      }
    },
  };
}
