/**
 * One run of this workflow is one conversation (SPEC §2). This file only wires Temporal
 * to the Conversation class beside it: signals and updates are queued into its inbox,
 * and the main loop waits for work or the next deadline of the rules, then lets the
 * class apply what came in. The rules themselves are the pure machine in ../rules/.
 */
import type { UpdateDefinition } from '@temporalio/common';
import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ConversationRequest } from '../rules/conversation-machine';
import {
  type Addressed,
  type ConversationActionResult,
  type ConversationWorkflowInput,
  agentOfflineSignal,
  agentReplyUpdate,
  assignUpdate,
  assignedFromQueueSignal,
  botCompleteUpdate,
  botHandoverUpdate,
  botReplyUpdate,
  claimUpdate,
  closeUpdate,
  conversationStateQuery,
  customerMessageSignal,
  settingsChangedSignal,
} from './contract';
import { Conversation } from './conversation';

/** Well below Temporal's 51,200-event limit, leaving room for a burst after the check. */
const HISTORY_EVENTS_BEFORE_CONTINUE_AS_NEW = 5_000;

export async function conversationWorkflow(input: ConversationWorkflowInput): Promise<void> {
  const conversation = new Conversation(input, workflowInfo().workflowId);

  setHandler(conversationStateQuery, () => conversation.state);
  setHandler(customerMessageSignal, (message) => conversation.receive({ kind: 'customer_message', message }));
  setHandler(assignedFromQueueSignal, ({ agentId, conversationId }) =>
    conversation.receive({ kind: 'event', event: { type: 'assigned', agentId }, conversationId }),
  );
  setHandler(settingsChangedSignal, ({ settings }) => conversation.receive({ kind: 'event', event: { type: 'settings_changed', settings } }));
  setHandler(agentOfflineSignal, ({ agentId, conversationId }) =>
    conversation.receive({ kind: 'event', event: { type: 'agent_offline', agentId }, conversationId }),
  );

  // Each action is validated (refused before it reaches history when it cannot succeed),
  // then queued; the main loop judges it again when its turn comes.
  const handleRequest = <Args extends Addressed>(
    update: UpdateDefinition<ConversationActionResult, [Args]>,
    toRequest: (args: Args) => ConversationRequest,
  ) =>
    setHandler(update, (args) => conversation.request(args.conversationId, toRequest(args)), {
      validator: (args) => conversation.validate(args.conversationId, toRequest(args)),
    });
  handleRequest(claimUpdate, ({ agentId }) => ({ type: 'claim', agentId }));
  handleRequest(assignUpdate, ({ agentId }) => ({ type: 'assign', agentId }));
  handleRequest(agentReplyUpdate, ({ agentId, message }) => ({ type: 'agent_reply', agentId, message }));
  handleRequest(closeUpdate, ({ agentId }) => ({ type: 'close', agentId: agentId ?? null }));
  handleRequest(botReplyUpdate, ({ message }) => ({ type: 'bot_reply', message }));
  handleRequest(botHandoverUpdate, () => ({ type: 'bot_handover' }));
  handleRequest(botCompleteUpdate, () => ({ type: 'bot_complete' }));

  if (conversation.isNew) await conversation.open();

  while (!conversation.isClosed) {
    await condition(() => conversation.hasWork, conversation.timeUntilNextDeadline(Date.now()));
    await conversation.processInbox();
    if (!conversation.isClosed) await conversation.tick();
    if (!conversation.isClosed && historyIsLong(input.continueAsNewAfterEvents ?? HISTORY_EVENTS_BEFORE_CONTINUE_AS_NEW)) {
      while (!allHandlersFinished()) {
        await condition(() => conversation.hasWork || allHandlersFinished());
        await conversation.processInbox();
      }
      if (!conversation.hasWork) await continueAsNew<typeof conversationWorkflow>(conversation.continuation());
    }
  }

  // Closed. Customer messages that arrived as it closed start the contact's next conversation.
  const nextConversation = conversation.takeMessagesForNextConversation();
  while (!allHandlersFinished()) {
    await condition(() => conversation.hasWork || allHandlersFinished());
    nextConversation.push(...conversation.takeMessagesForNextConversation());
  }
  if (nextConversation.length > 0) {
    await continueAsNew<typeof conversationWorkflow>({
      phoneNumberId: input.phoneNumberId,
      contactId: input.contactId,
      carriedMessages: nextConversation,
    });
  }
}

function historyIsLong(limit: number): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength > limit;
}
