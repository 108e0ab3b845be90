/**
 * Outbound events under the ingest load (SPEC §9): N signed webhooks from new customers at
 * C in flight, as `npm run bench -- ingest`, with one subscriber on loopback for every
 * event of those conversations. Measures each event from its fact (occurredAt, written by
 * the fact's transaction) to its arrival at the subscriber, and a customer's message from
 * the webhook to the subscriber; counts lost and repeated events.
 *   npm run bench -- events          (EVENTS_N=1000 EVENTS_CONCURRENCY=32 BENCH_TOPOLOGY=embedded|cluster|both)
 */
import { installQuietRuntime } from '../test/support/environment';
import { EventReceiver } from '../test/support/event-receiver';
import { E2E_API_KEY } from '../test/support/running-service';
import { configureNumbers, fmt, ms3, percentile, postConcurrently, printTable, runBench, waitUntil } from './support/bench-kit';
import { startStack, type Topology, wantedTopologies } from './support/stack';

const N = Number(process.env.EVENTS_N ?? 1000);
const C = Number(process.env.EVENTS_CONCURRENCY ?? 32);
const SECRET = 'bench-events-secret-0123456789';
/** opened, message.received, routed (unassigned: nobody is online) per new conversation. */
const EVENTS_PER_CONVERSATION = 3;

async function events(topology: Topology): Promise<void> {
  const receiver = await new EventReceiver().start();
  const s = await startStack(topology);
  try {
    await configureNumbers((rows) => s.db('automation_settings').insert(rows), 60);
    const subscribed = await fetch(`${s.apiUrls[0]}/api/webhooks/bench`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${E2E_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        url: `${receiver.url}/bench`,
        secret: SECRET,
        events: ['conversation.opened', 'message.received', 'conversation.routed'],
      }),
    });
    if (subscribed.status !== 201) throw new Error(`subscribing answered ${subscribed.status}: ${await subscribed.text()}`);
    const run = String(Date.now() % 10000).padStart(4, '0');
    await postConcurrently(s.apiUrls, `${run}9`, { count: 50, concurrency: 8 });
    await waitUntil(async () => receiver.deliveries.length >= 50 * EVENTS_PER_CONVERSATION, 120_000, 250);
    const warmUp = receiver.deliveries.length;

    const { posted, seconds } = await postConcurrently(s.apiUrls, run, { count: N, concurrency: C });
    const expected = warmUp + N * EVENTS_PER_CONVERSATION;
    await waitUntil(async () => receiver.deliveries.length >= expected, 300_000, 500).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 2000)); // repeats, if any, arrive meanwhile
    const measured = receiver.deliveries.slice(warmUp);
    const ids = new Set(receiver.deliveries.map((d) => d.event.id));
    const factToReceiver = measured.map((d) => d.at - Date.parse(d.event.occurredAt));
    const sentAt = new Map(posted.map((p) => [p.wamid, p.sentAt]));
    const webhookToReceiver = measured
      .filter((d) => d.event.type === 'message.received' && sentAt.has(d.event.data.message?.wamid))
      .map((d) => d.at - sentAt.get(d.event.data.message.wamid)!);
    const byType = (type: string) => measured.filter((d) => d.event.type === type).map((d) => d.at - Date.parse(d.event.occurredAt));
    const lastArrival = Math.max(...measured.map((d) => d.at));
    const acks = posted.map((p) => p.ackedAt - p.sentAt);
    printTable(
      `events [${topology}]: ${N} new conversations, ${C} in flight, one subscriber for 3 event types`,
      [
        ['events delivered', `${measured.length} / ${N * EVENTS_PER_CONVERSATION}`, `${N * EVENTS_PER_CONVERSATION}`],
        ['events delivered twice', String(receiver.deliveries.length - ids.size), '0'],
        ['fact → subscriber p50 / p99 / max (ms)', ms3(factToReceiver), ''],
        [
          '  conversation.opened p50 / p99 (ms)',
          `${fmt(percentile(byType('conversation.opened'), 50))} / ${fmt(percentile(byType('conversation.opened'), 99))}`,
          '',
        ],
        [
          '  message.received p50 / p99 (ms)',
          `${fmt(percentile(byType('message.received'), 50))} / ${fmt(percentile(byType('message.received'), 99))}`,
          '',
        ],
        [
          '  conversation.routed p50 / p99 (ms)',
          `${fmt(percentile(byType('conversation.routed'), 50))} / ${fmt(percentile(byType('conversation.routed'), 99))}`,
          '',
        ],
        ['webhook → message.received at subscriber p50 / p99 / max (ms)', ms3(webhookToReceiver), ''],
        ['delivery throughput (/s)', fmt(measured.length / ((lastArrival - Math.min(...posted.map((p) => p.sentAt))) / 1000)), ''],
        ['webhook ack p50 / p99 (ms), with a subscriber', `${fmt(percentile(acks, 50), 1)} / ${fmt(percentile(acks, 99), 1)}`, '≤ 25 / ≤ 250'],
        ['ack throughput (/s)', fmt(N / seconds), ''],
      ],
      ['fact: the occurredAt the trigger wrote in the transaction of the fact; subscriber: its arrival at the receiver on loopback.'],
    );
  } finally {
    await s.stop();
    await receiver.stop();
  }
}

runBench(async () => {
  installQuietRuntime();
  for (const topology of wantedTopologies()) await events(topology);
});
