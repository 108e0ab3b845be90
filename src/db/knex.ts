import knexFactory, { type Knex } from 'knex';
import { migrations, type NamedMigration } from './migrations';

export type Database = Knex;

export function createDatabase(url: string, poolMax = 10): Database {
  return knexFactory({
    client: 'pg',
    connection: url,
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
