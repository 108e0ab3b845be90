import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';

/** How often a running activity tells the server it is alive (well inside ACTIVITY_HEARTBEAT_TIMEOUT). */
export const HEARTBEAT_INTERVAL_MS = 1_000;

/**
 * Heartbeats every activity while it runs, so the server notices a lost attempt after the
 * profiles' heartbeat timeout (seconds) instead of their start-to-close timeout (up to a
 * minute). An attempt is lost when its worker is killed, and also on a graceful shutdown:
 * a task the server hands to a poll the worker is cancelling is recorded as started but
 * never reaches the worker (servers before 1.32 cannot complete polls on shutdown).
 * Activities that finish within the first interval never heartbeat, so fast ones cost
 * nothing.
 */
export class HeartbeatWhileRunning implements ActivityInboundCallsInterceptor {
  constructor(private readonly context: Context) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    // Local activities run inside their workflow task and have no heartbeat timeout.
    if (this.context.info.isLocal) return next(input);
    const timer = setInterval(() => this.context.heartbeat(), HEARTBEAT_INTERVAL_MS);
    try {
      return await next(input);
    } finally {
      clearInterval(timer);
    }
  }
}
