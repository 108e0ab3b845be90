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

export async function migrateToLatest(db: Database): Promise<void> {
  await db.migrate.latest();
}

export async function isDatabaseReachable(db: Database): Promise<boolean> {
  try {
    await db.raw('select 1');
    return true;
  } catch {
    return false;
  }
}
