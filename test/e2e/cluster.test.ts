/**
 * The production topology, run for real (`npm run start:cluster`): a real Temporal server
 * v1.29.1 on PostgreSQL with advanced visibility (schemas by Temporal's SQL tool), two
 * worker processes and two API processes. Provisions the server itself on a fresh machine
 * (`go install`, a few minutes once; then cached in ~/.cache/inbox-autopilot).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { startCluster, type RunningCluster } from '../../src/cluster';
import { createDatabase } from '../../src/db/knex';
import { freePort } from '../../src/ports';
import { ensureTemporalServer } from '../../src/provisioning/temporal-server';
import { signWebhookBody } from '../../src/whatsapp/signature';
import { testLog } from '../support/environment';
import { FakeGraphApi } from '../support/fake-graph-api';
import { textWebhook } from '../support/running-service';

const SECRET = 'cluster-app-secret';
const NUMBER = '222000881';

describe('production topology: Temporal server 1.29.1 on PostgreSQL, 2 workers, 2 APIs', function () {
  let cluster: RunningCluster;
  let graph: FakeGraphApi;
  let dataDir: string;

  before(async function () {
    this.timeout(20 * 60_000); // the first run builds the server
    await ensureTemporalServer();
    graph = await new FakeGraphApi().start();
    dataDir = mkdtempSync(path.join(tmpdir(), 'inbox-autopilot-cluster-'));
    cluster = await startCluster({
      dataDir,
      apiPorts: [await freePort(), await freePort()],
      metricsPorts: [await freePort(), await freePort()],
      temporalPort: await freePort(),
      postgresPort: await freePort(),
      env: {
        WHATSAPP_ACCESS_TOKEN: 'cluster-token',
        WHATSAPP_API_BASE_URL: graph.url,
        WHATSAPP_APP_SECRET: SECRET,
        WHATSAPP_CONTACT_INTERVAL_MS: '0',
        API_KEYS: 'cluster-key',
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
      },
      output: 'ignore',
      log: testLog,
    });
  });
  after(async function () {
    this.timeout(120_000);
    await cluster?.stop();
    await graph?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs conversations through either API, answered by the workers, visible in advanced visibility', async function () {
    this.timeout(120_000);
    const db = createDatabase(cluster.databaseUrl, 2);
    try {
      await db('automation_settings')
        .insert({
          phone_number_id: NUMBER,
          settings: JSON.stringify({ unassignedReply: { enabled: true, delaySeconds: 1, message: { type: 'text', text: { body: 'On our way!' } } } }),
        })
        .onConflict('phone_number_id')
        .merge();
    } finally {
      await db.destroy();
    }
    const customers = ['5511970008801', '5511970008802'];
    for (const [i, customer] of customers.entries()) {
      const body = JSON.stringify(textWebhook({ wamid: `wamid.CLUSTER-${Date.now()}-${i}`, from: customer, body: 'hello', phoneNumberId: NUMBER }));
      const response = await fetch(`${cluster.apiUrls[i]}/webhooks/whatsapp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, SECRET) },
        body,
      });
      assert.equal(response.status, 200);
    }
    const replies = await graph.waitForMessages(2, 60_000);
    assert.deepEqual(replies.map((r) => r.body.to).sort(), customers.map((c) => `+${c}`).sort());
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(graph.messageRequests().length, 2, 'each reply once');

    const connection = await Connection.connect({ address: cluster.temporalAddress });
    try {
      const client = new Client({ connection, namespace: 'default' });
      let found = 0;
      for (let i = 0; i < 50 && found < 2; i++) {
        found = 0;
        for await (const _ of client.workflow.list({
          query: `WorkflowType = "conversationWorkflow" AND PhoneNumberId = "${NUMBER}" AND ConversationStatus = "unassigned"`,
        }))
          found++;
        if (found < 2) await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(found, 2, 'both conversations found by their search attributes');
    } finally {
      await connection.close();
    }
    // Each worker serves its metrics: ours (sends, timer lateness) and the Temporal SDK's.
    // (counted once the send is recorded, a moment after Meta has it)
    let pages: string[] = [];
    let sends = 0;
    for (let i = 0; i < 100 && sends < 2; i++) {
      pages = await Promise.all(cluster.metricsUrls.map(async (url) => (await fetch(url)).text()));
      sends = pages
        .map((p) => Number(/^inbox_autopilot_sends_total\{outcome="accepted",automation="unassigned_reply"\} (\d+)/m.exec(p)?.[1] ?? 0))
        .reduce((a, b) => a + b, 0);
      if (sends < 2) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(sends, 2, 'two sends counted across the workers');
    for (const page of pages) assert.match(page, /^temporal_[a-z_]+/m, 'the SDK worker metrics are on the page');
  });

  it('when every connection pool of the topology is full at once, then PostgreSQL still admits one more', async function () {
    this.timeout(120_000);
    // What may connect, from what the topology was given: the Temporal server's pools, per
    // service (its config file), and the four node processes at DATABASE_POOL_MAX (20, unset here).
    const config = JSON.parse(readFileSync(path.join(dataDir, 'temporal-server', 'config', 'cluster.yaml'), 'utf8')) as {
      services: Record<string, unknown>;
      persistence: { datastores: Record<string, { sql: { maxConns: number } }> };
    };
    const perService = Object.values(config.persistence.datastores).reduce((sum, store) => sum + store.sql.maxConns, 0);
    const mostOpenAtOnce = Object.keys(config.services).length * perService + 4 * 20;
    const admin = () => new pg.Client({ connectionString: cluster.databaseUrl });
    const held: pg.Client[] = [];
    try {
      const probe = admin();
      await probe.connect();
      held.push(probe);
      const open = Number((await probe.query(`SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'`)).rows[0].count);
      // Fill up to what every pool could hold at once (those open now are part of it), then one more.
      for (let i = open; i < mostOpenAtOnce; i++) {
        const client = admin();
        await client.connect();
        held.push(client);
      }
      const oneMore = admin();
      await oneMore.connect();
      held.push(oneMore);
      assert.equal((await oneMore.query('SELECT 1 AS ok')).rows[0].ok, 1);
    } finally {
      await Promise.all(held.map((c) => c.end().catch(() => undefined)));
    }
  });
});
