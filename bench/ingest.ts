/**
 * Ingest: N signed webhooks from new customers (20 numbers) at C in flight, against the
 * stack of BENCH_TOPOLOGY (bench/support/stack.ts: `npm start`'s embedded stack, or
 * `npm run start:cluster`'s production topology) with a fake Graph API on loopback. Each
 * webhook opens a conversation whose unassigned reply is 60 s away, so each arms one timer.
 * Measures the acknowledgement, the time until each message is in its workflow
 * (messages.delivered_to_workflow_at), and beside it the raw signalWithStart rate of the
 * same Temporal server in the same run; and which process used the CPU meanwhile.
 *   npm run bench -- ingest          (INGEST_N=2000 INGEST_CONCURRENCY=32 BENCH_TOPOLOGY=embedded|cluster|both)
 */
import { installQuietRuntime } from '../test/support/environment';
import {
  configureNumbers,
  fmt,
  ms3,
  percentile,
  postConcurrently,
  printTable,
  refusals,
  rawSignalWithStartRate,
  runBench,
  serverSideAck,
  since,
  waitUntil,
} from './support/bench-kit';
import { cpuRows, sampleCpu, startStack, type Topology, wantedTopologies } from './support/stack';

const N = Number(process.env.INGEST_N ?? 2000);
const C = Number(process.env.INGEST_CONCURRENCY ?? 32);

/** The API's own view: arrival to answer, without the client and the network. */
function serverRows(server: Awaited<ReturnType<typeof serverSideAck>>): [string, string, string][] {
  const pct = (n: number) => `${fmt((100 * n) / server.count, 1)} %`;
  return [
    ['server-side: answered within 25 ms / 250 ms', `${pct(server.within25)} / ${pct(server.within250)}`, '≥ 50 % / ≥ 99 %'],
    ['server-side: API event-loop lag p99 (ms)', fmt(server.loopLagP99Ms, 1), ''],
  ];
}

async function ingest(topology: Topology): Promise<void> {
  const s = await startStack(topology);
  try {
    await configureNumbers((rows) => s.db('automation_settings').insert(rows), 60);
    const run = String(Date.now() % 10000).padStart(4, '0');
    // Warm-up: connections, the workflow cache, JIT.
    await postConcurrently(s.apiUrls, `${run}9`, { count: 50, concurrency: 8 });
    await waitUntil(async () => Number((await s.db('conversations').count({ n: '*' }))[0].n) >= 50, 60_000, 250);

    // A scrape before the window: its counts are subtracted, and it resets the event-loop lag histogram.
    const serverBefore = await serverSideAck(s.apiUrls);
    const cpu = sampleCpu();
    const { posted, seconds } = await postConcurrently(s.apiUrls, run, { count: N, concurrency: C });
    const cpuWhilePosting = cpu.stop();
    const server = since(serverBefore, await serverSideAck(s.apiUrls));
    const acks = posted.map((p) => p.ackedAt - p.sentAt);
    const sentAt = new Map(posted.map((p) => [p.wamid, p.sentAt]));
    const deliveredRows = async () =>
      (await s
        .db('messages')
        .whereIn('wamid', [...sentAt.keys()])
        .whereNotNull('delivered_to_workflow_at')
        .select('wamid', 'delivered_to_workflow_at')) as {
        wamid: string;
        delivered_to_workflow_at: Date;
      }[];
    let rows: Awaited<ReturnType<typeof deliveredRows>> = [];
    await waitUntil(async () => (rows = await deliveredRows()).length >= N, 300_000, 500);
    const firstSent = Math.min(...posted.map((p) => p.sentAt));
    const inWorkflow = rows.map((r) => r.delivered_to_workflow_at.getTime() - sentAt.get(r.wamid)!);
    const lastDelivered = Math.max(...rows.map((r) => r.delivered_to_workflow_at.getTime()));
    const deliveryRate = rows.length / ((lastDelivered - firstSent) / 1000);
    // Every conversation opened and routed before the raw rate is measured.
    await waitUntil(async () => Number((await s.db('conversations').whereNot('status', 'routing').count({ n: '*' }))[0].n) >= N + 50, 300_000, 500);

    const raw = await rawSignalWithStartRate(s.temporalAddress, s.namespace, Math.min(N, 1000), C);
    printTable(
      `ingest [${topology}]: ${N} new conversations, ${C} in flight`,
      [
        ['webhook ack p50 (ms)', fmt(percentile(acks, 50), 1), '≤ 25'],
        ['webhook ack p99 (ms)', fmt(percentile(acks, 99), 1), '≤ 250'],
        ['webhook ack max (ms)', fmt(Math.max(...acks), 1), ''],
        ['webhook deliveries refused (each redelivered)', refusals(posted), '0'],
        ['ack throughput (/s)', fmt(N / seconds), ''],
        ...serverRows(server),
        ['messages in their workflow', `${rows.length} / ${N}`, `${N}`],
        ['webhook → in workflow p50 / p99 / max (ms)', ms3(inWorkflow), ''],
        ['delivery into workflows (/s)', fmt(deliveryRate), `≥ ${fmt(0.8 * raw)} (0.8 × raw)`],
        ['raw signalWithStart, same server, same run (/s)', fmt(raw), ''],
        ['delivery / raw', fmt(deliveryRate / raw, 2), '≥ 0.80'],
        ...cpuRows(cpuWhilePosting),
      ],
      [
        'delivery rate: messages in their workflow / (last delivery − first webhook sent).',
        'CPU: cores used by each part of the machine while the webhooks were posted (from /proc; "other" is not ours).',
      ],
    );
  } finally {
    await s.stop();
  }
}

runBench(async () => {
  installQuietRuntime();
  for (const topology of wantedTopologies()) await ingest(topology);
});
