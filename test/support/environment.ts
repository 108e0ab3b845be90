/**
 * Real parts shared by the whole suite, started once on first use and stopped after the
 * last test: embedded PostgreSQL (a fresh database per caller), Temporal's time-skipping
 * test server, and the bundled workflow code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap, Runtime, DefaultLogger } from '@temporalio/worker';
import pino from 'pino';
import { createDatabase, type Database, migrateToLatest } from '../../src/db/knex';
import { ensureDatabase, startEmbeddedPostgres, type RunningPostgres } from '../../src/db/embedded-postgres';
import { ensureTestServer } from '../../src/provisioning/test-server';
import { freePort } from '../../src/ports';
import { ensureSearchAttributes } from '../../src/temporal/search-attributes';

export const testLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

let postgres: Promise<RunningPostgres> | null = null;
let postgresDir: string | null = null;
const timeSkippingEnvironments: TestWorkflowEnvironment[] = [];
let bundle: Promise<WorkflowBundleWithSourceMap> | null = null;
const openDatabases: Database[] = [];
let runtimeInstalled = false;

export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = process.env.TEST_LOG_LEVEL ? 'INFO' : 'ERROR';
  Runtime.install({ logger: new DefaultLogger(level), telemetryOptions: { logging: { filter: { core: level, other: level } } } });
}

async function sharedPostgres(): Promise<RunningPostgres> {
  if (process.env.DATABASE_URL) {
    return { url: process.env.DATABASE_URL, stop: async () => {} };
  }
  postgres ??= (async () => {
    postgresDir = mkdtempSync(path.join(tmpdir(), 'inbox-autopilot-test-pg-'));
    return startEmbeddedPostgres({ dataDir: postgresDir, port: await freePort(), database: 'postgres', log: testLog });
  })();
  return postgres;
}

/** A new, migrated database; isolated from every other test file. */
export async function createTestDatabase(): Promise<{ db: Database; url: string }> {
  const pg = await sharedPostgres();
  const name = `test_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const adminUrl = pg.url;
  await ensureDatabase(adminUrl, name);
  const url = adminUrl.replace(/\/[^/?]+(\?|$)/, `/${name}$1`);
  const db = createDatabase(url, 20);
  await migrateToLatest(db);
  openDatabases.push(db);
  return { db, url };
}

/**
 * A time-skipping server of one's own (about 0.5 s to start). Not shared between test
 * files: the server stops skipping time while any task is outstanding, so a workflow left
 * behind by one file (its worker gone) would turn every later `env.sleep` into real time.
 * Provisioning failures fail the suite loudly.
 */
export async function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  const executable = await ensureTestServer();
  const env = await startTimeSkippingServer(executable);
  timeSkippingEnvironments.push(env);
  // The test server knows only built-in search attributes; register ours like the dev server does.
  await ensureSearchAttributes(env.client, env.namespace ?? 'default', testLog);
  return env;
}

/**
 * The SDK gives the server 5 s to listen, a fixed limit. Its JVM takes 0.5 s idle, but
 * more than 5 s on a machine saturated by other work (measured 6.9 s at load 9 on 2 cores);
 * a later attempt finds the JVM's files in the page cache and starts faster.
 */
async function startTimeSkippingServer(executable: Awaited<ReturnType<typeof ensureTestServer>>): Promise<TestWorkflowEnvironment> {
  const ATTEMPTS = 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({ server: { executable } });
    } catch (error) {
      if (attempt >= ATTEMPTS || !/did not start within/.test(String(error))) throw error;
      testLog.warn({ attempt, err: error }, 'the time-skipping server was slow to start; trying again');
    }
  }
}

export async function stopTimeSkippingEnvironment(env: TestWorkflowEnvironment): Promise<void> {
  const index = timeSkippingEnvironments.indexOf(env);
  if (index < 0) return;
  timeSkippingEnvironments.splice(index, 1);
  await env.teardown();
}

export async function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  installQuietRuntime();
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: new DefaultLogger('WARN') });
  return bundle;
}

export async function stopSharedEnvironment(): Promise<void> {
  await Promise.all(openDatabases.splice(0).map((db) => db.destroy()));
  await Promise.all(timeSkippingEnvironments.splice(0).map((env) => env.teardown()));
  if (postgres) await (await postgres).stop();
  if (postgresDir) rmSync(postgresDir, { recursive: true, force: true });
}
