/**
 * Memory, against the stack of BENCH_TOPOLOGY (bench/support/stack.ts): MEMORY_OPEN open
 * conversations (default 10,000; each waits an hour for its unassigned reply). Prints the
 * RSS of each node process of the stack (worker and API: with EMBEDDED_WORKER=process the
 * embedded worker is a process of its own) idle and with the conversations open, and per
 * conversation, measured after the last conversation opened and the workers settled.
 *   npm run bench -- memory
 */
import { installQuietRuntime } from '../test/support/environment';
import { configureNumbers, fmt, postConcurrently, printTable, refusals, rssMiB, runBench, waitUntil } from './support/bench-kit';
import { startStack, type Topology, wantedTopologies } from './support/stack';

const OPEN = Number(process.env.MEMORY_OPEN ?? 10_000);
const C = Number(process.env.MEMORY_CONCURRENCY ?? 32);

async function memory(topology: Topology): Promise<void> {
  const s = await startStack(topology);
  try {
    await configureNumbers((rows) => s.db('automation_settings').insert(rows), 3600);
    const processes = s.processes();
    const before = new Map(processes.map((p) => [p.pid, rssMiB(p.pid)]));
    const run = String(Date.now() % 10000).padStart(4, '0');
    const posted = await postConcurrently(s.apiUrls, run, { count: OPEN, concurrency: C });
    const open = async () => Number((await s.db('conversations').whereNotIn('status', ['closed', 'routing']).count({ n: '*' }))[0].n);
    await waitUntil(async () => (await open()) >= OPEN, 900_000, 1000);
    await new Promise((r) => setTimeout(r, 10_000));
    const rows: [string, string, string][] = [];
    for (const p of processes) {
      const after = rssMiB(p.pid);
      const worker = /worker|all/.test(p.role);
      rows.push(
        [`${p.role} pid ${p.pid}: RSS idle (MiB)`, fmt(before.get(p.pid)!), ''],
        [`${p.role} pid ${p.pid}: RSS with conversations open (MiB)`, fmt(after), worker ? '≤ 1,024' : ''],
        [`${p.role} pid ${p.pid}: per open conversation`, `${fmt(((after - before.get(p.pid)!) * 1024) / OPEN, 1)} KiB`, ''],
      );
    }
    printTable(`memory [${topology}]: ${await open()} open conversations`, [
      ...rows,
      ['webhooks acked (s)', fmt(posted.seconds), ''],
      ['webhook deliveries refused (each redelivered)', refusals(posted.posted), '0'],
    ]);
  } finally {
    await s.stop();
  }
}

runBench(async () => {
  installQuietRuntime();
  for (const topology of wantedTopologies()) await memory(topology);
});
