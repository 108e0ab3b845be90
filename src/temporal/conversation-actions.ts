/**
 * The API's side of the conversation actions: one workflow update each, and the one place
 * where a refusal from the workflow becomes a `ConversationConflict` (HTTP 409) and an
 * unreachable Temporal a `TemporalUnavailable` (HTTP 503).
 */
import { type Client, WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition, WorkflowNotFoundError } from '@temporalio/common';
import { CONVERSATION_CONFLICT, type Addressed, type ConversationActionResult } from '../../workflows/conversation/contract';
import { isTemporalUnavailable } from '../health/dependency-errors';

/** The conversation refused the action in its current state (or has closed). */
export class ConversationConflict extends Error {
  override readonly name = 'ConversationConflict';
}

/**
 * Temporal could not be reached, or did not take the action within its bound. `applied`
 * says what the caller may assume: `no` when the update was never sent (Temporal did not
 * answer the probe), `unknown` when it was sent but not confirmed (it may still take
 * effect once the workflow runs: look at the conversation before trying again).
 */
export class TemporalUnavailable extends Error {
  override readonly name = 'TemporalUnavailable';
  constructor(
    message: string,
    readonly applied: 'no' | 'unknown',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface ActionLimits {
  /** How long Temporal may take to answer a cheap call before the action is refused unsent. */
  probeMs: number;
  /** How long the workflow may take to accept the update (its worker picks it up). */
  acceptMs: number;
}

/**
 * Without bounds the SDK retries an unreachable server for about 20 s and then fails with
 * a 500. With them, an action answers 503 within ~2 s when Temporal is down. Acceptance
 * is quick when a worker runs (a validator, no activity); 10 s leaves room for a busy one.
 * Once accepted, the action waits for its result as long as it takes (a reply waits
 * behind the conversation's earlier sends).
 */
export const DEFAULT_ACTION_LIMITS: ActionLimits = { probeMs: 2_000, acceptMs: 10_000 };

/** `work`'s outcome, or a rejection once `ms` have passed (the work itself is not cancelled). */
async function within<T>(ms: number, work: Promise<T>, timedOut: () => Error = () => new Error(`no answer within ${ms} ms`)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timedOut()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function requestConversationAction<Args extends Addressed>(
  temporal: Client,
  workflowId: string,
  update: UpdateDefinition<ConversationActionResult, [Args]>,
  args: Args,
  limits: ActionLimits = DEFAULT_ACTION_LIMITS,
): Promise<ConversationActionResult> {
  try {
    // The deadline ends the gRPC call; the race also ends the SDK's retry back-off sleeping past it.
    await within(
      limits.probeMs,
      temporal.connection.withDeadline(Date.now() + limits.probeMs, () => temporal.workflowService.getSystemInfo({})),
    );
  } catch (error) {
    throw new TemporalUnavailable(
      `Temporal is unreachable (no answer within ${limits.probeMs} ms); the action was not applied, try again shortly`,
      'no',
      { cause: error },
    );
  }
  try {
    const handle = temporal.workflow.getHandle(workflowId);
    const started = await within(
      limits.acceptMs,
      temporal.connection.withDeadline(Date.now() + limits.acceptMs, () =>
        handle.startUpdate(update, { args: [args], waitForStage: WorkflowUpdateStage.ACCEPTED }),
      ),
      () => notConfirmed(limits),
    );
    return await started.result();
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && error.cause.type === CONVERSATION_CONFLICT) {
      throw new ConversationConflict(error.cause.message);
    }
    // The run ended between our read and the update: the server answers that the
    // execution has already completed (no run of the contact is open any more).
    if (error instanceof WorkflowNotFoundError || /already completed/i.test(String((error as Error).message))) {
      throw new ConversationConflict('the conversation is closed');
    }
    if (error instanceof TemporalUnavailable) throw error;
    if (isTemporalUnavailable(error)) throw notConfirmed(limits, error);
    throw error;
  }
}

function notConfirmed(limits: ActionLimits, cause?: unknown): TemporalUnavailable {
  return new TemporalUnavailable(
    `Temporal did not confirm the action within ${limits.acceptMs} ms; it may still take effect: check the conversation before trying again`,
    'unknown',
    { cause },
  );
}
