/**
 * `npm run build`: what production runs, in dist/ (or `--out-dir <dir>`):
 *
 *   dist/src, dist/workflows, dist/activities   the TypeScript compiled by tsc (tsconfig.build.json)
 *   dist/web                                    the web app (vite build web), served by the API at /
 *   dist/workflow-bundle.js                     the workflow code bundled once (bundleWorkflowCode),
 *                                               loaded by compiled workers (src/temporal/worker.ts)
 *
 * Run from source (tsx) with the dev dependencies installed; what it writes runs with the
 * production dependencies only (`npm ci --omit=dev`, as in the Dockerfile's runtime stage).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

const ROOT = path.resolve(__dirname, '..', '..');
/** The workflow bundle's file name inside the output directory (src/temporal/worker.ts looks for it there). */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';

function run(what: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${what} failed (exit ${code})`))));
  });
}

async function step(name: string, fn: () => Promise<void>): Promise<void> {
  const started = Date.now();
  process.stdout.write(`build: ${name}…\n`);
  await fn();
  process.stdout.write(`build: ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

export async function build(outDir: string): Promise<void> {
  // What an earlier build left (a file since deleted from src/ would otherwise linger).
  for (const stale of ['src', 'workflows', 'activities', 'package.json', WORKFLOW_BUNDLE_FILE]) {
    rmSync(path.join(outDir, stale), { recursive: true, force: true });
  }
  mkdirSync(outDir, { recursive: true });
  await step('tsc -p tsconfig.build.json', () =>
    run('tsc', [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir]),
  );
  await step('vite build web', () =>
    run('vite build', [
      path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      'web',
      '--outDir',
      path.join(outDir, 'web'),
      '--emptyOutDir',
    ]),
  );
  await step('workflow bundle', async () => {
    // The same entry point as a worker bundling from source: every workflow of workflows/index.ts.
    // bundleWorkflowCode refuses workflow code that imports Node builtins.
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: new DefaultLogger('WARN') });
    writeFileSync(path.join(outDir, WORKFLOW_BUNDLE_FILE), code);
    process.stdout.write(
      `build: ${path.relative(process.cwd(), path.join(outDir, WORKFLOW_BUNDLE_FILE))} (${(code.length / 1024).toFixed(0)} KiB)\n`,
    );
  });
}

if (require.main === module) {
  const { values } = parseArgs({ options: { 'out-dir': { type: 'string' } } });
  const outDir = path.resolve(values['out-dir'] ?? path.join(ROOT, 'dist'));
  const started = Date.now();
  build(outDir).then(
    () => {
      process.stdout.write(`build: ${path.relative(process.cwd(), outDir) || '.'} ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      process.exit(0);
    },
    (error) => {
      process.stderr.write(`build failed: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
