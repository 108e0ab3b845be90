/** The event delivery workflow's public surface (SPEC §9): one per subscription. */
import { defineSignal } from '@temporalio/workflow';

export const EVENT_DELIVERY_WORKFLOW_TYPE = 'eventDeliveryWorkflow';

export function eventDeliveryWorkflowId(subscriptionId: string): string {
  return `event-delivery:${subscriptionId}`;
}

export interface EventDeliveryInput {
  subscriptionId: string;
}

/** New events are waiting (sent by src/outbound/delivery-waker.ts); carries nothing, so repeats are harmless. */
export const newEventsSignal = defineSignal('newEvents');
