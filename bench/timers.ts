/**
 * Timers at scale, against the stack of BENCH_TOPOLOGY (bench/support/stack.ts):
 * TIMERS_OPEN open conversations (default 10,000) of which TIMERS_DUE (default 2,000) have
 * their unassigned reply (R4) due within the same minute; the others wait an hour. Then a
 * steady state: TIMERS_SPREAD_RATE new conversations a second for TIMERS_SPREAD_SECONDS,
 * each with its reply TIMERS_SPREAD_DELAY_SECONDS away, so the timers come due spread out.
 * Lateness is measured at the fake Graph API against each deadline (the conversation's
 * routing into `unassigned`, from its timeline, + the delay), and beside it the worker's
 * own lateness histogram and its workflow tasks' execution and wait (the SDK's histograms).
 * Also counts replies lost or sent twice, and which process used the CPU
 * while the timers fired.
 *   npm run bench -- timers          (TIMERS_OPEN=10000 TIMERS_DUE=2000; scale down for quick runs)
 */
import { installQuietRuntime } from '../test/support/environment';
import {
  configureNumbers,
  fmt,
  max,
  ms3,
  NUMBER_COUNT,
  percentile,
  type Posted,
  postAtRate,
  postConcurrently,
  printTable,
  refusals,
  repliesByCustomer,
  rssMiB,
  runBench,
  waitUntil,
} from './support/bench-kit';
import { type BenchStack, cpuRows, sampleCpu, startStack, type Topology, wantedTopologies } from './support/stack';

const OPEN = Number(process.env.TIMERS_OPEN ?? 10_000);
const DUE = Number(process.env.TIMERS_DUE ?? 2_000);
const DELAY_S = Number(process.env.TIMERS_DELAY_SECONDS ?? 60);
const C = Number(process.env.TIMERS_CONCURRENCY ?? 32);
const SPREAD_RATE = Number(process.env.TIMERS_SPREAD_RATE ?? 10);
const SPREAD_SECONDS = Number(process.env.TIMERS_SPREAD_SECONDS ?? 30);
const SPREAD_DELAY_S = Number(process.env.TIMERS_SPREAD_DELAY_SECONDS ?? 20);
/** How long after the last deadline a reply still counts (then it is lost). */
const GRACE_MS = Number(process.env.TIMERS_GRACE_MS ?? 120_000);

const idleNumber = (i: number) => `3200000${String(i % NUMBER_COUNT).padStart(3, '0')}`;
const dueNumber = (i: number) => `3300000${String(i % NUMBER_COUNT).padStart(3, '0')}`;
const spreadNumber = (i: number) => `3400000${String(i % NUMBER_COUNT).padStart(3, '0')}`;
const numbers = (of: (i: number) => string) => Array.from({ length: NUMBER_COUNT }, (_, i) => of(i));

/**
 * Lateness of the first reply to each posted customer against its deadline; `atFirstDeadline`
 * runs when the first of them falls due (the burst's CPU and counters start there, not
 * during the wait for it).
 */
async function lateness(s: BenchStack, posted: Posted[], delayS: number, atFirstDeadline: () => Promise<void> = async () => undefined) {
  const wamids = posted.map((p) => p.wamid);
  // R4's reply is owed from the conversation's entry into `unassigned` (its routing), not
  // from its opening: the routing transaction's timeline entry is that moment by the
  // database clock (a few ms before the workflow's own, so lateness is slightly pessimistic).
  const deadlineRows = async () =>
    (await s
      .db('messages as m')
      .join('conversation_timeline as t', 't.conversation_id', 'm.conversation_id')
      .whereIn('m.wamid', wamids)
      .where('t.kind', 'routed')
      .groupBy('m.wamid')
      .select('m.wamid', s.db.raw('min(t.at) AS routed_at'))) as { wamid: string; routed_at: Date }[];
  let rows: Awaited<ReturnType<typeof deadlineRows>> = [];
  await waitUntil(async () => (rows = await deadlineRows()).length >= posted.length, 600_000, 1000);
  const deadlineOf = new Map(rows.map((r) => [r.wamid, new Date(r.routed_at).getTime() + delayS * 1000]));
  const deadlines = [...deadlineOf.values()];
  const lastDeadline = max(deadlines);
  await new Promise((r) => setTimeout(r, Math.max(0, Math.min(...deadlines) - Date.now())));
  await atFirstDeadline();
  await waitUntil(
    () => {
      const r = repliesByCustomer(s.graph);
      return posted.every((p) => (r.get(p.customer)?.length ?? 0) > 0);
    },
    Math.max(0, lastDeadline - Date.now()) + GRACE_MS,
    250,
  );
  await new Promise((r) => setTimeout(r, 3000)); // a duplicate would show by now
  const r = repliesByCustomer(s.graph);
  const late: number[] = [];
  let lost = 0;
  let doubled = 0;
  for (const p of posted) {
    const at = r.get(p.customer) ?? [];
    const deadline = deadlineOf.get(p.wamid);
    if (at.length === 0 || deadline === undefined) lost++;
    else late.push(at[0] - deadline);
    if (at.length > 1) doubled++;
  }
  return { late, lost, doubled, window: (lastDeadline - Math.min(...deadlines)) / 1000 };
}

/** The workers' own lateness histogram for unassigned_reply: shares within 1 s and 5 s. */
async function ownLateness(s: BenchStack): Promise<string> {
  let count = 0;
  let within1 = 0;
  let within5 = 0;
  for (const url of s.metricsUrls) {
    const page = await (await fetch(url)).text();
    const value = (re: RegExp) => Number(re.exec(page)?.[1] ?? 0);
    count += value(/^inbox_autopilot_timer_lateness_seconds_count\{rule="unassigned_reply"\} (\S+)$/m);
    within1 += value(/^inbox_autopilot_timer_lateness_seconds_bucket\{le="1",rule="unassigned_reply"\} (\S+)$/m);
    within5 += value(/^inbox_autopilot_timer_lateness_seconds_bucket\{le="5",rule="unassigned_reply"\} (\S+)$/m);
  }
  const pct = (n: number) => `${fmt((100 * n) / count, 1)} %`;
  return `${pct(within1)} / ${pct(within5)} of ${count}`;
}

/**
 * The workers' own SDK histograms of workflow tasks, summed over every worker: how many
 * conversation workflow tasks ran, how long they ran (an automated send runs inside the
 * task its timer woke), how long tasks waited from scheduled to started, and the history
 * fetches of runs not in the sticky cache (GetWorkflowExecutionHistory). In ms.
 */
const CONVERSATIONS = 'workflow_type="conversationWorkflow"';
const SENDS = 'activity_type="sendMessage"';
const HISTORY_FETCHES = 'operation="GetWorkflowExecutionHistory"';
const WORKER_SERIES = {
  tasks: ['temporal_workflow_task_execution_latency_count', CONVERSATIONS],
  executionMs: ['temporal_workflow_task_execution_latency_sum', CONVERSATIONS],
  // Schedule-to-start has no workflow type: every task.
  waits: ['temporal_workflow_task_schedule_to_start_latency_count', ''],
  waitMs: ['temporal_workflow_task_schedule_to_start_latency_sum', ''],
  sends: ['temporal_local_activity_execution_latency_count', SENDS],
  sendMs: ['temporal_local_activity_execution_latency_sum', SENDS],
  sendEndToEndMs: ['temporal_local_activity_succeed_endtoend_latency_sum', SENDS],
  historyFetches: ['temporal_request_latency_count', HISTORY_FETCHES],
  historyFetchMs: ['temporal_request_latency_sum', HISTORY_FETCHES],
} as const;
type WorkerCounters = Record<keyof typeof WORKER_SERIES, number>;

async function workerCounters(s: BenchStack): Promise<WorkerCounters> {
  const pages = await Promise.all(s.metricsUrls.map(async (url) => (await (await fetch(url)).text()).split('\n')));
  const sum = ([metric, label]: readonly [string, string]) =>
    pages
      .flat()
      .filter((l) => l.startsWith(`${metric}{`) && l.includes(label))
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  return Object.fromEntries(Object.entries(WORKER_SERIES).map(([name, series]) => [name, sum(series)])) as WorkerCounters;
}

/** What the workers did between two readings, as table rows. */
function workerRows(before: WorkerCounters, after: WorkerCounters): [string, string, string][] {
  const d = (k: keyof WorkerCounters) => after[k] - before[k];
  const mean = (total: number, n: number) => (n > 0 ? fmt(total / n, 1) : '–');
  return [
    ['burst: conversation workflow tasks; execution mean (ms, the send inside)', `${fmt(d('tasks'))}; ${mean(d('executionMs'), d('tasks'))}`, ''],
    ['burst: workflow task wait, scheduled to started, mean (ms)', mean(d('waitMs'), d('waits')), ''],
    [
      'burst: local sendMessage executions; mean running / scheduled to done (ms)',
      `${fmt(d('sends'))}; ${mean(d('sendMs'), d('sends'))} / ${mean(d('sendEndToEndMs'), d('sends'))}`,
      '',
    ],
    [
      'burst: history fetches (runs not in the sticky cache); mean (ms)',
      `${fmt(d('historyFetches'))}; ${mean(d('historyFetchMs'), d('historyFetches'))}`,
      '',
    ],
  ];
}

async function timers(topology: Topology): Promise<void> {
  const s = await startStack(topology);
  try {
    const insert = (rows: object[]) => s.db('automation_settings').insert(rows);
    await configureNumbers(insert, 3600, numbers(idleNumber));
    await configureNumbers(insert, DELAY_S, numbers(dueNumber));
    await configureNumbers(insert, SPREAD_DELAY_S, numbers(spreadNumber));
    const run = String(Date.now() % 10000).padStart(4, '0');
    const t0 = Date.now();
    const idle = await postConcurrently(s.apiUrls, run, { count: OPEN - DUE, concurrency: C, phoneNumberId: idleNumber });
    process.stdout.write(`[${topology}] webhooks of ${OPEN - DUE} idle conversations acked in ${fmt(idle.seconds)} s\n`);
    // Every idle conversation in its workflow and routed before the due ones open.
    const routed = async () => Number((await s.db('conversations').whereNotIn('status', ['closed', 'routing']).count({ n: '*' }))[0].n);
    await waitUntil(async () => (await routed()) >= OPEN - DUE, 900_000, 1000);
    const idleOpenSeconds = (Date.now() - t0) / 1000;
    process.stdout.write(`[${topology}] ${OPEN - DUE} idle conversations open after ${fmt(idleOpenSeconds)} s\n`);
    const due = await postConcurrently(s.apiUrls, run, { first: OPEN - DUE, count: DUE, concurrency: C, phoneNumberId: dueNumber });
    process.stdout.write(`[${topology}] webhooks of ${DUE} conversations with a timer acked in ${fmt(due.seconds)} s\n`);
    await waitUntil(async () => (await routed()) >= OPEN, 900_000, 1000);
    // CPU and the workers' counters from the first deadline to the last reply.
    let cpu: ReturnType<typeof sampleCpu> | undefined;
    let countersBefore: WorkerCounters | undefined;
    const burst = await lateness(s, due.posted, DELAY_S, async () => {
      cpu = sampleCpu();
      countersBefore = await workerCounters(s);
    });
    const cpuWhileFiring = cpu!.stop();
    const countersAfter = await workerCounters(s);
    const own = await ownLateness(s);
    const rss = s.processes().map((p) => [`RSS ${p.role} pid ${p.pid} (MiB)`, fmt(rssMiB(p.pid)), ''] as [string, string, string]);

    // Steady state: timers spread out, among the same open conversations.
    const spreadPosted =
      SPREAD_SECONDS > 0
        ? await postAtRate(s.apiUrls, `${run}8`, { perSecond: SPREAD_RATE, seconds: SPREAD_SECONDS, phoneNumberId: spreadNumber })
        : [];
    const spread = spreadPosted.length ? await lateness(s, spreadPosted, SPREAD_DELAY_S) : null;
    const r = repliesByCustomer(s.graph);
    const dueCustomers = new Set(due.posted.map((p) => p.customer));
    const early = idle.posted.filter((p) => r.has(p.customer) && !dueCustomers.has(p.customer)).length;
    const spreadRows: [string, string, string][] = spread
      ? [
          [`steady state (${SPREAD_RATE}/s for ${SPREAD_SECONDS} s, due ${SPREAD_DELAY_S} s later) p50 / p99 / max (ms)`, ms3(spread.late), ''],
          ['steady state: fired / lost / sent twice', `${spread.late.length} / ${spread.lost} / ${spread.doubled}`, `${spreadPosted.length} / 0 / 0`],
        ]
      : [];
    printTable(
      `timers [${topology}]: ${OPEN} open conversations, ${DUE} timers due within ${fmt(burst.window)} s`,
      [
        ['unassigned_reply lateness p50 (ms)', fmt(percentile(burst.late, 50)), ''],
        ['unassigned_reply lateness p99 (ms)', fmt(percentile(burst.late, 99)), '≤ 1,000'],
        ['unassigned_reply lateness max (ms)', fmt(max(burst.late)), '≤ 5,000'],
        ['service-side: fired within 1 s / 5 s of the deadline (worker histogram)', own, '≥ 99 % / 100 %'],
        ...workerRows(countersBefore!, countersAfter),
        ['timers fired', `${burst.late.length} / ${DUE}`, `${DUE}`],
        ['replies lost', String(burst.lost), '0'],
        ['replies sent twice', String(burst.doubled), '0'],
        ['replies to idle conversations (due in 1 h)', String(early), '0'],
        ['webhook deliveries refused (each redelivered)', refusals([...idle.posted, ...due.posted, ...spreadPosted]), '0'],
        ['idle conversations: webhooks acked in (s)', fmt(idle.seconds), ''],
        ['idle conversations: all open and routed after (s)', fmt(idleOpenSeconds), ''],
        ...spreadRows,
        ...rss,
        ...cpuRows(cpuWhileFiring),
      ],
      [
        `lost: no reply within ${GRACE_MS / 1000} s of the last deadline. Deadline: the routing into unassigned (timeline) + ${DELAY_S} s.`,
        "service-side: the worker's own inbox_autopilot_timer_lateness_seconds (measured in the send activity against the deadline the workflow passes).",
        'CPU: cores used by each part of the machine from the first deadline to the last reply.',
      ],
    );
  } finally {
    await s.stop();
  }
}

runBench(async () => {
  installQuietRuntime();
  for (const topology of wantedTopologies()) await timers(topology);
});
