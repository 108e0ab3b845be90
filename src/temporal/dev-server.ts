import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Logger } from '../logger';
import { ensureTemporalCli } from '../provisioning/temporal-cli';
import { waitForPort } from '../ports';
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
}): Promise<RunningDevServer> {
  mkdirSync(options.dataDir, { recursive: true });
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
  if (!existsSync(dbFilename) && !existsSync(onePartitionMarker)) writeFileSync(onePartitionMarker, 'created with one task queue partition\n');
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
    return { address, uiUrl, stop: () => env.teardown() };
  }

  const child: ChildProcess = spawn(
    executable.path,
    [
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
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => options.log.debug({ temporal: d.toString().trim() }, 'temporal dev server'));
  child.stderr?.on('data', (d: Buffer) => options.log.warn({ temporal: d.toString().trim() }, 'temporal dev server'));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const ready = await Promise.race([waitForPort(options.port, 60_000).then((up) => (up ? 'up' : 'timeout')), exited.then(() => 'exited')]);
  if (ready === 'exited') throw new Error(`the Temporal dev server exited during start (is port ${options.port} or ${options.uiPort} in use?)`);
  if (ready === 'timeout') throw new Error(`the Temporal dev server did not listen on port ${options.port} within 60 s`);
  // The port opens before the frontend serves: until then every call (a worker's first
  // one included) fails with "Frontend is not healthy yet".
  const healthy = await Promise.race([
    waitForHealthyFrontend(address, 60_000).then((ok) => (ok ? 'healthy' : 'timeout')),
    exited.then(() => 'exited'),
  ]);
  if (healthy === 'exited') throw new Error(`the Temporal dev server exited during start (is port ${options.port} or ${options.uiPort} in use?)`);
  if (healthy === 'timeout') {
    child.kill('SIGKILL');
    throw new Error(`the Temporal dev server on port ${options.port} did not become healthy within 60 s`);
  }
  return {
    address,
    uiUrl,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timeout = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timeout);
    },
  };
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
