/**
 * Wakes a subscription's delivery workflow when its events are committed (SPEC §9), so a
 * bot hears of a customer's message in milliseconds rather than at the workflow's next
 * look (a minute). Told by PostgreSQL (pg_notify of migration 0008's triggers, at commit)
 * on a listening connection of its own; at start, and after that connection is lost, it
 * wakes every subscription with pending deliveries, so nothing waits on a lost wake-up.
 *
 * One signal in flight per subscription: events committed meanwhile are covered by one
 * more signal after it, so a burst of events costs a few signals, not one per event.
 */
import type { Client } from '@temporalio/client';
import type { Logger } from '../logger';
import type { Store } from '../store';
import {
  EVENT_DELIVERY_WORKFLOW_TYPE,
  type EventDeliveryInput,
  eventDeliveryWorkflowId,
  newEventsSignal,
} from '../../workflows/event-delivery/contract';

export interface DeliveryWaker {
  /** Starts the subscription's workflow, or tells the running one that events are waiting. */
  wake(subscriptionId: string): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const RELISTEN_AFTER_MS = 1000;

export function createDeliveryWaker(deps: { store: Store; temporal: Client; taskQueue: string; log: Logger }): DeliveryWaker {
  const { store, temporal, taskQueue, log } = deps;
  const inFlight = new Set<string>();
  const again = new Set<string>();
  let listening: { stop(): Promise<void> } | null = null;
  let stopped = false;
  let relisten: NodeJS.Timeout | null = null;

  function signal(subscriptionId: string): void {
    inFlight.add(subscriptionId);
    temporal.workflow
      .signalWithStart(EVENT_DELIVERY_WORKFLOW_TYPE, {
        workflowId: eventDeliveryWorkflowId(subscriptionId),
        taskQueue,
        args: [{ subscriptionId } satisfies EventDeliveryInput],
        signal: newEventsSignal,
        signalArgs: [],
      })
      .catch((error: Error) => {
        // The workflow still looks for pending events every minute; the next wake-up may land.
        if (!stopped) log.warn({ err: error, subscriptionId }, 'could not wake the event delivery workflow');
      })
      .finally(() => {
        inFlight.delete(subscriptionId);
        if (again.delete(subscriptionId) && !stopped) signal(subscriptionId);
      });
  }

  function wake(subscriptionId: string): void {
    if (stopped) return;
    if (inFlight.has(subscriptionId)) again.add(subscriptionId);
    else signal(subscriptionId);
  }

  async function listen(): Promise<void> {
    if (stopped) return;
    try {
      listening = await store.webhooks.listen({
        onNewEvents: wake,
        onLost: () => {
          listening = null;
          if (!stopped) log.warn('event delivery listener lost its connection: listening again');
          scheduleRelisten();
        },
      });
      if (stopped) return void (await listening.stop());
      for (const id of await store.webhooks.withPendingDeliveries()) wake(id);
    } catch (error) {
      if (!stopped) log.warn({ err: error }, 'event delivery listener could not connect: trying again');
      scheduleRelisten();
    }
  }

  function scheduleRelisten(): void {
    if (stopped || relisten) return;
    relisten = setTimeout(() => {
      relisten = null;
      void listen();
    }, RELISTEN_AFTER_MS);
  }

  return {
    wake,
    start: listen,
    async stop() {
      stopped = true;
      if (relisten) clearTimeout(relisten);
      const l = listening;
      listening = null;
      await l?.stop();
    },
  };
}
