/**
 * `npm run provision`: makes sure the Temporal servers this project runs on are on this
 * machine (see README, "Provisioning"). Idempotent; safe to run any time.
 */
import { printProgress } from './cache';
import { ensureTemporalCli } from './temporal-cli';
import { ensureTestServer } from './test-server';
import { ensureTemporalServer } from './temporal-server';

async function main(): Promise<void> {
  const wanted = new Set(process.argv.slice(2));
  const all = wanted.size === 0;
  if (all || wanted.has('--test-server')) {
    const server = await ensureTestServer();
    printProgress(`time-skipping test server: ${server.type === 'existing-path' ? server.path : 'SDK download'}`);
  }
  if (all || wanted.has('--cli')) {
    const cli = await ensureTemporalCli();
    printProgress(`Temporal CLI: ${cli.type === 'existing-path' ? cli.path : 'SDK download'}`);
  }
  // The production topology's server (npm run start:cluster) only when asked: it needs Go.
  if (wanted.has('--server')) {
    const server = await ensureTemporalServer();
    printProgress(`Temporal server: ${server.server}`);
  }
}

main().catch((error) => {
  printProgress(`FAILED: ${(error as Error).message}`);
  process.exit(1);
});
