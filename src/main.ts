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
  if (role === 'all') await ensureWebAppBuilt();
  const webReason = role === 'api' ? webBuildReason() : null;
  const started = Date.now();
  const service = await startService(env, role, log);

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

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    service
      .stop()
      .then(() => process.exit(0))
      .catch((error) => {
        log.error({ err: error }, 'stop failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
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
