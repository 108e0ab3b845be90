/**
 * Sustained load, against the stack of BENCH_TOPOLOGY (bench/support/stack.ts):
 * SUSTAINED_RATE new conversations per second (default 100) for SUSTAINED_SECONDS
 * (default 60), open loop, auto-reply delay 0: the delay from each webhook to its
 * unassigned reply at the fake Graph API, and which process used the CPU meanwhile.
 *   npm run bench -- sustained
 */
import { installQuietRuntime } from '../test/support/environment';
import {
  configureNumbers,
  fmt,
  ms3,
  percentile,
  postAtRate,
  printTable,
  refusals,
  repliesByCustomer,
  runBench,
  serverSideAck,
  since,
  waitUntil,
} from './support/bench-kit';
import { cpuRows, sampleCpu, startStack, type Topology, wantedTopologies } from './support/stack';

const RATE = Number(process.env.SUSTAINED_RATE ?? 100);
const SECONDS = Number(process.env.SUSTAINED_SECONDS ?? 60);

async function sustained(topology: Topology): Promise<void> {
  const s = await startStack(topology);
  try {
    await configureNumbers((rows) => s.db('automation_settings').insert(rows), 0);
    const run = String(Date.now() % 10000).padStart(4, '0');
    const started = Date.now();
    // A scrape before the window: its counts are subtracted, and it resets the event-loop lag histogram.
    const serverBefore = await serverSideAck(s.apiUrls);
    const cpu = sampleCpu();
    const posted = await postAtRate(s.apiUrls, run, { perSecond: RATE, seconds: SECONDS });
    const cpuWhilePosting = cpu.stop();
    const server = since(serverBefore, await serverSideAck(s.apiUrls));
    const pct = (n: number) => `${fmt((100 * n) / server.count, 1)} %`;
    const postingSeconds = (Date.now() - started) / 1000;
    const replied = () => {
      const r = repliesByCustomer(s.graph);
      return posted.filter((p) => (r.get(p.customer)?.length ?? 0) > 0).length;
    };
    await waitUntil(() => replied() >= posted.length, 300_000, 250);
    const r = repliesByCustomer(s.graph);
    const delays = posted.filter((p) => r.has(p.customer)).map((p) => r.get(p.customer)![0] - p.sentAt);
    const acks = posted.map((p) => p.ackedAt - p.sentAt);
    printTable(
      `sustained [${topology}]: ${RATE} new conversations/s for ${SECONDS} s, auto-reply delay 0`,
      [
        ['webhooks posted / rate achieved (/s)', `${posted.length} / ${fmt(posted.length / postingSeconds)}`, `${RATE * SECONDS} / ${RATE}`],
        ['webhook deliveries refused (each redelivered)', refusals(posted), '0'],
        ['webhook ack p50 / p99 / max (ms)', ms3(acks), ''],
        ['server-side: answered within 25 ms / 250 ms', `${pct(server.within25)} / ${pct(server.within250)}`, ''],
        ['auto-replies received', `${delays.length} / ${posted.length}`, String(posted.length)],
        ['webhook → auto-reply p50 (ms)', fmt(percentile(delays, 50)), ''],
        ['webhook → auto-reply p99 (ms)', fmt(percentile(delays, 99)), '≤ 1,000'],
        ['webhook → auto-reply p50 / p99 / max (ms)', ms3(delays), ''],
        ...cpuRows(cpuWhilePosting),
      ],
      ['CPU: cores used by each part of the machine while the webhooks were posted.'],
    );
  } finally {
    await s.stop();
  }
}

runBench(async () => {
  installQuietRuntime();
  for (const topology of wantedTopologies()) await sustained(topology);
});
