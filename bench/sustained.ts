/**
 * Sustained load: SUSTAINED_RATE new conversations per second (default 100) for
 * SUSTAINED_SECONDS (default 60), open loop, auto-reply delay 0: the delay from each
 * webhook to its unassigned reply at the fake Graph API.
 *   npm run bench -- sustained
 */
import { installQuietRuntime } from '../test/support/environment';
import { startServiceUnderTest } from '../test/support/running-service';
import { configureNumbers, fmt, ms3, percentile, postAtRate, printTable, repliesByCustomer, runBench, waitUntil } from './support/bench-kit';

const RATE = Number(process.env.SUSTAINED_RATE ?? 100);
const SECONDS = Number(process.env.SUSTAINED_SECONDS ?? 60);

runBench(async () => {
  installQuietRuntime();
  const s = await startServiceUnderTest({ WHATSAPP_MESSAGES_PER_SECOND: '1000' });
  try {
    await configureNumbers((rows) => s.db('automation_settings').insert(rows), 0);
    const run = String(Date.now() % 10000).padStart(4, '0');
    const started = Date.now();
    const posted = await postAtRate(s.baseUrl, run, { perSecond: RATE, seconds: SECONDS });
    const postingSeconds = (Date.now() - started) / 1000;
    const replied = () => {
      const r = repliesByCustomer(s.graph);
      return posted.filter((p) => (r.get(p.customer)?.length ?? 0) > 0).length;
    };
    await waitUntil(() => replied() >= posted.length, 120_000, 250);
    const r = repliesByCustomer(s.graph);
    const delays = posted.filter((p) => r.has(p.customer)).map((p) => r.get(p.customer)![0] - p.sentAt);
    const acks = posted.map((p) => p.ackedAt - p.sentAt);
    printTable(`sustained: ${RATE} new conversations/s for ${SECONDS} s, auto-reply delay 0`, [
      ['webhooks posted / rate achieved (/s)', `${posted.length} / ${fmt(posted.length / postingSeconds)}`, `${RATE * SECONDS} / ${RATE}`],
      ['webhooks not answered 200', String(posted.filter((p) => p.status !== 200).length), '0'],
      ['webhook ack p50 / p99 / max (ms)', ms3(acks), ''],
      ['auto-replies received', `${delays.length} / ${posted.length}`, String(posted.length)],
      ['webhook → auto-reply p50 (ms)', fmt(percentile(delays, 50)), ''],
      ['webhook → auto-reply p99 (ms)', fmt(percentile(delays, 99)), '≤ 1,000'],
      ['webhook → auto-reply p50 / p99 / max (ms)', ms3(delays), ''],
    ]);
  } finally {
    await s.stop();
  }
});
