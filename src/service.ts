/**
 * Assembles the service from its parts. `npm start` runs every part with embedded
 * PostgreSQL and a Temporal dev server (the worker in a child process of its own unless
 * EMBEDDED_WORKER=inline); `npm run worker` and `npm run api` run
 * one role each against external PostgreSQL and Temporal, to scale out as replicas.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { type Env, type RuntimeSecrets, whatsAppSettings } from './config';
import { assertSchemaCurrent, createDatabase, createStore, type Database, migrateToLatest } from './store';
import { startEmbeddedPostgres } from './db/embedded-postgres';
import { createApp } from './http/app';
import { createEventHub } from './http/event-stream';
import { ensureFirstAdmin } from './accounts/accounts';
import { createWebhookIntake } from './inbound/webhook-intake';
import { createInboundRelay } from './inbound/inbound-relay';
import { createDeliveryWaker } from './outbound/delivery-waker';
import { createMetrics } from './observability/metrics';
import { freePort, waitForPort } from './ports';
import type { Logger } from './logger';
import { resolveSecrets } from './secrets';
import { connectClient, connectWorkerConnection, type TemporalTarget } from './temporal/client';
import { startDevServer } from './temporal/dev-server';
import { createWorker } from './temporal/worker';
import { installTemporalRuntimeLogging } from './temporal/runtime-logging';
import { ensureSearchAttributes } from './temporal/search-attributes';
import { createGraphClient } from './whatsapp/graph-client';
import { createSendPacer } from './whatsapp/send-pacer';
import { ASSIGNMENT_SWEEPER_WORKFLOW_ID, ASSIGNMENT_SWEEPER_WORKFLOW_TYPE } from '../workflows/assignment-sweeper/contract';

export type Role = 'all' | 'worker' | 'api';

export interface RunningService {
  httpPort: number | null;
  temporalAddress: string;
  temporalUiUrl: string | null;
  databaseUrl: string;
  secrets: RuntimeSecrets;
  /** The first admin was created by this start (SPEC §6.1): its password is printed once. */
  firstAdminCreated: boolean;
  sandbox: boolean;
  stop(): Promise<void>;
}

/** HTTP requests in flight at a stop get this long to finish before their connections are closed. */
export const HTTP_DRAIN_MS = 10_000;

export async function startService(
  env: Env,
  role: Role,
  log: Logger,
  /** `onFatal`: an embedded child keeps failing and supervision gave up (src/main.ts exits non-zero). */
  options: { onFatal?: (error: Error) => void } = {},
): Promise<RunningService> {
  const onGiveUp = (error: Error) => (options.onFatal ? options.onFatal(error) : log.error({ err: error }, 'supervision gave up'));
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of stops.reverse()) {
      try {
        await fn();
      } catch (error) {
        log.warn({ err: error }, 'error while stopping');
      }
    }
  };
  try {
    if (role !== 'all' && (!env.DATABASE_URL || !env.TEMPORAL_ADDRESS)) {
      throw new Error(`npm run ${role} runs against external infrastructure: set DATABASE_URL and TEMPORAL_ADDRESS (or use npm start)`);
    }
    const secrets = resolveSecrets(env);

    let databaseUrl = env.DATABASE_URL;
    if (!databaseUrl) {
      const pg = await startEmbeddedPostgres({ dataDir: env.DATA_DIR, port: env.EMBEDDED_POSTGRES_PORT, database: 'inbox_autopilot', log, onGiveUp });
      stops.push(() => pg.stop());
      databaseUrl = pg.url;
    }
    const db: Database = createDatabase(databaseUrl, env.DATABASE_POOL_MAX);
    stops.push(() => db.destroy());
    // `npm start` migrates; roles worker and api refuse a schema that is behind (npm run migrate).
    await (role === 'all' ? migrateToLatest(db) : assertSchemaCurrent(db));
    const store = createStore(db);
    const firstAdminCreated = await ensureFirstAdmin(store, secrets.adminPassword);

    let temporalAddress = env.TEMPORAL_ADDRESS;
    let temporalUiUrl: string | null = null;
    if (!temporalAddress) {
      const devServer = await startDevServer({
        dataDir: env.DATA_DIR,
        port: env.TEMPORAL_DEV_SERVER_PORT,
        uiPort: env.TEMPORAL_UI_PORT,
        namespace: env.TEMPORAL_NAMESPACE,
        log,
        onGiveUp,
      });
      stops.push(() => devServer.stop());
      temporalAddress = devServer.address;
      temporalUiUrl = devServer.uiUrl;
    }
    const target: TemporalTarget = { address: temporalAddress, namespace: env.TEMPORAL_NAMESPACE, apiKey: env.TEMPORAL_API_KEY };
    const whatsapp = whatsAppSettings(env);
    const sandbox = !whatsapp.accessToken;

    // `npm start` with EMBEDDED_WORKER=process: the worker in a child process of its own
    // (`npm run worker` against this PostgreSQL and dev server); this process is the API.
    let workerMetricsUrl: string | null = null;
    if (role === 'all' && env.EMBEDDED_WORKER === 'process') {
      const worker = await startWorkerProcess({ databaseUrl, temporalAddress, env, log });
      stops.push(() => worker.stop());
      workerMetricsUrl = worker.metricsUrl;
    }
    const runsWorker = role === 'worker' || (role === 'all' && env.EMBEDDED_WORKER === 'inline');

    // The SDK's worker metrics on a loopback port of their own, appended to GET /metrics.
    const temporalMetricsUrl = runsWorker ? installTemporalRuntimeLogging(log, `127.0.0.1:${await freePort()}`) : null;
    const metrics = createMetrics({ store, temporalMetricsUrl, workerMetricsUrl });

    if (runsWorker) {
      const connection: NativeConnection = await connectWorkerConnection(target);
      stops.push(() => connection.close());
      const worker: Worker = await createWorker({
        connection,
        namespace: env.TEMPORAL_NAMESPACE,
        taskQueue: env.TEMPORAL_TASK_QUEUE,
        maxCachedWorkflows: env.TEMPORAL_MAX_CACHED_WORKFLOWS,
        workflowStackTraces: env.TEMPORAL_WORKFLOW_STACK_TRACES !== 'off',
        deps: {
          store,
          graph: sandbox ? null : createGraphClient(whatsapp),
          pacer: createSendPacer(store.sendSlots, {
            messagesPerSecondPerNumber: whatsapp.messagesPerSecond,
            contactIntervalMs: whatsapp.contactIntervalMs,
          }),
          log,
          metrics,
          eventDelivery: { retryBaseMs: env.EVENT_RETRY_BASE_MS },
        },
      });
      const running = worker.run();
      // One sweeper per namespace: every worker asks for it, the first start wins.
      const client = await connectClient(target);
      await client.workflow
        .start(ASSIGNMENT_SWEEPER_WORKFLOW_TYPE, {
          taskQueue: env.TEMPORAL_TASK_QUEUE,
          workflowId: ASSIGNMENT_SWEEPER_WORKFLOW_ID,
          workflowIdConflictPolicy: 'USE_EXISTING',
        })
        .catch((error: Error) => log.warn({ err: error }, 'could not start the assignment sweeper'));
      await client.connection.close();
      // The worker stops before its connection closes (the reverse order of `stops`):
      // it finishes its running tasks, then releases the connection.
      stops.push(async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
      });
      running.catch((error) => log.error({ err: error }, 'worker stopped with an error'));
      if (role === 'worker') {
        // A worker has no HTTP API; its metrics (timer lateness, sends, the SDK's) get a port.
        const metricsServer = createServer((req, res) => {
          if (req.url !== '/metrics') return void res.writeHead(404).end();
          metrics.render().then(
            (page) => res.writeHead(200, { 'content-type': metrics.contentType }).end(page),
            () => res.writeHead(500).end(),
          );
        });
        await new Promise<void>((resolve, reject) => metricsServer.listen(env.METRICS_PORT, resolve).once('error', reject));
        stops.push(() => new Promise<void>((resolve) => metricsServer.close(() => resolve())));
      }
    }

    let httpPort: number | null = null;
    if (role !== 'worker') {
      const temporal: Client = await connectClient(target);
      stops.push(() => temporal.connection.close());
      if (env.TEMPORAL_ADDRESS) await ensureSearchAttributes(temporal, env.TEMPORAL_NAMESPACE, log);
      const events = createEventHub({ store, log });
      // (Stopped by the HTTP server's stop below, while it drains: its streams are requests in flight.)
      // Hands stored customer messages to their workflows; stops before the client closes.
      const relay = createInboundRelay({ store, temporal, taskQueue: env.TEMPORAL_TASK_QUEUE, log });
      relay.start();
      stops.push(() => relay.stop());
      // Wakes outbound event delivery (SPEC §9) when events commit; stops before the client closes.
      const deliveryWaker = createDeliveryWaker({ store, temporal, taskQueue: env.TEMPORAL_TASK_QUEUE, log });
      await deliveryWaker.start();
      stops.push(() => deliveryWaker.stop());
      const app = createApp({
        events,
        publicUrl: env.PUBLIC_URL,
        store,
        temporal,
        intake: createWebhookIntake({ store, relay, log }),
        metrics,
        log,
        taskQueue: env.TEMPORAL_TASK_QUEUE,
        graph: sandbox ? null : createGraphClient(whatsapp),
        sandbox,
        apiKeys: secrets.apiKeys,
        appSecret: secrets.appSecret,
        verifyToken: secrets.verifyToken,
        allowHttpWebhooks: env.ALLOW_HTTP_WEBHOOKS,
        deliveryWaker,
      });
      const server: Server = await new Promise((resolve, reject) => {
        const s = app.listen(env.PORT, () => resolve(s));
        s.once('error', reject);
      });
      // Intake stops first: no new connection, idle keep-alive ones closed, the live
      // streams ended, requests in flight answered (bounded), then whatever is left closed.
      stops.push(async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // A keep-alive connection whose request finishes would otherwise wait out its
        // keep-alive timeout (about 5 s) before the server counts as closed.
        server.closeIdleConnections();
        const idle = setInterval(() => server.closeIdleConnections(), 50);
        await events.stop();
        let timer: NodeJS.Timeout | undefined;
        const drained = await Promise.race([
          closed.then(() => true),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), HTTP_DRAIN_MS))),
        ]);
        clearTimeout(timer);
        clearInterval(idle);
        if (!drained) log.warn({ ms: HTTP_DRAIN_MS }, 'requests still in flight after the drain: closing their connections');
        server.closeAllConnections();
        await closed;
      });
      httpPort = env.PORT;
    }

    return { httpPort, temporalAddress, temporalUiUrl, databaseUrl, secrets, firstAdminCreated, sandbox, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Set in the environment of the embedded worker child (see src/main.ts). */
export const EMBEDDED_CHILD_ENV = 'INBOX_AUTOPILOT_EMBEDDED_CHILD';

/**
 * The embedded worker as a child process (`src/main.ts worker`): started once its metrics
 * port listens (it has connected and polls), restarted if it dies, stopped with SIGTERM (it
 * lets running activities finish) and SIGKILL after 30 s.
 */
async function startWorkerProcess(options: {
  databaseUrl: string;
  temporalAddress: string;
  env: Env;
  log: Logger;
}): Promise<{ metricsUrl: string; stop(): Promise<void> }> {
  const metricsPort = await freePort();
  // Compiled (dist/, `__filename` ends with .js): plain node on main.js; from source: tsx.
  const compiled = __filename.endsWith('.js');
  const main = path.join(__dirname, compiled ? 'main.js' : 'main.ts');
  let child: ChildProcess | null = null;
  let stopping = false;
  let exited: Promise<void> = Promise.resolve();
  const spawnWorker = () => {
    const c = spawn(process.execPath, [...(compiled ? [] : ['--import', 'tsx']), main, 'worker'], {
      // This process's validated configuration (it may not come from process.env: tests),
      // pointed at the PostgreSQL and dev server this process started.
      env: {
        ...process.env,
        ...Object.fromEntries(Object.entries(options.env).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]]))),
        DATABASE_URL: options.databaseUrl,
        TEMPORAL_ADDRESS: options.temporalAddress,
        METRICS_PORT: String(metricsPort),
        [EMBEDDED_CHILD_ENV]: '1',
      },
      // Its log lines join this process's output. Its stdin is a pipe from this process:
      // when this process dies, even by SIGKILL, the pipe closes and the worker stops too,
      // so no orphaned worker keeps polling beside the next `npm start`'s.
      stdio: ['pipe', 'inherit', 'inherit'],
      // A process group of its own: a Ctrl-C in the terminal reaches this process only,
      // which stops the worker in its turn (after intake, before the connections).
      detached: true,
    });
    child = c;
    exited = new Promise<void>((resolve) =>
      c.once('exit', (code, signal) => {
        resolve();
        if (stopping) return;
        options.log.error({ code, signal }, 'the worker process exited; starting it again in 1 s');
        setTimeout(() => !stopping && spawnWorker(), 1000);
      }),
    );
  };
  spawnWorker();
  const up = await Promise.race([waitForPort(metricsPort, 120_000), exited.then(() => false)]);
  if (!up) throw new Error('the worker process did not start');
  return {
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    async stop() {
      stopping = true;
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      c.kill('SIGTERM');
      const timeout = setTimeout(() => c.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timeout);
    },
  };
}
