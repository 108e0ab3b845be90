/**
 * Memory: the worker and the API as separate processes (`npm run worker`, `npm run api`)
 * against PostgreSQL and the dev server, with MEMORY_OPEN open conversations (default
 * 10,000; each waits an hour for its unassigned reply). Prints the RSS of each process and
 * per conversation, measured after the last conversation opened and the worker settled.
 *   npm run bench -- memory
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from '../src/ports';
import { startDevServer } from '../src/temporal/dev-server';
import { createTestDatabase, installQuietRuntime, testLog } from '../test/support/environment';
import { FakeGraphApi } from '../test/support/fake-graph-api';
import { E2E_SECRET } from '../test/support/running-service';
import { configureNumbers, fmt, postConcurrently, printTable, rssMiB, runBench, waitUntil } from './support/bench-kit';

const OPEN = Number(process.env.MEMORY_OPEN ?? 10_000);
const C = Number(process.env.MEMORY_CONCURRENCY ?? 32);

runBench(async () => {
  installQuietRuntime();
  const graph = await new FakeGraphApi().start();
  const { db, url } = await createTestDatabase();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'inbox-autopilot-bench-memory-'));
  const dev = await startDevServer({ dataDir, port: await freePort(), uiPort: await freePort(), namespace: 'default', log: testLog });
  const apiPort = await freePort();
  const env = {
    ...process.env,
    DATABASE_URL: url,
    TEMPORAL_ADDRESS: dev.address,
    WHATSAPP_ACCESS_TOKEN: 'bench-token',
    WHATSAPP_API_BASE_URL: graph.url,
    WHATSAPP_APP_SECRET: E2E_SECRET,
    WHATSAPP_MESSAGES_PER_SECOND: '1000',
    WHATSAPP_CONTACT_INTERVAL_MS: '0',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    DATA_DIR: dataDir,
  };
  const main = path.join(__dirname, '..', 'src', 'main.ts');
  const children: ChildProcess[] = [];
  const start = (role: string, extra: Record<string, string> = {}) => {
    const child = spawn(process.execPath, ['--import', 'tsx', main, role], { env: { ...env, ...extra }, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(child);
    return child;
  };
  try {
    await configureNumbers((rows) => db('automation_settings').insert(rows), 3600);
    const worker = start('worker');
    const api = start('api', { PORT: String(apiPort) });
    if (!(await waitForPort(apiPort, 120_000))) throw new Error('the API did not listen');
    const before = { worker: rssMiB(worker.pid!), api: rssMiB(api.pid!) };
    const run = String(Date.now() % 10000).padStart(4, '0');
    const posted = await postConcurrently(`http://127.0.0.1:${apiPort}`, run, { count: OPEN, concurrency: C });
    const open = async () => Number((await db('conversations').whereNot('status', 'closed').count({ n: '*' }))[0].n);
    await waitUntil(async () => (await open()) >= OPEN, 900_000, 1000);
    await new Promise((r) => setTimeout(r, 10_000));
    const after = { worker: rssMiB(worker.pid!), api: rssMiB(api.pid!) };
    const perConversation = (mib: number, base: number) => `${fmt(((mib - base) * 1024) / OPEN, 1)} KiB`;
    printTable(`memory: ${await open()} open conversations (worker and API as separate processes)`, [
      ['worker RSS, idle (MiB)', fmt(before.worker), ''],
      ['worker RSS with conversations open (MiB)', fmt(after.worker), '≤ 1,024'],
      ['worker RSS per open conversation', perConversation(after.worker, before.worker), ''],
      ['API RSS, idle (MiB)', fmt(before.api), ''],
      ['API RSS after the webhooks (MiB)', fmt(after.api), ''],
      ['API RSS per conversation', perConversation(after.api, before.api), ''],
      ['webhooks acked (s)', fmt(posted.seconds), ''],
    ]);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    await dev.stop();
    await graph.stop();
    await db.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
