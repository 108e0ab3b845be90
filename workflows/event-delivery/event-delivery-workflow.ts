import { allHandlersFinished, condition, continueAsNew, setHandler } from '@temporalio/workflow';
import { eventDelivery } from '../activity-profiles';
import { type EventDeliveryInput, newEventsSignal } from './contract';

/**
 * Without a signal, pending events are still looked for this often: a wake-up lost with
 * the process that would have sent it delays delivery by a minute, never forever.
 */
const LOOK_AGAIN_AFTER_MS = 60_000;
const ROUNDS_PER_RUN = 200;

/**
 * Delivers one subscription's events (SPEC §9). The events and their deliveries are rows
 * in PostgreSQL, written with the facts; each round posts every delivery that heads its
 * conversation's line and is due, then this workflow sleeps until the next retry is due or
 * new events are signalled. A slow or dead subscriber holds up only its own workflow.
 * The subscription deleted or disabled (a 410): the workflow ends; saving it starts another.
 */
export async function eventDeliveryWorkflow(input: EventDeliveryInput): Promise<void> {
  let newEvents = false;
  setHandler(newEventsSignal, () => {
    newEvents = true;
  });
  for (let round = 0; round < ROUNDS_PER_RUN; round++) {
    // Cleared before the round: events signalled while it runs make the next round start at once.
    newEvents = false;
    const result = await eventDelivery.deliverDueEvents({ subscriptionId: input.subscriptionId });
    if (result.state === 'stopped') return;
    const waitMs = Math.min(result.nextDueInMs ?? LOOK_AGAIN_AFTER_MS, LOOK_AGAIN_AFTER_MS);
    if (waitMs > 0) await condition(() => newEvents, waitMs);
  }
  await condition(allHandlersFinished);
  await continueAsNew<typeof eventDeliveryWorkflow>(input);
}
