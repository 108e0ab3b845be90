/**
 * Timers at scale: TIMERS_OPEN open conversations (default 10,000) of which TIMERS_DUE
 * (default 2,000) have their unassigned reply (R4) due within the same minute; the others
 * wait an hour. Lateness is measured at the fake Graph API against each deadline
 * (the conversation's opened_at + the delay: routing comes a few ms after opening, so the
 * figure is slightly pessimistic). Also counts replies lost or sent twice.
 *   npm run bench -- timers          (TIMERS_OPEN=10000 TIMERS_DUE=2000; scale down for quick runs)
 */
import { installQuietRuntime } from '../test/support/environment';
import { startServiceUnderTest } from '../test/support/running-service';
import {
  configureNumbers,
  fmt,
  max,
  ms3,
  NUMBER_COUNT,
  percentile,
  postConcurrently,
  printTable,
  repliesByCustomer,
  runBench,
  waitUntil,
} from './support/bench-kit';

const OPEN = Number(process.env.TIMERS_OPEN ?? 10_000);
const DUE = Number(process.env.TIMERS_DUE ?? 2_000);
const DELAY_S = Number(process.env.TIMERS_DELAY_SECONDS ?? 60);
const C = Number(process.env.TIMERS_CONCURRENCY ?? 32);
/** How long after the last deadline a reply still counts (then it is lost). */
const GRACE_MS = Number(process.env.TIMERS_GRACE_MS ?? 120_000);

const idleNumber = (i: number) => `3200000${String(i % NUMBER_COUNT).padStart(3, '0')}`;
const dueNumber = (i: number) => `3300000${String(i % NUMBER_COUNT).padStart(3, '0')}`;

runBench(async () => {
  installQuietRuntime();
  const s = await startServiceUnderTest({ WHATSAPP_MESSAGES_PER_SECOND: '1000' });
  try {
    const insert = (rows: object[]) => s.db('automation_settings').insert(rows);
    await configureNumbers(
      insert,
      3600,
      Array.from({ length: NUMBER_COUNT }, (_, i) => idleNumber(i)),
    );
    await configureNumbers(
      insert,
      DELAY_S,
      Array.from({ length: NUMBER_COUNT }, (_, i) => dueNumber(i)),
    );
    const run = String(Date.now() % 10000).padStart(4, '0');
    const t0 = Date.now();
    const idle = await postConcurrently(s.baseUrl, run, { count: OPEN - DUE, concurrency: C, phoneNumberId: idleNumber });
    process.stdout.write(`opened ${OPEN - DUE} idle conversations in ${fmt(idle.seconds)} s\n`);
    // Every idle conversation in its workflow and routed before the due ones open.
    const opened = async () => Number((await s.db('conversations').whereNot('status', 'closed').count({ n: '*' }))[0].n);
    await waitUntil(async () => (await opened()) >= OPEN - DUE, 600_000, 1000);
    process.stdout.write(`${OPEN - DUE} idle conversations open after ${fmt((Date.now() - t0) / 1000)} s\n`);
    const due = await postConcurrently(s.baseUrl, run, { first: OPEN - DUE, count: DUE, concurrency: C, phoneNumberId: dueNumber });
    process.stdout.write(`opened ${DUE} conversations with a timer in ${fmt(due.seconds)} s\n`);

    const wamids = due.posted.map((p) => p.wamid);
    const deadlineRows = async () =>
      (await s
        .db('messages as m')
        .join('conversations as c', 'c.id', 'm.conversation_id')
        .whereIn('m.wamid', wamids)
        .select('m.wamid', 'c.opened_at')) as { wamid: string; opened_at: Date }[];
    let rows: Awaited<ReturnType<typeof deadlineRows>> = [];
    await waitUntil(async () => (rows = await deadlineRows()).length >= DUE, 600_000, 1000);
    const deadlineOf = new Map(rows.map((r) => [r.wamid, r.opened_at.getTime() + DELAY_S * 1000]));
    const deadlines = [...deadlineOf.values()];
    const lastDeadline = max(deadlines);
    const replies = () => repliesByCustomer(s.graph);
    await waitUntil(
      () => {
        const r = replies();
        return due.posted.every((p) => (r.get(p.customer)?.length ?? 0) > 0);
      },
      Math.max(0, lastDeadline - Date.now()) + GRACE_MS,
      250,
    );
    await new Promise((r) => setTimeout(r, 3000)); // a duplicate would show by now
    const r = replies();
    const lateness: number[] = [];
    let lost = 0;
    let doubled = 0;
    for (const p of due.posted) {
      const at = r.get(p.customer) ?? [];
      const deadline = deadlineOf.get(p.wamid);
      if (at.length === 0 || deadline === undefined) lost++;
      else lateness.push(at[0] - deadline);
      if (at.length > 1) doubled++;
    }
    const early = [...r.entries()].filter(([customer]) => !due.posted.some((p) => p.customer === customer)).length;
    printTable(
      `timers: ${OPEN} open conversations, ${DUE} timers due within ${fmt((lastDeadline - Math.min(...deadlines)) / 1000)} s`,
      [
        ['unassigned_reply lateness p50 (ms)', fmt(percentile(lateness, 50)), ''],
        ['unassigned_reply lateness p99 (ms)', fmt(percentile(lateness, 99)), '≤ 1,000'],
        ['unassigned_reply lateness max (ms)', fmt(max(lateness)), '≤ 5,000'],
        ['unassigned_reply lateness p50 / p99 / max (ms)', ms3(lateness), ''],
        ['timers fired', `${lateness.length} / ${DUE}`, `${DUE}`],
        ['replies lost', String(lost), '0'],
        ['replies sent twice', String(doubled), '0'],
        ['replies to idle conversations (due in 1 h)', String(early), '0'],
        ['idle conversations: webhooks acked in (s)', fmt(idle.seconds), ''],
      ],
      [`lost: no reply within ${GRACE_MS / 1000} s of the last deadline. Deadline: conversations.opened_at + ${DELAY_S} s.`],
    );
  } finally {
    await s.stop();
  }
});
