import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cacheRoot, printProgress, type ProgressReporter, withHeartbeat } from './cache';
import { commandExists, runCommand } from './run-command';

/** The newest CLI tag that `go install` can build (later tags use replace directives). */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';

export type TemporalCliExecutable = { type: 'existing-path'; path: string } | { type: 'cached-download'; downloadDir: string };

/**
 * The Temporal CLI (dev server + Web UI). Order: TEMPORAL_CLI_PATH; a cached build;
 * a fresh build from the Go module proxy (works behind a firewall that allows it);
 * else the SDK's own download from temporal.download.
 */
export async function ensureTemporalCli(report: ProgressReporter = printProgress): Promise<TemporalCliExecutable> {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`TEMPORAL_CLI_PATH points to ${fromEnv}, which does not exist`);
    return { type: 'existing-path', path: fromEnv };
  }
  const dir = path.join(cacheRoot(), `temporal-cli-${TEMPORAL_CLI_VERSION}`);
  const binary = path.join(dir, 'temporal');
  if (existsSync(binary)) return { type: 'existing-path', path: binary };

  if (!(await commandExists('go'))) {
    report('Go is not installed: the Temporal SDK will download the CLI itself (needs internet access)');
    return { type: 'cached-download', downloadDir: path.join(cacheRoot(), 'sdk-downloads') };
  }
  report(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} from the Go module proxy into ${dir}.`);
  report('This happens once per machine and takes a few minutes (about 3 on 2 cores with a cold Go cache).');
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await withHeartbeat(report, 'go install temporal', () =>
    runCommand('go', ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`], {
      env: { ...process.env, GOBIN: staging, GOFLAGS: `${process.env.GOFLAGS ?? ''} -trimpath`.trim() },
    }),
  );
  // Rename is atomic: a concurrent or interrupted build never leaves a half-written binary.
  if (!existsSync(binary)) renameSync(staging, dir);
  rmSync(staging, { recursive: true, force: true });
  return { type: 'existing-path', path: binary };
}
