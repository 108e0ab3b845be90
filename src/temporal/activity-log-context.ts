import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { withOwnLogContext } from '../logger';

/**
 * Every line an activity logs (through the service's logger, however deep) carries the
 * workflow it runs for and, when its input names one, the conversation: an operator can
 * go from a log line to the workflow in the Web UI and to the conversation in the API.
 */
export class ActivityLogContext implements ActivityInboundCallsInterceptor {
  constructor(private readonly context: Context) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const { info } = this.context;
    const first = input.args[0] as { conversationId?: unknown } | undefined;
    const conversationId = typeof first?.conversationId === 'string' ? first.conversationId : undefined;
    return withOwnLogContext(
      { workflowId: info.workflowExecution?.workflowId, activity: info.activityType, attempt: info.attempt, conversationId },
      () => next(input),
    );
  }
}
