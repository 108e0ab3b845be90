/**
 * The embedded stack as `npm start` composes it (startService(env, 'all'): the dev server,
 * the worker and Express, on the PostgreSQL given in DATABASE_URL), without the web-app
 * build check of src/main.ts, in a process of its own: the benchmarks drive it from
 * outside, so their load generator and the fake Graph API never share its event loop.
 * Stops on SIGTERM (so `--cpu-prof` writes its profile).
 */
import { loadEnv } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startService } from '../../src/service';

async function main(): Promise<void> {
  const env = loadEnv({ EMBEDDED_WORKER: 'process', ...process.env }); // as src/main.ts
  const log = createLogger(env.LOG_LEVEL, env.LOG_FORMAT);
  const service = await startService(env, 'all', log);
  process.stdout.write(`READY ${service.httpPort}\n`);
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    service.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error) => {
  process.stderr.write(`the embedded stack failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
