import { createConversationActivities } from './conversation-activities';
import type { ActivityDeps } from './deps';
import { createMessagingActivities } from './messaging-activities';
import { createEventDeliveryActivities } from './event-delivery-activities';

export type { ActivityDeps } from './deps';

/** Every activity the worker registers, built from injected clients. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createConversationActivities(deps),
    ...createMessagingActivities(deps),
    ...createEventDeliveryActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
