/**
 * The real Temporal server (v1.29.1, every service in one process) on PostgreSQL with
 * advanced visibility on SQL, as the production topology runs it (`npm run start:cluster`,
 * docker-compose.yml). Schemas are created and upgraded with Temporal's SQL tool at every
 * start (idempotent); the namespace is registered if missing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import type { Logger } from '../logger';
import { freePort, freeSmallPort } from '../ports';
import { ensureTemporalServer } from '../provisioning/temporal-server';
import { runCommand } from '../provisioning/run-command';
import { waitForHealthyFrontend } from './dev-server';

export interface TemporalServerOptions {
  dataDir: string;
  postgres: { host: string; port: number; user: string; password: string };
  /** Frontend gRPC port. */
  port: number;
  namespace: string;
  log: Logger;
}

export interface RunningTemporalServer {
  address: string;
  stop(): Promise<void>;
}

const DATABASES = { history: 'temporal', visibility: 'temporal_visibility' } as const;

/** Connections each of the server's pools may hold (`maxConns`): the history store's and visibility's. */
const SQL_POOLS = { default: 20, visibility: 5 };
const SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;

/**
 * The most PostgreSQL connections this server opens: each of its four services, though in
 * one process, keeps pools of its own for both stores (measured: 45 to the history
 * database with the cluster idle, more than one pool's 20).
 */
export const TEMPORAL_SERVER_MAX_CONNECTIONS = SERVICES.length * (SQL_POOLS.default + SQL_POOLS.visibility);

export async function startTemporalServer(options: TemporalServerOptions): Promise<RunningTemporalServer> {
  const installation = await ensureTemporalServer((m) => options.log.info(m));
  const { host, port, user, password } = options.postgres;
  const sql = (database: string, ...args: string[]) =>
    runCommand(installation.sqlTool, [
      '--plugin',
      'postgres12',
      '--ep',
      host,
      '-p',
      String(port),
      '-u',
      user,
      '--pw',
      password,
      '--db',
      database,
      ...args,
    ]);
  for (const [kind, database] of [
    ['temporal', DATABASES.history],
    ['visibility', DATABASES.visibility],
  ] as const) {
    await sql(database, 'create-database').catch(() => undefined); // exists already
    await sql(database, 'setup-schema', '-v', '0.0').catch(() => undefined); // versioned already
    await sql(database, 'update-schema', '-d', path.join(installation.schemaDir, kind, 'versioned'));
  }

  const root = path.join(options.dataDir, 'temporal-server');
  mkdirSync(path.join(root, 'config', 'dynamicconfig'), { recursive: true });
  // Membership ports are stored as smallint: below 32768.
  const ports = { frontendMembership: await freeSmallPort(), frontendHttp: await freePort() } as Record<string, number>;
  for (const service of SERVICES.filter((s) => s !== 'frontend')) {
    ports[`${service}Grpc`] = await freePort();
    ports[`${service}Membership`] = await freeSmallPort();
  }
  const datastore = (database: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName: database,
      connectAddr: `${host}:${port}`,
      connectProtocol: 'tcp',
      user,
      password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (grpcPort: number, membershipPort: number, httpPort?: number) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...(httpPort ? { httpPort } : {}) },
  });
  const config = {
    log: { stdout: true, level: 'error' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: 4,
      datastores: {
        'postgres-default': datastore(DATABASES.history, SQL_POOLS.default),
        'postgres-visibility': datastore(DATABASES.visibility, SQL_POOLS.visibility),
      },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: {
      frontend: rpc(options.port, ports.frontendMembership, ports.frontendHttp),
      history: rpc(ports.historyGrpc, ports.historyMembership),
      matching: rpc(ports.matchingGrpc, ports.matchingMembership),
      worker: rpc(ports.workerGrpc, ports.workerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${options.port}` } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: path.join(root, 'config', 'dynamicconfig', 'cluster.yaml'), pollInterval: '10s' },
  };
  // JSON is YAML: no YAML writer needed.
  writeFileSync(path.join(root, 'config', 'cluster.yaml'), JSON.stringify(config, null, 2));
  writeFileSync(
    path.join(root, 'config', 'dynamicconfig', 'cluster.yaml'),
    'system.forceSearchAttributesCacheRefreshOnRead:\n  - value: true\n    constraints: {}\n',
  );

  const child: ChildProcess = spawn(installation.server, ['--root', root, '--config', 'config', '--env', 'cluster', '--allow-no-auth', 'start'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => options.log.debug({ temporal: d.toString().trim() }, 'temporal server'));
  child.stderr?.on('data', (d: Buffer) => options.log.debug({ temporal: d.toString().trim() }, 'temporal server'));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const address = `127.0.0.1:${options.port}`;
  const healthy = await Promise.race([waitForHealthyFrontend(address, 120_000), exited.then(() => false)]);
  if (!healthy) {
    child.kill('SIGKILL');
    throw new Error(`the Temporal server did not become healthy on ${address} (exit code ${child.exitCode})`);
  }
  await registerNamespace(address, options.namespace);
  return {
    address,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timeout = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timeout);
    },
  };
}

/** A free loopback port in 20000–32767 (the kernel's own picks are above 32767 here). */
/** A fresh server has no namespace but `temporal-system`. */
async function registerNamespace(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService
      .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('3 days') })
      .catch((error: Error & { code?: number }) => {
        if (error.code !== 6) throw error; // ALREADY_EXISTS
      });
    // Namespaces reach every service's cache within seconds.
    for (let i = 0; i < 100; i++) {
      const ok = await connection.workflowService
        .describeNamespace({ namespace })
        .then(() => true)
        .catch(() => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await connection.close();
  }
}
