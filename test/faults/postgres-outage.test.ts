/**
 * PostgreSQL unreachable (issue 10, item 2): a PostgreSQL of the test's own is stopped
 * under a running service and started again on the same data directory.
 *
 * While it is down: webhooks answer 503 quickly (so Meta redelivers), never 200 and never
 * after a long hang; /healthz names PostgreSQL as the part that is down; a conversation
 * whose timer falls due meanwhile keeps retrying its activities. When it is back: /healthz
 * is ok again, the redelivered webhook is accepted with one effect, and the reply that fell
 * due during the outage is sent exactly once.
 *
 * Real parts: embedded PostgreSQL (a dedicated cluster, stopped with SIGINT, PostgreSQL's
 * fast shutdown), the Temporal CLI dev server, the service as `npm start` assembles it, and
 * the fake Graph API on loopback.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { createDatabase, type Database } from '../../src/db/knex';
import { type RunningPostgres, startEmbeddedPostgres } from '../../src/db/embedded-postgres';
import { connectClient } from '../../src/temporal/client';
import { createApp } from '../../src/http/app';
import { createWebhookIntake } from '../../src/inbound/webhook-intake';
import { createStore } from '../../src/store';
import { signWebhookBody } from '../../src/whatsapp/signature';
import { freePort } from '../../src/ports';
import { eventually } from '../support/conversation-harness';
import { testLog } from '../support/environment';
import { E2E_SECRET, startServiceUnderTest, textWebhook, type ServiceUnderTest } from '../support/running-service';

const PHONE_NUMBER_ID = '555000101';
const ARMED_CUSTOMER = '5511955550001';
const REDELIVERED_CUSTOMER = '5511955550002';
/** The unassigned reply of ARMED_CUSTOMER falls due while PostgreSQL is down. */
const DELAY_SECONDS = 3;
/** What "quickly" means for a webhook refused while PostgreSQL is down. */
const WEBHOOK_BOUND_MS = 2_000;
/** The webhook's own bound on a PostgreSQL that accepts and never answers (production: 10 s), short here. */
const FROZEN_STORE_BOUND_MS = 1_500;

describe('faults: PostgreSQL is unreachable (stopped, then started again)', function () {
  this.timeout(180_000);

  let pgDir = '';
  let pgOptions: Parameters<typeof startEmbeddedPostgres>[0];
  let pg: RunningPostgres | null = null;
  let db: Database | null = null;
  let s: ServiceUnderTest | null = null;
  let client: Client | null = null;
  let armedWorkflowId = '';
  let stoppedAt = 0;
  const redelivered = textWebhook({
    wamid: 'wamid.PGOUT-REDELIVERED',
    from: REDELIVERED_CUSTOMER,
    body: 'are you there?',
    phoneNumberId: PHONE_NUMBER_ID,
  });

  before(async () => {
    pgDir = mkdtempSync(path.join(tmpdir(), 'inbox-autopilot-fault-pg-'));
    pgOptions = { dataDir: pgDir, port: await freePort(), database: 'inbox_autopilot', log: testLog };
    pg = await startEmbeddedPostgres(pgOptions);
    s = await startServiceUnderTest({ DATABASE_URL: pg.url });
    db = createDatabase(pg.url, 2);
    client = await connectClient({ address: s.service.temporalAddress, namespace: 'default' });
    await db('automation_settings').insert({
      phone_number_id: PHONE_NUMBER_ID,
      settings: JSON.stringify({
        unassignedReply: { enabled: true, delaySeconds: DELAY_SECONDS, message: { type: 'text', text: { body: 'Still there?' } } },
      }),
    });
  });

  let frozen: number[] = [];
  const signal = (pids: number[], sig: 'SIGSTOP' | 'SIGCONT') => pids.forEach((pid) => process.kill(pid, sig));

  after(async () => {
    if (frozen.length) signal(frozen, 'SIGCONT');
    if (!pg && pgOptions) pg = await startEmbeddedPostgres(pgOptions).catch(() => null);
    await client?.connection.close();
    await db?.destroy();
    await s?.stop();
    await pg?.stop();
    if (pgDir) rmSync(pgDir, { recursive: true, force: true });
  });

  const health = async () => {
    const started = Date.now();
    const r = await fetch(`${s!.baseUrl}/healthz`);
    return { status: r.status, body: (await r.json()) as Record<string, string>, ms: Date.now() - started };
  };
  const repliesTo = (customer: string) => s!.graph.messageRequests().filter((r) => r.body.to === `+${customer}`);

  it('when PostgreSQL is stopped, then webhooks answer 503 within the bound, /healthz names postgres, and a timer that falls due is not lost', async () => {
    const postedAt = Date.now();
    const opened = await s!.postWebhook(
      textWebhook({ wamid: 'wamid.PGOUT-ARMED', from: ARMED_CUSTOMER, body: 'hello', phoneNumberId: PHONE_NUMBER_ID }),
    );
    assert.equal(opened.status, 200);
    // Opened, routed and its reply's timer armed (the opening runs as local activities, all
    // in one workflow task, which ends with the timer): what retries during the outage is
    // then the reply that falls due. (Stopped right after the routing row, the opening's
    // last local activity would retry instead, and the timer would only start afterwards.)
    const conversation = await eventually(() => db!('conversations').where({ phone_number_id: PHONE_NUMBER_ID }).first(), 15_000, 'the conversation');
    armedWorkflowId = conversation.workflow_id;
    const armed = client!.workflow.getHandle(armedWorkflowId);
    await eventually(
      async () => ((await armed.fetchHistory()).events ?? []).some((e) => e.timerStartedEventAttributes),
      15_000,
      'its reply timer armed',
    );

    stoppedAt = Date.now();
    await pg!.stop();
    pg = null;

    const answers: { status: number; ms: number; body: string; retryAfter: string | null }[] = [];
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const response = await s!.postWebhook(redelivered);
      answers.push({
        status: response.status,
        ms: Date.now() - started,
        body: await response.text(),
        retryAfter: response.headers.get('retry-after'),
      });
    }
    for (const a of answers) {
      assert.equal(a.status, 503, a.body);
      assert.equal(a.retryAfter, '5');
      assert.deepEqual(JSON.parse(a.body), {
        error: {
          code: 'database_unavailable',
          message: 'the database is unreachable; the request was not completed, try again shortly',
          details: [],
        },
      });
    }
    const webhookMs = answers.map((a) => a.ms);
    assert.ok(Math.max(...webhookMs) < WEBHOOK_BOUND_MS, `webhooks answered after ${webhookMs.join(', ')} ms`);

    const down = await health();
    assert.equal(down.status, 503);
    assert.deepEqual(down.body, { status: 'degraded', postgres: 'down', temporal: 'up', whatsappToken: 'ok' });
    assert.ok(down.ms < 3_000, `/healthz took ${down.ms} ms`);

    const read = await s!.api('GET', '/conversations');
    assert.equal(read.status, 503);
    assert.equal(read.body.error.code, 'database_unavailable');

    // The reply falls due now. Its timer fires, and the work it starts (the timeline's
    // local activity, then the send) fails against the missing database and retries in
    // the worker, which keeps the workflow task open meanwhile.
    const dueAt = postedAt + DELAY_SECONDS * 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, dueAt - Date.now())));
    const handle = client!.workflow.getHandle(armedWorkflowId);
    const history = async () => (await handle.fetchHistory()).events ?? [];
    const fired = await eventually(async () => (await history()).find((e) => e.timerFiredEventAttributes), 20_000, 'the reply timer firing');
    await new Promise((r) => setTimeout(r, 5_000));
    const events = await history();
    const description = await handle.describe();
    assert.equal(description.status.name, 'RUNNING', 'the conversation did not fail');
    assert.equal(repliesTo(ARMED_CUSTOMER).length, 0, 'nothing can be sent while the outbound row cannot be written');
    const afterFiring = events.filter((e) => Number(e.eventId) > Number(fired.eventId));
    const sends = afterFiring.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendMessage');
    const pending = description.raw.pendingActivities ?? [];
    console.log(
      `  PostgreSQL down: webhooks 503 in ${webhookMs.join('/')} ms; /healthz 503 in ${down.ms} ms; ` +
        `after the timer fired: ${afterFiring.filter((e) => e.workflowTaskCompletedEventAttributes).length} workflow tasks completed, ` +
        `${sends.length} sends scheduled, pending activities: ${pending.map((a) => `${a.activityType?.name} attempt ${a.attempt}`).join(', ') || 'none'}`,
    );
  });

  it('when PostgreSQL is back, then /healthz is ok, the redelivered webhook has one effect, and the reply due during the outage is sent exactly once', async () => {
    const restartedAt = Date.now();
    pg = await startEmbeddedPostgres(pgOptions);
    const pgUpMs = Date.now() - restartedAt;
    await eventually(async () => (await health()).status === 200, 30_000, '/healthz to be ok again');
    const healthyMs = Date.now() - restartedAt;

    // Meta redelivers what was refused, and (at least once) may deliver it twice.
    const first = await s!.postWebhook(redelivered);
    assert.equal(first.status, 200, await first.text());
    const acceptedMs = Date.now() - restartedAt;
    const again = await s!.postWebhook(redelivered);
    assert.equal(again.status, 200);
    assert.equal((await db!('messages').where({ wamid: 'wamid.PGOUT-REDELIVERED' })).length, 1);

    await eventually(async () => repliesTo(ARMED_CUSTOMER).length > 0, 60_000, 'the reply that fell due during the outage');
    const armedSentMs = Date.now() - restartedAt;
    await eventually(async () => repliesTo(REDELIVERED_CUSTOMER).length > 0, 30_000, 'the reply to the redelivered message');
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal(repliesTo(ARMED_CUSTOMER).length, 1, 'the reply due during the outage: exactly once');
    assert.equal(repliesTo(REDELIVERED_CUSTOMER).length, 1, 'the redelivered message: one conversation, one reply');
    const rows = await db!('messages').where({ phone_number_id: PHONE_NUMBER_ID, direction: 'outbound' }).select('status');
    assert.deepEqual(
      rows.map((r) => r.status),
      ['accepted', 'accepted'],
    );
    console.log(
      `  PostgreSQL back: up in ${pgUpMs} ms; /healthz ok after ${healthyMs} ms; redelivered webhook 200 after ${acceptedMs} ms; ` +
        `reply due during the outage sent ${armedSentMs} ms after the restart (outage ${restartedAt - stoppedAt} ms)`,
    );
  });
  it('when PostgreSQL freezes (accepts, never answers), then a webhook answers 503 at its bound, and after the thaw the redelivery has one effect', async () => {
    // A second API process on the same database, with a short webhook bound.
    const apiDb = createDatabase(pg!.url, 2);
    const store = createStore(apiDb);
    const app = createApp({
      store,
      temporal: client!,
      intake: createWebhookIntake({ store, relay: { nudge: () => undefined }, log: testLog }),
      log: testLog,
      taskQueue: s!.env.TEMPORAL_TASK_QUEUE,
      graph: null,
      sandbox: true,
      apiKeys: ['unused'],
      appSecret: E2E_SECRET,
      verifyToken: 'unused',
      webhookStoreTimeoutMs: FROZEN_STORE_BOUND_MS,
    });
    const server: Server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const body = JSON.stringify(textWebhook({ wamid: 'wamid.PGOUT-FROZEN', from: '5511955550003', body: 'frozen?', phoneNumberId: PHONE_NUMBER_ID }));
    const post = () =>
      fetch(`${url}/webhooks/whatsapp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, E2E_SECRET) },
        body,
      });
    try {
      assert.equal((await apiDb.raw('select 1')).rowCount, 1, 'a pooled connection is open when the freeze comes');
      // The postmaster and every backend of this test's own cluster, by pid.
      const postmaster = Number(readFileSync(path.join(pgDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
      const backends = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' })
        .split('\n')
        .map((l) => Number(l.trim()))
        .filter((pid) => pid > 0);
      frozen = [postmaster, ...backends];
      signal(frozen, 'SIGSTOP');

      const started = Date.now();
      const response = await post();
      const answeredMs = Date.now() - started;
      assert.equal(response.status, 503, await response.text());
      assert.ok(answeredMs >= FROZEN_STORE_BOUND_MS - 50 && answeredMs < FROZEN_STORE_BOUND_MS + 1_500, `answered after ${answeredMs} ms`);
      const h = await health();
      assert.equal(h.status, 503);
      assert.equal(h.body.postgres, 'down');
      assert.ok(h.ms < 3_000, `/healthz took ${h.ms} ms with PostgreSQL frozen`);

      signal(frozen, 'SIGCONT');
      frozen = [];
      await eventually(async () => (await health()).status === 200, 30_000, '/healthz after the thaw');
      const again = await post();
      assert.equal(again.status, 200, await again.text());
      assert.equal((await db!('messages').where({ wamid: 'wamid.PGOUT-FROZEN' })).length, 1, 'the late store and the redelivery: one message');
      console.log(`  PostgreSQL frozen: webhook 503 after ${answeredMs} ms (bound ${FROZEN_STORE_BOUND_MS} ms); /healthz 503 in ${h.ms} ms`);
    } finally {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await apiDb.destroy();
    }
  });
});
