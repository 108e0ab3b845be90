import { createConversationActivities } from './conversation-activities';
import type { ActivityDeps } from './deps';
import { createMessagingActivities } from './messaging-activities';

export type { ActivityDeps } from './deps';

/** Every activity the worker registers, built from injected clients. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createConversationActivities(deps),
    ...createMessagingActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
