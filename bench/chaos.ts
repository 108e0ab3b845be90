/**
 * Chaos: `npm start` (src/main.ts all, a real OS process with its embedded PostgreSQL,
 * Temporal dev server and worker child) under a steady load of signed webhooks from new
 * customers, each owed an unassigned reply after CHAOS_DELAY_S (R4), while a random part
 * is killed every ~CHAOS_FAULT_EVERY_S: the dev server, PostgreSQL, the worker child
 * (each SIGKILLed and left to the service to restart), or the whole service (SIGKILL,
 * then started again on the same data directory, as a process manager would). Webhooks are
 * delivered like Meta: posted again until answered 200.
 *
 * Counted at the end, from the fake Graph API's received sends and from the database:
 * conversations acknowledged, timers fired, faults injected, and effects lost (an
 * acknowledged conversation without its reply) or doubled (a reply sent twice). Targets:
 * 0 and 0, at least 10 faults.
 *
 *   npm run bench -- chaos      (CHAOS_SECONDS=180 CHAOS_FAULT_EVERY_S=15 CHAOS_RATE=4 CHAOS_DELAY_S=20)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { embeddedPostgresUrl } from '../src/db/embedded-postgres';
import { createDatabase, type Database } from '../src/store';
import { FakeGraphApi } from '../test/support/fake-graph-api';
import { E2E_API_KEY, textWebhook } from '../test/support/running-service';
import {
  devServerPid,
  healthOf,
  pickPorts,
  postgresPid,
  postSignedWebhook,
  processesWith,
  type ServiceProcess,
  startServiceProcess,
  workerPid,
} from '../test/support/service-process';
import { fmt, max, percentile, printTable, runBench } from './support/bench-kit';

const SECONDS = Number(process.env.CHAOS_SECONDS ?? 180);
const FAULT_EVERY_S = Number(process.env.CHAOS_FAULT_EVERY_S ?? 15);
const RATE = Number(process.env.CHAOS_RATE ?? 4);
const DELAY_S = Number(process.env.CHAOS_DELAY_S ?? 20);
const PHONE_NUMBER_ID = '888000101';

type FaultKind = 'dev server' | 'PostgreSQL' | 'worker child' | 'whole service';
const KINDS: FaultKind[] = ['dev server', 'PostgreSQL', 'worker child', 'whole service'];

interface Fault {
  kind: FaultKind;
  at: number;
  /** Until /healthz is ok again (the worker child: until a new one runs). */
  recoveryMs: number;
}

runBench(async () => {
  const graph = await new FakeGraphApi().start();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'inbox-autopilot-chaos-'));
  const ports = await pickPorts();
  let service!: ServiceProcess;
  const exits: string[] = [];
  const start = async () => {
    service = startServiceProcess({ dataDir, graphUrl: graph.url, ports, env: { LOG_LEVEL: 'warn' } });
    await service.ready;
  };
  let db: Database | null = null;
  try {
    await start();
    const configured = await fetch(`${service.baseUrl}/api/numbers/${PHONE_NUMBER_ID}/automation`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${E2E_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        unassignedReply: { enabled: true, delaySeconds: DELAY_S, message: { type: 'text', text: { body: 'We will be right with you.' } } },
      }),
    });
    if (configured.status !== 200) throw new Error(`configuring the number answered ${configured.status}`);

    // Load: RATE new customers a second (open loop), each delivered like Meta until 200.
    const run = Date.now().toString().slice(-6);
    const acknowledged = new Map<string, { wamid: string; ackedAt: number; attempts: number }>();
    let refusals = 0;
    let loadRunning = true;
    const deliveries: Promise<void>[] = [];
    const began = Date.now();
    const load = (async () => {
      for (let i = 0; loadRunning; i++) {
        const wait = began + (i * 1000) / RATE - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const customer = `5513${run}${String(i).padStart(5, '0')}`;
        const wamid = `wamid.CHAOS-${run}-${i}`;
        const body = textWebhook({ wamid, from: customer, body: `hello ${i}`, phoneNumberId: PHONE_NUMBER_ID });
        deliveries.push(
          (async () => {
            for (let attempt = 1; ; attempt++) {
              const { status } = await postSignedWebhook(service.baseUrl, body, 10_000);
              if (status === 200) return void acknowledged.set(customer, { wamid, ackedAt: Date.now(), attempts: attempt });
              refusals++;
              await new Promise((r) => setTimeout(r, 1_000));
            }
          })(),
        );
      }
    })();

    // Faults: every kind in turn, in a shuffled order per round, ~FAULT_EVERY_S apart.
    const faults: Fault[] = [];
    const waitHealthy = async (since: number) => {
      for (;;) {
        const h = await healthOf(service.baseUrl);
        if (h?.status === 200) return Date.now() - since;
        if (Date.now() - since > 120_000) throw new Error(`not healthy 120 s after a fault: ${JSON.stringify(h)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    let order: FaultKind[] = [];
    // One fault per slot of FAULT_EVERY_S (± 15 %), counted from the start of the load, never
    // before the previous fault has recovered.
    for (let slot = 1; ; slot++) {
      const due = began + slot * FAULT_EVERY_S * 1000 + (Math.random() - 0.5) * 0.3 * FAULT_EVERY_S * 1000;
      if (due > began + SECONDS * 1000 - 3_000) break;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      if (order.length === 0) order = [...KINDS].sort(() => Math.random() - 0.5);
      const kind = order.shift()!;
      const at = Date.now();
      const mainPid = service.child.pid!;
      let recoveryMs: number;
      if (kind === 'dev server' || kind === 'PostgreSQL') {
        const pid = kind === 'dev server' ? devServerPid(dataDir) : postgresPid(dataDir);
        if (!pid) throw new Error(`no ${kind} to kill`);
        process.kill(pid, 'SIGKILL');
        await new Promise((r) => setTimeout(r, 300));
        recoveryMs = await waitHealthy(at);
      } else if (kind === 'worker child') {
        const pid = workerPid(mainPid);
        if (!pid) throw new Error('no worker child to kill');
        process.kill(pid, 'SIGKILL');
        while (!workerPid(mainPid) || workerPid(mainPid) === pid) await new Promise((r) => setTimeout(r, 50));
        recoveryMs = Date.now() - at;
      } else {
        process.kill(mainPid, 'SIGKILL');
        const exit = await service.exited;
        exits.push(`SIGKILLed: ${exit.signal}`);
        // Its guard stops PostgreSQL and the dev server; the worker child sees its pipe close.
        const deadline = Date.now() + 15_000;
        while (processesWith(dataDir).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        const leftovers = processesWith(dataDir).length;
        await start();
        recoveryMs = await waitHealthy(at);
        if (leftovers) exits.push(`${leftovers} processes still running 15 s after the SIGKILL (stopped at the restart)`);
      }
      faults.push({ kind, at: at - began, recoveryMs });
      process.stdout.write(`  ${((at - began) / 1000).toFixed(0).padStart(4)} s  ${kind.padEnd(13)} recovered in ${recoveryMs} ms\n`);
    }
    loadRunning = false;
    await load;
    await Promise.all(deliveries);
    const loadSeconds = (Date.now() - began) / 1000;

    // Every acknowledged conversation's reply, due DELAY_S after it was written.
    const replies = () => {
      const by = new Map<string, number>();
      for (const r of graph.messageRequests()) by.set(String(r.body.to).replace(/^\+/, ''), (by.get(String(r.body.to).replace(/^\+/, '')) ?? 0) + 1);
      return by;
    };
    const lastDue = Math.max(...[...acknowledged.values()].map((a) => a.ackedAt)) + DELAY_S * 1000;
    while (Date.now() < lastDue + 60_000 && [...acknowledged.keys()].some((c) => !replies().has(c))) await new Promise((r) => setTimeout(r, 500));
    await new Promise((r) => setTimeout(r, 3_000));
    const sent = replies();
    const lost = [...acknowledged.keys()].filter((c) => !sent.has(c));
    const doubled = [...acknowledged.keys()].filter((c) => (sent.get(c) ?? 0) > 1);
    const lateness = [...acknowledged.entries()].flatMap(([c, a]) => {
      const first = graph.messageRequests().find((r) => r.body.to === `+${c}`);
      return first ? [first.at - (a.ackedAt + DELAY_S * 1000)] : [];
    });

    db = createDatabase(embeddedPostgresUrl(ports.postgres, 'inbox_autopilot'), 2);
    const wamids = [...acknowledged.values()].map((a) => a.wamid);
    const stored = await db('messages').whereIn('wamid', wamids).whereNotNull('conversation_id').count<{ count: string }[]>('* as count');
    const conversations = await db('conversations').where({ phone_number_id: PHONE_NUMBER_ID }).count<{ count: string }[]>('* as count');
    const outbound = await db('messages')
      .where({ direction: 'outbound', automation: 'unassigned_reply' })
      .groupBy('conversation_id')
      .select('conversation_id')
      .count<{ conversation_id: string; count: string }[]>('* as count');
    const dbDoubled = outbound.filter((o) => Number(o.count) > 1).length;
    await db.destroy();
    db = null;

    service.child.kill('SIGTERM');
    const lastExit = await service.exited;
    exits.push(`final SIGTERM: exit ${lastExit.code}`);

    const byKind = (kind: FaultKind) => faults.filter((f) => f.kind === kind).map((f) => f.recoveryMs);
    printTable(
      `chaos: npm start under load while its parts are killed (${SECONDS} s, a fault every ~${FAULT_EVERY_S} s)`,
      [
        ['load (s), webhooks/s', `${fmt(loadSeconds)} s at ${RATE}/s`, ''],
        ['conversations acknowledged (200)', String(acknowledged.size), ''],
        ['webhook answers other than 200 (redelivered)', String(refusals), ''],
        ['faults injected', String(faults.length), '≥ 10'],
        ...KINDS.map(
          (k) =>
            [
              `  ${k}: count, recovery p50 / max (ms)`,
              `${byKind(k).length}, ${fmt(percentile(byKind(k), 50))} / ${fmt(max(byKind(k)))}`,
              k === 'worker child' ? 'new worker' : '/healthz ok',
            ] as [string, string, string],
        ),
        [`timers fired (replies, ${DELAY_S} s after the message)`, String(acknowledged.size - lost.length), String(acknowledged.size)],
        ['lost (acknowledged, never replied)', String(lost.length), '0'],
        ['doubled (replied twice, fake Graph API)', String(doubled.length), '0'],
        ['doubled (two unassigned replies stored, database)', String(dbDoubled), '0'],
        ['acknowledged messages stored in their conversation', `${stored[0].count} of ${acknowledged.size}`, 'all'],
        ['conversations in the database', String(conversations[0].count), String(acknowledged.size)],
        ['reply lateness p50 / p99 / max (ms)', `${fmt(percentile(lateness, 50))} / ${fmt(percentile(lateness, 99))} / ${fmt(max(lateness))}`, ''],
        ['exits', exits.join('; '), 'final exit 0'],
      ],
      [
        'Lateness: from the acknowledgement + the delay to the send at the fake Graph API (a reply due while its part was down waits for the recovery).',
        ...(lost.length ? [`lost: ${lost.slice(0, 10).join(', ')}`] : []),
        ...(doubled.length ? [`doubled: ${doubled.slice(0, 10).join(', ')}`] : []),
      ],
    );
  } finally {
    await db?.destroy();
    const s = service as ServiceProcess | undefined;
    if (s && s.child.exitCode === null && s.child.signalCode === null) {
      s.child.kill('SIGTERM');
      const timer = setTimeout(() => s.child.kill('SIGKILL'), 20_000);
      await s.exited;
      clearTimeout(timer);
    }
    for (const p of processesWith(dataDir)) process.kill(p.pid, 'SIGKILL');
    await graph.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
