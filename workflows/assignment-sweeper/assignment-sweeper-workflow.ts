import { continueAsNew, log, sleep } from '@temporalio/workflow';
import { database } from '../activity-profiles';
import { announceAssignments } from '../assignment-announcements';
const SWEEP_EVERY = '15 seconds';
/** A notification younger than this is probably still on its way from its sender. */
const STALE_AFTER_MS = 10_000;
const SWEEPS_PER_RUN = 200;

/**
 * R6's safety net, one per namespace (the worker starts it). Assignments are committed in
 * PostgreSQL and then signalled to their conversations; if the process in between dies,
 * the outbox row stays and is re-sent here, and capacity whose drain was lost is drained.
 * Signals are idempotent for the workflows, so a repeat does no harm.
 */
export async function assignmentSweeperWorkflow(): Promise<void> {
  for (let i = 0; i < SWEEPS_PER_RUN; i++) {
    await sleep(SWEEP_EVERY);
    const pending = await database.reconcileAssignments({ olderThanMs: STALE_AFTER_MS });
    if (pending.length === 0) continue;
    log.info('re-sending assignment notifications', { count: pending.length });
    await announceAssignments(pending);
  }
  await continueAsNew<typeof assignmentSweeperWorkflow>();
}
