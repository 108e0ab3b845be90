import knexFactory, { type Knex } from 'knex';
import { migrations, type NamedMigration } from './migrations';

export type Database = Knex;

/**
 * How long a caller waits for PostgreSQL before failing, so a webhook answers 503 (and
 * Meta redelivers) in seconds instead of hanging on knex's 60 s default while the server
 * is gone. A stopped server refuses at once; these bound a server that accepts no
 * connection (frozen, or a black-holed network) and a pool that stays full.
 */
export interface DatabaseTimeouts {
  /** Opening one connection (node-postgres `connectionTimeoutMillis`). */
  connectMs: number;
  /** Waiting for a connection from the pool, including opening it (knex `acquireConnectionTimeout`). */
  acquireMs: number;
}

export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = { connectMs: 5_000, acquireMs: 10_000 };

export function createDatabase(url: string, poolMax = 10, timeouts: DatabaseTimeouts = DEFAULT_DATABASE_TIMEOUTS): Database {
  return knexFactory({
    client: 'pg',
    // keepAlive: a connection whose server vanished without a FIN is noticed by the OS.
    connection: { connectionString: url, connectionTimeoutMillis: timeouts.connectMs, keepAlive: true },
    acquireConnectionTimeout: timeouts.acquireMs,
    pool: { min: 0, max: poolMax },
    // Migrations are listed in code rather than discovered on disk, so they work the
    // same under tsx, compiled output and bundlers.
    migrations: {
      migrationSource: {
        getMigrations: async () => migrations,
        getMigrationName: (m: NamedMigration) => m.name,
        getMigration: async (m: NamedMigration) => m,
      },
    },
  });
}

/**
 * Key of the advisory lock every migrator holds (in a transaction) around `migrate.latest`: knex's own
 * lock table cannot serialise the first two migrators of a fresh database, which race
 * creating that very table (a duplicate-key error stopped one of them). Any 64-bit number
 * unique to this service would do; this one is the ASCII of "inbox-au".
 */
export const MIGRATION_LOCK_KEY = '7597117852317737333';

/**
 * Brings the schema up to date: `npm run migrate` (src/migrate.ts), and `npm start` at each
 * start. Idempotent, and safe when several run at once: the others wait for the advisory
 * lock, then find nothing to do. Returns the names of the migrations it applied. Takes two
 * connections of the pool (the lock's and the migrations').
 */
export async function migrateToLatest(db: Database): Promise<string[]> {
  return db.transaction(async (lock) => {
    // Held by this transaction's connection until it ends, even if the process dies.
    await lock.raw('select pg_advisory_xact_lock(?::bigint)', [MIGRATION_LOCK_KEY]);
    const [, applied] = (await db.migrate.latest()) as [number, string[]];
    return applied;
  });
}

/** Migrations this code has that the database has not run yet, in order (no side effect on the database). */
export async function pendingMigrations(db: Database): Promise<string[]> {
  const table = await db.raw<{ rows: { exists: boolean }[] }>("select to_regclass('knex_migrations') is not null as exists");
  const done = table.rows[0]?.exists ? new Set((await db('knex_migrations').select('name')).map((r: { name: string }) => r.name)) : new Set<string>();
  return migrations.map((m) => m.name).filter((name) => !done.has(name));
}

export class SchemaBehindError extends Error {
  constructor(readonly pending: string[]) {
    super(
      `The database schema is behind this version of Inbox Autopilot: ${pending.length} migration(s) not applied: ${pending.join(', ')}. ` +
        'Run `npm run migrate` (in the image: `node dist/src/migrate.js`) against this DATABASE_URL, then start the workers and the API again ' +
        '(README, "Upgrading a running installation"). Roles worker and api never migrate by themselves.',
    );
    this.name = 'SchemaBehindError';
    // An operator's error, not a bug: the message is the whole story (src/main.ts prints the stack).
    this.stack = `${this.name}: ${this.message}`;
  }
}

/**
 * Roles `worker` and `api` start only on a schema that has every migration they know
 * (a database ahead of them is fine: the previous version keeps running while the next
 * one's migrations are applied, README "Upgrading a running installation").
 */
export async function assertSchemaCurrent(db: Database): Promise<void> {
  const pending = await pendingMigrations(db);
  if (pending.length > 0) throw new SchemaBehindError(pending);
}

export async function isDatabaseReachable(db: Database): Promise<boolean> {
  try {
    await db.raw('select 1');
    return true;
  } catch {
    return false;
  }
}
