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
import { ensureTestServer, freePort } from '../../src/provisioning/test-server';
import { ensureSearchAttributes } from '../../src/temporal/search-attributes';

export const testLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

let postgres: Promise<RunningPostgres> | null = null;
let postgresDir: string | null = null;
let timeSkipping: Promise<TestWorkflowEnvironment> | null = null;
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

/** Temporal's time-skipping server; provisioning failures fail the suite loudly. */
export async function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  timeSkipping ??= (async () => {
    const executable = await ensureTestServer();
    const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable } });
    // The test server knows only built-in search attributes; register ours like the dev server does.
    await ensureSearchAttributes(env.client, env.namespace ?? 'default', testLog);
    return env;
  })();
  return timeSkipping;
}

export async function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  installQuietRuntime();
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: new DefaultLogger('WARN') });
  return bundle;
}

export async function stopSharedEnvironment(): Promise<void> {
  await Promise.all(openDatabases.splice(0).map((db) => db.destroy()));
  if (timeSkipping) await (await timeSkipping).teardown();
  if (postgres) await (await postgres).stop();
  if (postgresDir) rmSync(postgresDir, { recursive: true, force: true });
}
