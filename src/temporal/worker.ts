import { existsSync } from 'node:fs';
import path from 'node:path';
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
  /** Sticky cache size (TEMPORAL_MAX_CACHED_WORKFLOWS); default 1000. */
  maxCachedWorkflows?: number;
  /** TEMPORAL_WORKFLOW_STACK_TRACES: the Web UI's Stack Trace tab; default on, as the SDK has it. */
  workflowStackTraces?: boolean;
}

/**
 * The SDK installs a promise hook in its workflow thread that records a source-mapped stack
 * for every promise workflow code creates (the Web UI's Stack Trace tab). Replaying the
 * recorded conversation histories costs about 1.6 times the CPU with it (34.9 against
 * 22.3 ms a history, `npm run bench -- replay`, README "Workflow stack traces"); a
 * conversation woken after it left the sticky cache is a replay. The SDK has no option for
 * it: patches/ (patch-package) makes its install skip the hook when this variable is `off`.
 * The workflow thread reads it from its copy of the environment, made when Worker.create
 * spawns the thread, so it is set just before.
 */
export const WORKFLOW_STACK_TRACES_VARIABLE = 'TEMPORAL_WORKFLOW_STACK_TRACES';

/**
 * The workflow bundle `npm run build` writes beside the compiled code (dist/workflow-bundle.js,
 * src/build/build.ts). Compiled code uses it, so a worker starts without bundling; from
 * source (tsx) there is none and the workflows are bundled at start, as in development.
 */
export const PREBUILT_WORKFLOW_BUNDLE = path.resolve(__dirname, '..', '..', 'workflow-bundle.js');

/** The workflow code a worker loads: given (tests), the prebuilt bundle (compiled), or the sources. */
export function workflowCodeOption(given?: WorkerOptions['workflowBundle']): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (given) return { workflowBundle: given };
  if (__filename.endsWith('.js') && existsSync(PREBUILT_WORKFLOW_BUNDLE)) return { workflowBundle: { codePath: PREBUILT_WORKFLOW_BUNDLE } };
  return { workflowsPath: require.resolve('../../workflows') };
}

export async function createWorker(settings: WorkerSettings): Promise<Worker> {
  const workflowCode = workflowCodeOption(settings.workflowBundle);
  if (workflowCode.workflowsPath) settings.deps.log.info({ workflowsPath: workflowCode.workflowsPath }, 'workflow code: bundling from source');
  else if (workflowCode.workflowBundle && 'codePath' in workflowCode.workflowBundle) {
    settings.deps.log.info({ workflowBundle: workflowCode.workflowBundle.codePath }, 'workflow code: prebuilt bundle');
  }
  process.env[WORKFLOW_STACK_TRACES_VARIABLE] = settings.workflowStackTraces === false ? 'off' : 'on';
  return Worker.create({
    connection: settings.connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    ...workflowCode,
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
    // Scale (bench/timers.ts, bench/memory.ts): one shared V8 context for every cached run,
    // and a bounded sticky cache. A conversation mostly sleeps; evicted, it is replayed from
    // its short history when its timer or next message wakes it, so 10,000 open
    // conversations cost history in Temporal, not memory here.
    reuseV8Context: true,
    maxCachedWorkflows: settings.maxCachedWorkflows ?? 1000,
  });
}
