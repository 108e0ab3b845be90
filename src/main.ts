/**
 * `npm start` (every part; the worker as a child process, see EMBEDDED_WORKER), `npm run worker`, `npm run api`.
 * The role is the first argument; see README for the environment variables.
 */
import { ConfigError, loadEnv } from './config';
import { createLogger } from './logger';
import { EMBEDDED_CHILD_ENV, type Role, startService } from './service';
import { ensureWebAppBuilt, webBuildReason } from './web/build';

async function main(): Promise<void> {
  const role = (process.argv[2] ?? 'all') as Role;
  if (!['all', 'worker', 'api'].includes(role)) throw new Error(`unknown role "${role}": use all, worker or api`);
  // `npm start` runs its worker as a child process unless told otherwise (README, EMBEDDED_WORKER).
  const env = loadEnv({ EMBEDDED_WORKER: 'process', ...process.env });
  const log = createLogger(env.LOG_LEVEL, env.LOG_FORMAT);
  // `npm start` builds the web app when it is missing or older than web/ (an mtime check);
  // `npm run api` serves what was built (npm run build:web), as in production.
  // (Not in the fault tests and the chaos benchmark, which start it again and again.)
  if (role === 'all' && process.env.INBOX_AUTOPILOT_SKIP_WEB_BUILD !== '1') await ensureWebAppBuilt();
  const webReason = role === 'api' ? webBuildReason() : null;
  const started = Date.now();
  let fatal: Error | null = null;
  let shutdown: (signal: string, exitCode?: number) => void = () => undefined;
  const service = await startService(env, role, log, {
    // An embedded child keeps failing: stop what still runs and exit non-zero (SPEC §7).
    onFatal: (error) => {
      fatal ??= error;
      process.stderr.write(`Inbox Autopilot is stopping: ${error.message}\n`);
      shutdown('supervision gave up', 1);
    },
  });
  if (fatal) throw fatal;

  const lines = [
    '',
    `Inbox Autopilot is running (${role}) — ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    service.httpPort ? `  HTTP API + webhooks  http://localhost:${service.httpPort}  (webhook: /webhooks/whatsapp, health: /healthz)` : null,
    service.httpPort
      ? `  Web app             http://localhost:${service.httpPort}/${webReason === 'not built yet' ? '  (not built: run npm run build:web)' : ''}`
      : null,
    `  Temporal            ${service.temporalAddress}  namespace ${env.TEMPORAL_NAMESPACE}, task queue ${env.TEMPORAL_TASK_QUEUE}`,
    service.temporalUiUrl ? `  Temporal Web UI     ${service.temporalUiUrl}/namespaces/${env.TEMPORAL_NAMESPACE}/workflows` : null,
    `  PostgreSQL          ${service.databaseUrl.replace(/\/\/([^:]+):[^@]*@/, '//$1:***@')}`,
    `  Data directory      ${env.DATA_DIR}`,
    service.httpPort
      ? `  API key             ${service.secrets.apiKeys[0]}${env.API_KEYS ? ' (from API_KEYS)' : ' (generated, kept in the data directory)'}`
      : null,
    service.httpPort ? `  Webhook verify token ${service.secrets.verifyToken}` : null,
    service.firstAdminCreated
      ? `  First admin         login admin, password ${service.secrets.adminPasswordGenerated ? `${service.secrets.adminPassword} (generated, kept in the data directory; shown once)` : 'from ADMIN_PASSWORD'}`
      : null,
    service.sandbox
      ? '  Mode                SANDBOX: no WHATSAPP_ACCESS_TOKEN, outbound messages are recorded, not sent'
      : `  Mode                live: sending through ${env.WHATSAPP_API_BASE_URL}`,
    '',
    service.httpPort ? `Try it:  npm run simulate -- "Hello"      Stop: Ctrl-C` : 'Stop: Ctrl-C',
    '',
  ].filter((l) => l !== null);
  // The embedded worker child of `npm start` prints no banner of its own (its parent's says it all).
  const embeddedChild = process.env[EMBEDDED_CHILD_ENV] === '1';
  if (!embeddedChild) process.stdout.write(lines.join('\n') + '\n');

  // The first signal stops in order (intake, live streams, relay, worker, connections,
  // children) and exits 0; a second one exits at once, 130 (SIGINT) or 143 (SIGTERM). `npm
  // start` forwards the terminal's Ctrl-C, which the process group also gets: the same
  // signal again within a second is that copy, not a second Ctrl-C.
  let stoppingSince = 0;
  let firstSignal = '';
  shutdown = (signal: string, exitCode = 0) => {
    if (stoppingSince) return;
    stoppingSince = Date.now();
    firstSignal = signal;
    log.info({ signal }, 'stopping');
    service
      .stop()
      .then(() => {
        if (exitCode === 0) log.info('stopped');
        process.exit(exitCode);
      })
      .catch((error) => {
        log.error({ err: error }, 'stop failed');
        process.exit(1);
      });
  };
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
    if (!stoppingSince) return shutdown(signal);
    if (signal === firstSignal && Date.now() - stoppingSince < 1_000) return;
    log.warn({ signal }, 'second signal: exiting now, without finishing the stop');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  if (embeddedChild) {
    // The parent holds our stdin open; its end means the parent is gone (even SIGKILLed).
    process.stdin.on('end', () => shutdown('parent exited'));
    process.stdin.resume();
  }
}

main().catch((error) => {
  if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
  else process.stderr.write(`Inbox Autopilot failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
