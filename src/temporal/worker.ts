import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import { ActivityLogContext } from './activity-log-context';
import { HEARTBEAT_INTERVAL_MS, HeartbeatWhileRunning } from './heartbeat-while-running';

export interface WorkerSettings {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** Prebuilt workflow bundle (tests build it once); otherwise bundled from source. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export async function createWorker(settings: WorkerSettings): Promise<Worker> {
  return Worker.create({
    connection: settings.connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    ...(settings.workflowBundle ? { workflowBundle: settings.workflowBundle } : { workflowsPath: require.resolve('../../workflows') }),
    activities: createActivities(settings.deps),
    interceptors: {
      activity: [(context) => ({ inbound: new ActivityLogContext(context) }), (context) => ({ inbound: new HeartbeatWhileRunning(context) })],
    },
    // Heartbeats go out as often as they are made, not throttled to 80 % of the timeout.
    maxHeartbeatThrottleInterval: HEARTBEAT_INTERVAL_MS,
    defaultHeartbeatThrottleInterval: HEARTBEAT_INTERVAL_MS,
    // A graceful stop lets running activities finish (a send waiting for its pacing slot,
    // a routing transaction) instead of cancelling them, and never hangs past the force time.
    shutdownGraceTime: '10 seconds',
    shutdownForceTime: '20 seconds',
  });
}
