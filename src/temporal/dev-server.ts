import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Logger } from '../logger';
import { ensureTemporalCli } from '../provisioning/temporal-cli';
import { waitForPort } from '../ports';
import { guardChild, reapLeftover } from '../supervision/orphan-guard';
import { type ChildExit, restartPolicyFromEnv, supervise } from '../supervision/supervisor';
import { ALL_SEARCH_ATTRIBUTE_KEYS } from '../../workflows/search-attributes';

/** SQLite settings of the dev server's file (see startDevServer). */
export const DEV_SERVER_SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'];

/**
 * One partition per task queue. The server's default of 4 suits many workers; with one
 * worker (2 pollers on the normal queue) tasks written to a partition nobody polls wait to
 * be forwarded to one that is polled, at most 10 a second per partition
 * (matching.forwarderMaxRatePerSecond). Measured (bench/timers.ts, README "Scale"): with 4
 * partitions, new conversations' first workflow tasks waited 23 s on average before the
 * worker started them, while 25 of its 40 workflow task slots stood free.
 */
export const DEV_SERVER_DYNAMIC_CONFIG = ['matching.numTaskqueueReadPartitions=1', 'matching.numTaskqueueWritePartitions=1'];

export interface RunningDevServer {
  address: string;
  uiUrl: string;
  /** The pid of the dev server process now serving (null: managed by the SDK). */
  pid(): number | null;
  stop(): Promise<void>;
}

/**
 * The Temporal CLI dev server with its Web UI, persisted to DATA_DIR/temporal.sqlite so
 * conversations and their timers survive restarts. Our search attributes are registered
 * at every start (idempotent).
 */
export async function startDevServer(options: {
  dataDir: string;
  port: number;
  uiPort: number;
  namespace: string;
  log: Logger;
  /** Supervision gave up: the dev server keeps failing (src/supervision/supervisor.ts). */
  onGiveUp?: (error: Error) => void;
}): Promise<RunningDevServer> {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const executable = await ensureTemporalCli((m) => options.log.info(m));
  const address = `127.0.0.1:${options.port}`;
  const uiUrl = `http://localhost:${options.uiPort}`;
  const dbFilename = path.join(options.dataDir, 'temporal.sqlite');
  const searchAttributeArgs = ALL_SEARCH_ATTRIBUTE_KEYS.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]);
  // SQLite in WAL mode with synchronous=normal: a commit is one append to the log instead
  // of a journal round trip with two fsyncs, about 2.3× the start rate on this machine.
  // Every committed transaction survives a kill of the process (SIGKILL); only an OS crash
  // or power loss can lose the last few commits (README, "Benchmarks").
  const sqlitePragmaArgs = DEV_SERVER_SQLITE_PRAGMAS.flatMap((p) => ['--sqlite-pragma', p]);
  // Fewer partitions strand the tasks stored in the others, so a file created before this
  // setting keeps the default 4 (more partitions than were written to is safe); a marker
  // beside the file records that it was created with one.
  const onePartitionMarker = path.join(options.dataDir, 'temporal.sqlite.one-partition');
  if (!existsSync(dbFilename) && !existsSync(onePartitionMarker))
    writeFileSync(onePartitionMarker, 'created with one task queue partition\n', { mode: 0o600 });
  const dynamicConfigArgs = existsSync(onePartitionMarker) ? DEV_SERVER_DYNAMIC_CONFIG.flatMap((v) => ['--dynamic-config-value', v]) : [];

  if (executable.type === 'cached-download') {
    // No local build possible: let the SDK download and manage the CLI.
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable,
        ip: '127.0.0.1',
        port: options.port,
        ui: true,
        uiPort: options.uiPort,
        dbFilename,
        namespace: options.namespace,
        searchAttributes: ALL_SEARCH_ATTRIBUTE_KEYS,
        extraArgs: [...sqlitePragmaArgs, ...dynamicConfigArgs],
      },
    });
    return { address, uiUrl, pid: () => null, stop: () => env.teardown() };
  }

  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--db-filename',
    dbFilename,
    '--namespace',
    options.namespace,
    '--log-level',
    'error',
    ...sqlitePragmaArgs,
    ...dynamicConfigArgs,
    ...searchAttributeArgs,
  ];
  // A dev server left running by a service that was SIGKILLed (and its guard too) holds
  // the port and the file: stop it first.
  const pidFile = path.join(options.dataDir, DEV_SERVER_PID_FILE);
  const leftover = await reapLeftover(readPid(pidFile), dbFilename, 'SIGTERM');
  if (leftover) options.log.warn({ leftover }, 'stopped a Temporal dev server left running by an earlier start on this data directory');
  const spawnIt = () => spawnDevServer(executable.path, args, { ...options, address, pidFile, dbFilename });
  const supervision = supervise({
    name: 'the Temporal dev server',
    first: await spawnIt(),
    restart: spawnIt,
    log: options.log,
    policy: restartPolicyFromEnv(),
    onGiveUp: options.onGiveUp ?? (() => undefined),
  });
  return {
    address,
    uiUrl,
    pid: () => supervision.current().pid,
    async stop() {
      await supervision.stop();
      await supervision.current().stop();
    },
  };
}

/** The file, under DATA_DIR, holding the pid of the dev server that runs on it. */
export const DEV_SERVER_PID_FILE = 'temporal.pid';

function readPid(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return NaN;
  }
}

interface DevServerRun {
  pid: number;
  exited: Promise<ChildExit>;
  stop(): Promise<void>;
}

/** One dev server process, resolved once its frontend serves. */
async function spawnDevServer(
  executablePath: string,
  args: string[],
  options: { port: number; uiPort: number; address: string; pidFile: string; dbFilename: string; log: Logger },
): Promise<DevServerRun> {
  // Its SQLite file (and the -wal and -shm beside it) readable by the owner only; files
  // created by an older version are tightened here.
  restrictToOwner(options.dbFilename);
  const umask = process.umask(0o077);
  let child: ChildProcess;
  try {
    // A process group of its own: a Ctrl-C in the terminal reaches the service only, which
    // stops this server after the worker (src/main.ts); the guard stops it if we are killed.
    child = spawn(executablePath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  } finally {
    process.umask(umask);
  }
  const exited = new Promise<ChildExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.once('error', (error) => options.log.error({ err: error }, 'the Temporal dev server could not be started'));
  const guarded = child.pid ? guardChild(child.pid, 'SIGTERM') : null;
  void exited.then(() => guarded?.release());
  if (child.pid) writeFileSync(options.pidFile, `${child.pid}\n`, { mode: 0o600 });
  child.stdout?.on('data', (d: Buffer) => options.log.debug({ temporal: d.toString().trim() }, 'temporal dev server'));
  // Once asked to stop, what it says is its own shutdown: not a warning. Nor is what a
  // worker's clean stop makes it say: an operation whose caller went away (`context
  // canceled`: a poll cancelled as the worker stops, a client's deadline), or a task for the
  // stopped worker's sticky queue (`task queue shutting down`: it goes to the normal queue).
  let stopping = false;
  child.stderr?.on('data', (d: Buffer) => {
    for (const line of d
      .toString()
      .split('\n')
      .filter((l) => l.trim())) {
      // (The cause may come last: `error="GetTasks operation failed. … Error: context canceled"`.)
      const quiet = stopping || /error="?[^"]*(context canceled|task queue shutting down)/.test(line);
      options.log[quiet ? 'debug' : 'warn']({ temporal: line.trim() }, 'temporal dev server');
    }
  });

  const ready = await Promise.race([waitForPort(options.port, 60_000).then((up) => (up ? 'up' : 'timeout')), exited.then(() => 'exited')]);
  if (ready === 'exited') throw new Error(`the Temporal dev server exited during start (is port ${options.port} or ${options.uiPort} in use?)`);
  if (ready === 'timeout') {
    child.kill('SIGKILL');
    throw new Error(`the Temporal dev server did not listen on port ${options.port} within 60 s`);
  }
  // The port opens before the frontend serves: until then every call (a worker's first
  // one included) fails with "Frontend is not healthy yet".
  const healthy = await Promise.race([
    waitForHealthyFrontend(options.address, 60_000).then((ok) => (ok ? 'healthy' : 'timeout')),
    exited.then(() => 'exited'),
  ]);
  if (healthy === 'exited') throw new Error(`the Temporal dev server exited during start (is port ${options.port} or ${options.uiPort} in use?)`);
  if (healthy === 'timeout') {
    child.kill('SIGKILL');
    throw new Error(`the Temporal dev server on port ${options.port} did not become healthy within 60 s`);
  }
  restrictToOwner(options.dbFilename);
  return {
    pid: child.pid!,
    exited,
    async stop() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timeout = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timeout);
    },
  };
}

/** The SQLite file and its -wal and -shm companions: owner only. */
function restrictToOwner(dbFilename: string): void {
  for (const file of [dbFilename, `${dbFilename}-wal`, `${dbFilename}-shm`]) {
    try {
      if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    } catch {
      /* not there (yet) */
    }
  }
}

/** Polls the frontend's gRPC health check until it answers SERVING; false after `timeoutMs`. */
export async function waitForHealthyFrontend(address: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        const { status } = await connection.healthService.check({ service: 'temporal.api.workflowservice.v1.WorkflowService' });
        if (status === 1) return true; // SERVING
      } finally {
        await connection.close();
      }
    } catch {
      // Not serving yet.
    }
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}
