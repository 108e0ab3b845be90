import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cacheRoot, printProgress, type ProgressReporter, withHeartbeat } from './cache';
import { commandExists, runCommand } from './run-command';

/** The Temporal server of the production topology (`npm run start:cluster`, docker-compose.yml). */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';

export interface TemporalServerInstallation {
  /** `temporal-server` (go.temporal.io/server/cmd/server). */
  server: string;
  /** `temporal-sql-tool` (go.temporal.io/server/cmd/tools/sql): creates and upgrades the schemas. */
  sqlTool: string;
  /** The server's SQL schema directory (schema/postgresql/v12/{temporal,visibility}/versioned). */
  schemaDir: string;
}

/**
 * The real Temporal server and its SQL tool, built once with `go install` from the Go module
 * proxy into ~/.cache/inbox-autopilot/temporal-server-<version> (the CLI's Go cache is shared,
 * so the build takes a few minutes on 2 cores), with the PostgreSQL schema files copied
 * from the module. TEMPORAL_SERVER_DIR points at a directory laid out the same way.
 */
export async function ensureTemporalServer(report: ProgressReporter = printProgress): Promise<TemporalServerInstallation> {
  const dir = process.env.TEMPORAL_SERVER_DIR ?? path.join(cacheRoot(), `temporal-server-${TEMPORAL_SERVER_VERSION}`);
  const installation = {
    server: path.join(dir, 'server'),
    sqlTool: path.join(dir, 'sql'),
    schemaDir: path.join(dir, 'schema', 'postgresql', 'v12'),
  };
  if (existsSync(installation.server) && existsSync(installation.sqlTool) && existsSync(installation.schemaDir)) return installation;
  if (process.env.TEMPORAL_SERVER_DIR) throw new Error(`TEMPORAL_SERVER_DIR=${dir} lacks server, sql or schema/postgresql/v12`);
  if (!(await commandExists('go'))) throw new Error('the Temporal server is built with Go (go install): install Go 1.24+');

  report(`Building the Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool from the Go module proxy into ${dir}.`);
  report('This happens once per machine and takes a few minutes.');
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const env = { ...process.env, GOBIN: staging, GOFLAGS: `${process.env.GOFLAGS ?? ''} -trimpath`.trim() };
  await withHeartbeat(report, 'go install temporal server + sql tool', () =>
    runCommand(
      'go',
      ['install', `go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}`, `go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`],
      { env },
    ),
  );
  const modCache = execFileSync('go', ['env', 'GOMODCACHE'], { env, encoding: 'utf8' }).trim();
  cpSync(
    path.join(modCache, `go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`, 'schema', 'postgresql'),
    path.join(staging, 'schema', 'postgresql'),
    {
      recursive: true,
    },
  );
  // Rename is atomic: a concurrent or interrupted build never leaves a half-written installation.
  if (!existsSync(installation.server)) {
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  }
  rmSync(staging, { recursive: true, force: true });
  return installation;
}
