import { DefaultLogger, type LogEntry, type LogLevel, Runtime } from '@temporalio/worker';
import type { Logger } from '../logger';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The application's own lines: `log` in workflow code and the activity context's logger. */
const APPLICATION_COMPONENTS = new Set(['workflow', 'activity']);

/**
 * Routes the Temporal SDK's logs into our logger, once per process. The SDK's own INFO
 * chatter (bundler output, worker state) is demoted to debug so a start stays readable;
 * what workflows and activities log keeps its level.
 */
/** The level a line of the SDK's logger is written at. */
export function levelFor(entry: Pick<LogEntry, 'level' | 'meta'>): 'trace' | 'debug' | 'info' | 'warn' | 'error' {
  const level = LEVELS[entry.level];
  return level === 'info' && !APPLICATION_COMPONENTS.has(String(entry.meta?.sdkComponent)) ? 'debug' : level;
}

/**
 * Also exports the SDK's worker metrics (task slots, poll latencies, sticky cache, …) in
 * Prometheus format on `metricsBindAddress` when given; returns their URL, or null when the
 * runtime was installed earlier without them.
 */
let installedMetricsUrl: string | null = null;

export function installTemporalRuntimeLogging(log: Logger, metricsBindAddress?: string): string | null {
  try {
    Runtime.install({
      // The service stops its workers itself, in order (src/service.ts); the SDK's own
      // signal handling would start draining them first and race that stop.
      shutdownSignals: [],
      // Core's own logs (e.g. capability warnings of older servers) are forwarded, warnings and up.
      telemetryOptions: {
        logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} },
        ...(metricsBindAddress ? { metrics: { prometheus: { bindAddress: metricsBindAddress } } } : {}),
      },
      logger: new DefaultLogger('INFO', (entry) => log[levelFor(entry)]({ temporal: entry.meta }, entry.message)),
    });
    installedMetricsUrl = metricsBindAddress ? `http://${metricsBindAddress}/metrics` : null;
  } catch {
    // Already installed by an earlier call (tests start several services in one process).
  }
  return installedMetricsUrl;
}
