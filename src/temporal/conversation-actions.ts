/**
 * The API's side of the conversation actions: one workflow update each, and the one place
 * where a refusal from the workflow becomes a `ConversationConflict` (HTTP 409).
 */
import { type Client, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition, WorkflowNotFoundError } from '@temporalio/common';
import { CONVERSATION_CONFLICT, type Addressed, type ConversationActionResult } from '../../workflows/conversation/contract';

/** The conversation refused the action in its current state (or has closed). */
export class ConversationConflict extends Error {
  override readonly name = 'ConversationConflict';
}

export async function requestConversationAction<Args extends Addressed>(
  temporal: Client,
  workflowId: string,
  update: UpdateDefinition<ConversationActionResult, [Args]>,
  args: Args,
): Promise<ConversationActionResult> {
  try {
    return await temporal.workflow.getHandle(workflowId).executeUpdate(update, { args: [args] });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && error.cause.type === CONVERSATION_CONFLICT) {
      throw new ConversationConflict(error.cause.message);
    }
    // The run ended between our read and the update: the server answers that the
    // execution has already completed (no run of the contact is open any more).
    if (error instanceof WorkflowNotFoundError || /already completed/i.test(String((error as Error).message))) {
      throw new ConversationConflict('the conversation is closed');
    }
    throw error;
  }
}
