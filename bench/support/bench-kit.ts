/**
 * Shared by the scale benchmarks (ingest, timers, sustained, memory): signed webhooks from
 * new customers spread over 20 numbers, posting at a concurrency or a rate, the raw
 * signalWithStart rate of the same Temporal server, replies seen at the fake Graph API,
 * percentiles and the table every benchmark prints.
 */
import { execSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { signWebhookBody } from '../../src/whatsapp/signature';
import type { FakeGraphApi } from '../../test/support/fake-graph-api';
import { E2E_SECRET, textWebhook } from '../../test/support/running-service';

export const NUMBER_COUNT = 20;
export const numberId = (i: number) => `3100000${String(i % NUMBER_COUNT).padStart(3, '0')}`;
export const customerOf = (run: string, i: number) => `55${run}${String(i).padStart(7, '0')}`;

/** 20 numbers, each replying to an unassigned conversation after `delaySeconds` (R4). */
export async function configureNumbers(
  insert: (rows: { phone_number_id: string; settings: string }[]) => Promise<unknown>,
  delaySeconds: number,
  numbers: string[] = Array.from({ length: NUMBER_COUNT }, (_, i) => numberId(i)),
): Promise<void> {
  await insert(
    numbers.map((phoneNumberId) => ({
      phone_number_id: phoneNumberId,
      settings: JSON.stringify({
        unassignedReply: { enabled: true, delaySeconds, message: { type: 'text', text: { body: 'We will be right with you.' } } },
      }),
    })),
  );
}

export interface Posted {
  index: number;
  customer: string;
  phoneNumberId: string;
  wamid: string;
  sentAt: number;
  /** When the first delivery was answered (accepted or refused). */
  ackedAt: number;
  /** The last answer: 200 once accepted. */
  status: number;
  /** The answers before it that refused the webhook (each followed by a redelivery). */
  refusedWith: number[];
}

/**
 * Meta redelivers a webhook not answered 200 (WHATSAPP.md: with backoff, for up to 7
 * days); the benchmarks redeliver after REDELIVERY_DELAY_MS, up to REDELIVERIES times, so
 * one refusal is counted and reported but never leaves a conversation missing.
 */
export const REDELIVERIES = 5;
const REDELIVERY_DELAY_MS = 1000;

/**
 * Posts one signed text webhook from a new customer, and redelivers it while it is refused
 * (see REDELIVERIES). `sentAt` is the first delivery's, so a redelivered webhook's delays
 * include its refusals.
 */
export async function postNewCustomer(baseUrl: string | string[], run: string, index: number, phoneNumberId = numberId(index)): Promise<Posted> {
  // Several API processes (the production topology): round-robin, as a load balancer would.
  const url = Array.isArray(baseUrl) ? baseUrl[index % baseUrl.length] : baseUrl;
  const customer = customerOf(run, index);
  const wamid = `wamid.BENCH-${run}-${index}`;
  const body = JSON.stringify(textWebhook({ wamid, from: customer, body: `hello ${index}`, phoneNumberId }));
  const sentAt = Date.now();
  const t0 = performance.now();
  const refusedWith: number[] = [];
  let ackedAt = 0;
  for (;;) {
    const status = await deliverOnce(url, body);
    ackedAt ||= sentAt + (performance.now() - t0);
    if (status === 200 || refusedWith.length === REDELIVERIES) return { index, customer, phoneNumberId, wamid, sentAt, ackedAt, status, refusedWith };
    refusedWith.push(status);
    await new Promise((r) => setTimeout(r, REDELIVERY_DELAY_MS));
  }
}

/** One delivery of a signed webhook body: its status, 0 when the connection failed. */
async function deliverOnce(url: string, body: string): Promise<number> {
  try {
    const response = await fetch(`${url}/webhooks/whatsapp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, E2E_SECRET) },
      body,
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

/** "503 × 12, 0 × 4" (0: no answer): the refusals of every delivery, by status; '0' when none. */
export function refusals(posted: Posted[]): string {
  const by = new Map<number, number>();
  for (const p of posted) for (const status of [...p.refusedWith, ...(p.status === 200 ? [] : [p.status])]) by.set(status, (by.get(status) ?? 0) + 1);
  const total = [...by.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return '0';
  const stillRefused = posted.filter((p) => p.status !== 200).length;
  return `${total} (${[...by].map(([status, n]) => `${status} × ${n}`).join(', ')}); ${stillRefused} still refused after ${REDELIVERIES} redeliveries`;
}

/** `count` webhooks with `concurrency` in flight; indexes from `first`. */
export async function postConcurrently(
  baseUrl: string | string[],
  run: string,
  options: { first?: number; count: number; concurrency: number; phoneNumberId?: (i: number) => string },
): Promise<{ posted: Posted[]; seconds: number }> {
  const first = options.first ?? 0;
  const posted: Posted[] = [];
  let next = first;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < first + options.count) {
        const i = next++;
        posted.push(await postNewCustomer(baseUrl, run, i, options.phoneNumberId?.(i)));
      }
    }),
  );
  return { posted, seconds: (performance.now() - started) / 1000 };
}

/** Webhooks at a fixed rate (open loop: a slow answer never delays the next request). */
export async function postAtRate(
  baseUrl: string | string[],
  run: string,
  options: { perSecond: number; seconds: number; phoneNumberId?: (i: number) => string },
): Promise<Posted[]> {
  const total = options.perSecond * options.seconds;
  const started = Date.now();
  const requests: Promise<Posted>[] = [];
  for (let i = 0; i < total; i++) {
    const at = started + (i * 1000) / options.perSecond;
    const wait = at - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    requests.push(postNewCustomer(baseUrl, run, i, options.phoneNumberId?.(i)));
  }
  return Promise.all(requests);
}

/**
 * The raw signalWithStart rate of a Temporal server at `concurrency` in flight: a workflow
 * type no worker polls, on a task queue of its own, so nothing else of ours takes part.
 */
export async function rawSignalWithStartRate(address: string, namespace: string, count: number, concurrency: number): Promise<number> {
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  const run = Date.now().toString(36);
  let next = 0;
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) {
          const i = next++;
          await client.workflow.signalWithStart('benchRawSignalWithStart', {
            taskQueue: `bench-raw-${run}`,
            workflowId: `bench-raw-${run}-${i}`,
            args: [{ i }],
            signal: 'customerMessage',
            signalArgs: [{ i }],
          });
        }
      }),
    );
    return count / ((performance.now() - started) / 1000);
  } finally {
    await connection.close();
  }
}

/** Replies per customer seen at the fake Graph API (request times). */
export function repliesByCustomer(graph: FakeGraphApi): Map<string, number[]> {
  const byCustomer = new Map<string, number[]>();
  for (const r of graph.messageRequests()) {
    const to = String(r.body.to ?? '').replace(/^\+/, '');
    byCustomer.set(to, [...(byCustomer.get(to) ?? []), r.at]);
  }
  return byCustomer;
}

/** Waits until `done()` or `timeoutMs`; true when done. */
export async function waitUntil(done: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return true;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const max = (values: number[]) => (values.length ? values.reduce((a, b) => Math.max(a, b), -Infinity) : NaN);
export const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
export const ms3 = (values: number[]) => `${fmt(percentile(values, 50))} / ${fmt(percentile(values, 99))} / ${fmt(max(values))}`;

/** RSS of a process in MiB (Linux /proc). */
export function rssMiB(pid: number = process.pid): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return line ? Number(line.replace(/\D+/g, '')) / 1024 : NaN;
}

/** The load of the machine, printed beside every figure (three engineers share 2 cores). */
export function machineLoad(): string {
  const [one, five] = loadavg();
  let cpu = '';
  try {
    cpu = execSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    /* not Linux */
  }
  return `load ${one.toFixed(2)} (1 min) ${five.toFixed(2)} (5 min), ${cpu} cores`;
}

/** The one table a benchmark prints: what, measured, target. */
export function printTable(title: string, rows: [what: string, measured: string, target: string][], notes: string[] = []): void {
  const w0 = Math.max(4, ...rows.map((r) => r[0].length));
  const w1 = Math.max(8, ...rows.map((r) => r[1].length));
  const w2 = Math.max(6, ...rows.map((r) => r[2].length));
  const line = (a: string, b: string, c: string) => `| ${a.padEnd(w0)} | ${b.padEnd(w1)} | ${c.padEnd(w2)} |`;
  const out = [
    '',
    `${title} — ${new Date().toISOString()} — ${machineLoad()}`,
    line('what', 'measured', 'target'),
    line('-'.repeat(w0), '-'.repeat(w1), '-'.repeat(w2)),
    ...rows.map((r) => line(...r)),
    ...notes.map((n) => `  ${n}`),
    '',
  ];
  process.stdout.write(out.join('\n') + '\n');
  // `npm run bench -- all` collects every table into one summary (bench/run-all.ts).
  if (process.env.BENCH_RESULTS_FILE) {
    appendFileSync(process.env.BENCH_RESULTS_FILE, `${JSON.stringify({ title, load: machineLoad(), at: new Date().toISOString(), rows })}\n`);
  }
}

/** Runs a benchmark's main and exits (the service's handles would keep the process alive). */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`${(error as Error).stack ?? error}\n`);
      process.exit(1);
    },
  );
}

/**
 * What the API processes themselves measured (GET /metrics): webhooks answered 200 within
 * 25 ms and 250 ms of arriving (histogram buckets, summed over the APIs), and the worst
 * event-loop lag p99 (prom-client's default metric).
 */
export async function serverSideAck(apiUrls: string[]): Promise<{ count: number; within25: number; within250: number; loopLagP99Ms: number }> {
  let count = 0;
  let within25 = 0;
  let within250 = 0;
  let loopLagP99Ms = 0;
  for (const url of apiUrls) {
    const page = await (await fetch(`${url}/metrics`)).text();
    const value = (re: RegExp) => Number(re.exec(page)?.[1] ?? NaN);
    count += value(/^inbox_autopilot_webhook_ack_seconds_count\{status="200"\} (\S+)$/m);
    within25 += value(/^inbox_autopilot_webhook_ack_seconds_bucket\{le="0.025",status="200"\} (\S+)$/m);
    within250 += value(/^inbox_autopilot_webhook_ack_seconds_bucket\{le="0.25",status="200"\} (\S+)$/m);
    loopLagP99Ms = Math.max(loopLagP99Ms, 1000 * value(/^inbox_autopilot_process_nodejs_eventloop_lag_p99_seconds (\S+)$/m));
  }
  return { count, within25, within250, loopLagP99Ms };
}

/** The counts between two scrapes (the lag is the later one's: a scrape resets it). */
export function since(
  before: Awaited<ReturnType<typeof serverSideAck>>,
  after: Awaited<ReturnType<typeof serverSideAck>>,
): Awaited<ReturnType<typeof serverSideAck>> {
  return {
    count: after.count - (before.count || 0),
    within25: after.within25 - (before.within25 || 0),
    within250: after.within250 - (before.within250 || 0),
    loopLagP99Ms: after.loopLagP99Ms,
  };
}
