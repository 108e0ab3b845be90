/**
 * Ingest: N signed webhooks from new customers (20 numbers) at C in flight on the embedded
 * stack (`npm start`'s parts: dev server, PostgreSQL, worker, Express) with a fake Graph API
 * on loopback. Each webhook opens a conversation whose unassigned reply is 60 s away, so
 * each arms one timer. Measures the acknowledgement, the time until each message is in its
 * workflow (messages.delivered_to_workflow_at), and beside it the raw signalWithStart rate
 * of the same Temporal server in the same run. Prints figures beside targets.
 *   npm run bench -- ingest          (INGEST_N=2000 INGEST_CONCURRENCY=32)
 */
import { installQuietRuntime } from '../test/support/environment';
import { startServiceUnderTest } from '../test/support/running-service';
import {
  configureNumbers,
  fmt,
  ms3,
  percentile,
  postConcurrently,
  printTable,
  rawSignalWithStartRate,
  runBench,
  waitUntil,
} from './support/bench-kit';

const N = Number(process.env.INGEST_N ?? 2000);
const C = Number(process.env.INGEST_CONCURRENCY ?? 32);

runBench(async () => {
  installQuietRuntime();
  const s = await startServiceUnderTest({ WHATSAPP_MESSAGES_PER_SECOND: '1000' });
  try {
    await configureNumbers((rows) => s.db('automation_settings').insert(rows), 60);
    const run = String(Date.now() % 10000).padStart(4, '0');
    // Warm-up: connections, the workflow cache, JIT.
    await postConcurrently(s.baseUrl, `${run}9`, { count: 50, concurrency: 8 });

    const { posted, seconds } = await postConcurrently(s.baseUrl, run, { count: N, concurrency: C });
    const failed = posted.filter((p) => p.status !== 200).length;
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

    const raw = await rawSignalWithStartRate(s.service.temporalAddress, s.env.TEMPORAL_NAMESPACE, Math.min(N, 1000), C);
    printTable(
      `ingest: ${N} new conversations, ${C} in flight`,
      [
        ['webhook ack p50 (ms)', fmt(percentile(acks, 50), 1), '≤ 25'],
        ['webhook ack p99 (ms)', fmt(percentile(acks, 99), 1), '≤ 250'],
        ['webhook ack max (ms)', fmt(Math.max(...acks), 1), ''],
        ['webhooks not answered 200', String(failed), '0'],
        ['ack throughput (/s)', fmt(N / seconds), ''],
        ['messages in their workflow', `${rows.length} / ${N}`, `${N}`],
        ['webhook → in workflow p50 / p99 / max (ms)', ms3(inWorkflow), ''],
        ['delivery into workflows (/s)', fmt(deliveryRate), `≥ ${fmt(0.8 * raw)} (0.8 × raw)`],
        ['raw signalWithStart, same server, same run (/s)', fmt(raw), ''],
        ['delivery / raw', fmt(deliveryRate / raw, 2), '≥ 0.80'],
      ],
      ['delivery rate: messages in their workflow / (last delivery − first webhook sent).'],
    );
  } finally {
    await s.stop();
  }
});
