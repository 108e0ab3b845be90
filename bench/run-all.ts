/**
 * `npm run bench` (or `npm run bench -- all`) runs every benchmark; `npm run bench -- <name>` runs one.
 * Benchmarks print figures for humans; they never fail on a number.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ALL = ['test-server-start', 'send-pacing', 'webhook-latency', 'restart-soak', 'ingest', 'timers', 'sustained', 'memory'];
const args = process.argv.slice(2).filter((a) => a !== 'all');
const wanted = args.length ? args : ALL;
for (const name of wanted) {
  if (!ALL.includes(name)) throw new Error(`unknown benchmark ${name}; known: ${ALL.join(', ')}`);
  console.log(`\n== ${name}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, `${name}.ts`)], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
