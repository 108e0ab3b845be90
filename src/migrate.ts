/**
 * `npm run migrate` (compiled: `node dist/src/migrate.js`): brings the database schema up to
 * date, as its own deployment step before new workers and API processes start (README,
 * "Upgrading a running installation"). Roles worker and api never migrate; they refuse a
 * schema that is behind them. Idempotent, and safe when several run at once (an advisory
 * lock, src/db/knex.ts). Works against DATABASE_URL, or the embedded PostgreSQL of DATA_DIR
 * (running under `npm start` or not).
 */
import { ConfigError, loadEnv } from './config';
import { embeddedPostgresUrl, startEmbeddedPostgres } from './db/embedded-postgres';
import { createLogger } from './logger';
import { createDatabase, createStore, migrateToLatest, pendingMigrations } from './store';

async function main(): Promise<void> {
  const env = loadEnv();
  const log = createLogger(env.LOG_LEVEL === 'info' ? 'warn' : env.LOG_LEVEL, env.LOG_FORMAT);
  let url = env.DATABASE_URL;
  let stopPostgres: (() => Promise<void>) | null = null;
  if (!url) {
    const running = embeddedPostgresUrl(env.EMBEDDED_POSTGRES_PORT, 'inbox_autopilot');
    const probe = createDatabase(running, 1);
    const reachable = await createStore(probe).isReachable();
    await probe.destroy();
    if (reachable) url = running;
    else {
      const pg = await startEmbeddedPostgres({ dataDir: env.DATA_DIR, port: env.EMBEDDED_POSTGRES_PORT, database: 'inbox_autopilot', log });
      url = pg.url;
      stopPostgres = () => pg.stop();
    }
  }
  const db = createDatabase(url, 2);
  try {
    const started = Date.now();
    const applied = await migrateToLatest(db);
    const pending = await pendingMigrations(db);
    if (pending.length > 0) throw new Error(`still pending after migrating: ${pending.join(', ')}`);
    const took = `${Date.now() - started} ms`;
    process.stdout.write(
      applied.length > 0
        ? `applied ${applied.length} migration(s) in ${took}: ${applied.join(', ')}\n`
        : `the schema is up to date (nothing to apply; checked in ${took})\n`,
    );
  } finally {
    await db.destroy();
    await stopPostgres?.();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(error instanceof ConfigError ? `${error.message}\n` : `migration failed: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
