/**
 * `npm run start:cluster`: the production topology of docker-compose.yml, run for real on
 * this machine: PostgreSQL (embedded), a real Temporal server v1.29.1 on it (schemas set up
 * with Temporal's SQL tool, advanced visibility on SQL), two worker processes and two API
 * processes (`npm run worker`, `npm run api`), after the migrations as a step of their own
 * (`npm run migrate`), as in docker-compose.yml. Ctrl-C stops them in reverse order.
 *
 *   PORT (3000): the first API; the second listens on PORT+1.
 *   TEMPORAL_PORT (7233), METRICS_PORT (9464; the second worker's is +1), DATA_DIR (.data/cluster).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { ConfigError, envSchema } from './config';
import { ensureDatabase, startEmbeddedPostgres } from './db/embedded-postgres';
import { createLogger, type Logger } from './logger';
import { waitForPort } from './ports';
import { startTemporalServer, TEMPORAL_SERVER_MAX_CONNECTIONS } from './temporal/temporal-server';

export interface ClusterOptions {
  dataDir: string;
  apiPorts: [number, number];
  metricsPorts: [number, number];
  temporalPort: number;
  postgresPort: number;
  /** Extra environment for the worker and API processes (WhatsApp settings, secrets). */
  env?: Record<string, string>;
  /** The processes' own output: shown (the command) or not (tests). */
  output?: 'inherit' | 'ignore';
  log: Logger;
}

export interface RunningCluster {
  apiUrls: string[];
  /** Each worker's GET /metrics. */
  metricsUrls: string[];
  temporalAddress: string;
  databaseUrl: string;
  processes: { role: string; pid: number }[];
  stop(): Promise<void>;
}

/** The embedded PostgreSQL's user (src/db/embedded-postgres.ts). */
const PG = { user: 'inbox', password: 'inbox' };
/** For `npm run migrate`, an operator's psql, a benchmark's or a test's own pool. */
const SPARE_CONNECTIONS = 20;

/**
 * Every pool of the topology full at once must still find room. With PostgreSQL's default
 * of 100, Temporal's pools and ours grew together under load until PostgreSQL answered
 * "sorry, too many clients already": 16 of 2,000 webhooks were not answered 200 in the
 * ingest benchmark, and 262 of 10,000 in the timers one.
 */
function clusterMaxConnections(env: Record<string, string | undefined>, pooledProcesses: number): number {
  // The processes' own schema: its default, and its refusal named as `npm run worker` would name it.
  const poolMax = envSchema.shape.DATABASE_POOL_MAX.safeParse(env.DATABASE_POOL_MAX);
  if (!poolMax.success) throw new ConfigError(poolMax.error.issues.map((i) => `DATABASE_POOL_MAX: ${i.message}`));
  return TEMPORAL_SERVER_MAX_CONNECTIONS + pooledProcesses * poolMax.data + SPARE_CONNECTIONS;
}

export async function startCluster(options: ClusterOptions): Promise<RunningCluster> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch((error) => options.log.warn({ err: error }, 'error while stopping'));
  };
  try {
    const pg = await startEmbeddedPostgres({
      dataDir: options.dataDir,
      port: options.postgresPort,
      database: 'inbox_autopilot',
      log: options.log,
      // Each worker (one per metrics port) and each API holds a pool.
      maxConnections: clusterMaxConnections({ ...process.env, ...options.env }, options.metricsPorts.length + options.apiPorts.length),
    });
    stops.push(() => pg.stop());
    const admin = pg.url.replace(/\/[^/?]+(\?|$)/, '/postgres$1');
    for (const db of ['temporal', 'temporal_visibility']) await ensureDatabase(admin, db);
    const temporal = await startTemporalServer({
      dataDir: options.dataDir,
      postgres: { host: '127.0.0.1', port: options.postgresPort, ...PG },
      port: options.temporalPort,
      namespace: 'default',
      log: options.log,
    });
    stops.push(() => temporal.stop());

    // Compiled (dist/src/cluster.js): plain node on the compiled scripts; from source: tsx.
    const compiled = __filename.endsWith('.js');
    const script = (name: string) => [...(compiled ? [] : ['--import', 'tsx']), path.join(__dirname, `${name}.${compiled ? 'js' : 'ts'}`)];
    const processEnv = { ...process.env, ...options.env, DATABASE_URL: pg.url, TEMPORAL_ADDRESS: temporal.address, DATA_DIR: options.dataDir };
    // The migrations first, once (`npm run migrate`): workers and APIs refuse a schema that is behind.
    const migrate = spawn(process.execPath, script('migrate'), { env: processEnv, stdio: ['ignore', options.output ?? 'inherit', 'inherit'] });
    const migrated = await new Promise<number | null>((resolve) => migrate.once('exit', (code) => resolve(code)));
    if (migrated !== 0) throw new Error(`npm run migrate exited with ${migrated}`);
    const children: { role: string; child: ChildProcess }[] = [];
    const run = (role: 'worker' | 'api', extra: Record<string, string>) => {
      const child = spawn(process.execPath, [...script('main'), role], {
        env: { ...processEnv, ...extra },
        stdio: ['ignore', options.output ?? 'inherit', 'inherit'],
      });
      children.push({ role, child });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      stops.push(async () => {
        if (child.exitCode === null) child.kill('SIGTERM');
        const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timeout);
      });
      return child;
    };
    // The first worker alone, the others once it listens (so they do not all bundle and
    // connect on the same two cores at once).
    const [firstMetricsPort, ...otherMetricsPorts] = options.metricsPorts;
    run('worker', { METRICS_PORT: String(firstMetricsPort) });
    if (!(await waitForPort(firstMetricsPort, 180_000))) throw new Error(`the first worker did not start (port ${firstMetricsPort})`);
    for (const metricsPort of otherMetricsPorts) run('worker', { METRICS_PORT: String(metricsPort) });
    for (const port of options.apiPorts) run('api', { PORT: String(port) });
    for (const port of [...options.apiPorts, ...options.metricsPorts]) {
      if (!(await waitForPort(port, 180_000))) throw new Error(`nothing listens on port ${port}: a worker or API process did not start`);
    }
    return {
      apiUrls: options.apiPorts.map((p) => `http://127.0.0.1:${p}`),
      metricsUrls: options.metricsPorts.map((p) => `http://127.0.0.1:${p}/metrics`),
      temporalAddress: temporal.address,
      databaseUrl: pg.url,
      processes: children.map(({ role, child }) => ({ role, pid: child.pid! })),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

if (require.main === module) {
  const log = createLogger((process.env.LOG_LEVEL as 'info') ?? 'info', 'auto');
  const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  const port = num('PORT', 3000);
  const metrics = num('METRICS_PORT', 9464);
  startCluster({
    dataDir: path.resolve(process.env.DATA_DIR ?? '.data/cluster'),
    apiPorts: [port, port + 1],
    metricsPorts: [metrics, metrics + 1],
    temporalPort: num('TEMPORAL_PORT', 7233),
    postgresPort: num('EMBEDDED_POSTGRES_PORT', 5489),
    log,
  }).then(
    (cluster) => {
      process.stdout.write(
        [
          '',
          'Inbox Autopilot cluster is running',
          `  Temporal server v1.29.1   ${cluster.temporalAddress} (PostgreSQL persistence and visibility)`,
          `  PostgreSQL                ${cluster.databaseUrl.replace(/\/\/([^:]+):[^@]*@/, '//$1:***@')}`,
          ...cluster.processes.map((p) => `  ${p.role.padEnd(24)}  pid ${p.pid}`),
          ...cluster.apiUrls.map((u) => `  API + webhooks            ${u}`),
          '',
        ].join('\n') + '\n',
      );
      let stopping = false;
      const shutdown = () => {
        if (stopping) return;
        stopping = true;
        void cluster.stop().then(() => process.exit(0));
      };
      process.on('SIGINT', shutdown);
      process.on('SIGTERM', shutdown);
    },
    (error) => {
      process.stderr.write(`the cluster failed to start: ${(error as Error).stack ?? error}\n`);
      process.exit(1);
    },
  );
}
