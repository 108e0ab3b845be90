/**
 * One activity proxy per retry profile, shared by every workflow (workflows import only
 * activity types).
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

/**
 * Every activity heartbeats each second while it runs (the worker's HeartbeatWhileRunning
 * interceptor), so an attempt lost with its worker (killed, or handed a task by the server
 * as it shut down) is retried after this long, not after the start-to-close timeout:
 * a conversation's next automation is late by seconds, never by a minute.
 */
const LOST_ATTEMPT_DETECTED_AFTER = '5 seconds';

/**
 * PostgreSQL's retries, for every profile that only touches the database (scheduled or
 * local): an outage is transient, so without limit, from half a second up to a minute apart.
 */
const DATABASE_RETRY = { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;

/**
 * Database work. A PostgreSQL outage is transient, and giving up would drop a customer's
 * conversation, so these retry without limit. Transactions are short; 30 s leaves room
 * for lock waits under load (a queue drain over many conversations).
 */
export const database = proxyActivities<
  Pick<
    Activities,
    | 'loadAutomationSettings'
    | 'openConversation'
    | 'attachCustomerMessages'
    | 'routeConversation'
    | 'claimConversation'
    | 'transferConversation'
    | 'reassignConversation'
    | 'listAssignedConversations'
    | 'currentAssignment'
    | 'acknowledgeAssignments'
    | 'reconcileAssignments'
    | 'drainQueueForAgent'
    | 'listOpenConversations'
    | 'closeConversation'
    | 'recordSkippedMessage'
  >
>({
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: LOST_ATTEMPT_DETECTED_AFTER,
  retry: DATABASE_RETRY,
});

/**
 * The opening of a conversation (its settings, its row, its first message, its routing):
 * the same database work and retries as `database`, run as local activities by the worker
 * that runs the workflow. As scheduled activities they cost four activity tasks and five
 * workflow tasks, each a server round trip, and opening new conversations was the
 * bottleneck of a burst (bench/timers.ts); run locally, consecutive steps share one
 * workflow task. An attempt lost with its worker is run again with the workflow task
 * (each step is idempotent by the conversation's id).
 */
export const openingDatabase = proxyLocalActivities<
  Pick<Activities, 'loadAutomationSettings' | 'openConversation' | 'attachCustomerMessages' | 'routeConversation'>
>({
  startToCloseTimeout: '30 seconds',
  retry: DATABASE_RETRY,
});

/**
 * Sending through Meta. Rate limits and transient Graph errors are thrown and retried with
 * backoff (the pair rate limit sets its own 4^X s delay); final errors come back as a
 * `failed` result and are never retried. 60 s covers waiting for a pacing slot (6 s to
 * the same customer) plus the HTTP call's own 15 s timeout.
 */
export const whatsapp = proxyActivities<Pick<Activities, 'sendMessage'>>({
  startToCloseTimeout: '60 seconds',
  heartbeatTimeout: LOST_ATTEMPT_DETECTED_AFTER,
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/**
 * The automations' sends (the unassigned and queue replies, queue positions, out of
 * office, reminders, the survey): the `whatsapp` profile's send and retries, run as a
 * local activity by the worker that runs the workflow. A timer that fires then costs one
 * workflow task, not a workflow task, an activity task and a second workflow task, each a
 * round trip to the Temporal server and writes to its store, which is what a burst of
 * timers due together waits on (README "Benchmarks"). The cost: while a send waits (a
 * pacing slot, a slow Graph API) the workflow task stays open, heartbeated by the worker,
 * and a signal or update to the conversation waits for it. Agents' and bots' replies stay
 * scheduled (`whatsapp`): their update answers with the send's outcome. A retry's delay
 * (the pair rate limit's 4^X s) is waited out inside the worker; an attempt lost with its
 * worker runs again with the workflow task, and finds the row its first attempt recorded
 * (nothing is sent twice that Meta accepted).
 */
export const automatedWhatsapp = proxyLocalActivities<Pick<Activities, 'sendMessage'>>({
  startToCloseTimeout: '60 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/**
 * Bookkeeping that only people read (the timeline's timer entries): a local activity, run
 * by the worker that runs the workflow, so it costs one short database insert and no
 * server round trip on a conversation's hot path. Idempotent by key, so retried without
 * limit like the database profile; a lost attempt is simply run again with the workflow task.
 */
export const bookkeeping = proxyLocalActivities<Pick<Activities, 'recordTimerChanges'>>({
  startToCloseTimeout: '10 seconds',
  retry: DATABASE_RETRY,
});

/**
 * Outbound event delivery (SPEC §9). The activity records every attempt's outcome itself
 * and schedules its own retries in PostgreSQL (24 hours of backoff); what is retried here
 * is the activity failing as a whole (PostgreSQL unreachable, a lost worker), which is
 * transient, so without limit. A round posts with a 10 s timeout per event and returns
 * within about 30 s.
 */
export const eventDelivery = proxyActivities<Pick<Activities, 'deliverDueEvents'>>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: LOST_ATTEMPT_DETECTED_AFTER,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
