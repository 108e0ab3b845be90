/**
 * Temporal unreachable (issue 10, item 2): the Temporal dev server is stopped under a
 * running service and started again on the same data.
 *
 * While it is down: webhooks are still answered 200 once the messages are durable in
 * PostgreSQL (the inbound relay holds them), API reads keep working from PostgreSQL,
 * conversation actions answer 503 with a SPEC §6 error within a bound (not a 500 after the
 * SDK's ~20 s of gRPC retries), and /healthz names Temporal as the part that is down.
 * When it is back: every message acknowledged during the outage reaches its workflow
 * exactly once, in order per contact, and actions work again.
 *
 * Real parts: the Temporal CLI dev server (stopped with SIGTERM, restarted on its SQLite
 * file), PostgreSQL, the service as `npm start` assembles it (worker, relay, Express), and
 * the fake Graph API on loopback.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../src/temporal/client';
import { type RunningDevServer, startDevServer } from '../../src/temporal/dev-server';
import { freePort } from '../../src/ports';
import { conversationWorkflowId, customerMessageSignal } from '../../workflows/conversation/contract';
import { eventually } from '../support/conversation-harness';
import { testLog } from '../support/environment';
import { startServiceUnderTest, textWebhook, type ServiceUnderTest } from '../support/running-service';

const PHONE_NUMBER_ID = '444000101';
const CUSTOMERS = ['5511966660001', '5511966660002', '5511966660003'];
const MESSAGES_PER_CUSTOMER = 3;
/** What "quickly" means for an action refused while Temporal is down (the probe is 2 s). */
const ACTION_BOUND_MS = 4_000;

describe('faults: Temporal is unreachable (dev server stopped, then started again)', function () {
  this.timeout(180_000);

  let temporalDir = '';
  let devOptions: Parameters<typeof startDevServer>[0];
  let dev: RunningDevServer | null = null;
  let s: ServiceUnderTest | null = null;
  let client: Client | null = null;
  let firstConversationId = '';
  let serial = 0;
  /** wamids posted during the outage, per customer, in the order the customer wrote them. */
  const outageWamids = new Map<string, string[]>();

  before(async () => {
    temporalDir = mkdtempSync(path.join(tmpdir(), 'inbox-autopilot-fault-temporal-'));
    devOptions = { dataDir: temporalDir, port: await freePort(), uiPort: await freePort(), namespace: 'default', log: testLog };
    dev = await startDevServer(devOptions);
    s = await startServiceUnderTest({ TEMPORAL_ADDRESS: dev.address });
    const agent = await s.api('PUT', '/agents/outage-ana', { name: 'Ana', receptionLimit: 2, status: 'offline' });
    assert.ok(agent.status === 200 || agent.status === 201, JSON.stringify(agent.body));
    // One conversation opened before the outage, to read and act on during it.
    const opened = await s.postWebhook(
      textWebhook({ wamid: `wamid.TOUT-${++serial}`, from: CUSTOMERS[0], body: 'before', phoneNumberId: PHONE_NUMBER_ID }),
    );
    assert.equal(opened.status, 200);
    await s.graph.waitForMessages(1, 30_000);
    const list = await eventually(async () => {
      const r = await s!.api('GET', `/conversations?phoneNumberId=${PHONE_NUMBER_ID}`);
      return r.body.conversations?.length === 1 ? r.body.conversations : undefined;
    });
    firstConversationId = list[0].id;
  });

  after(async () => {
    // The service stops cleanly only with Temporal there to release its worker.
    if (!dev && devOptions) dev = await startDevServer(devOptions).catch(() => null);
    await client?.connection.close();
    await s?.stop();
    await dev?.stop();
    if (temporalDir) rmSync(temporalDir, { recursive: true, force: true });
  });

  const health = async () => {
    const started = Date.now();
    const r = await fetch(`${s!.baseUrl}/healthz`);
    return { status: r.status, body: (await r.json()) as Record<string, string>, ms: Date.now() - started };
  };
  const timed = async <T>(fn: () => Promise<T>) => {
    const started = Date.now();
    const value = await fn();
    return { value, ms: Date.now() - started };
  };

  it('when the dev server is stopped, then webhooks are acknowledged once stored, reads work, actions answer 503 within the bound, and /healthz names temporal', async () => {
    await dev!.stop();
    dev = null;
    const down = await eventually(async () => {
      const h = await health();
      return h.status === 503 ? h : undefined;
    }, 10_000);
    assert.deepEqual(down.body, { status: 'degraded', postgres: 'up', temporal: 'down', whatsappToken: 'ok' });
    assert.ok(down.ms < 3_000, `/healthz took ${down.ms} ms`);

    // Each customer writes three times, one webhook each, while Temporal is gone.
    const answerMs: number[] = [];
    const base = Math.floor(Date.now() / 1000);
    for (let i = 0; i < MESSAGES_PER_CUSTOMER; i++) {
      for (const customer of CUSTOMERS) {
        const wamid = `wamid.TOUT-${++serial}`;
        outageWamids.set(customer, [...(outageWamids.get(customer) ?? []), wamid]);
        const { value: response, ms } = await timed(() =>
          s!.postWebhook(textWebhook({ wamid, from: customer, body: `during ${i}`, timestamp: base + i, phoneNumberId: PHONE_NUMBER_ID })),
        );
        answerMs.push(ms);
        assert.equal(response.status, 200, await response.text());
      }
    }
    const stored = await s!
      .db('messages')
      .whereIn('wamid', [...outageWamids.values()].flat())
      .whereNull('delivered_to_workflow_at')
      .count<{ count: string }[]>('* as count');
    assert.equal(Number(stored[0].count), CUSTOMERS.length * MESSAGES_PER_CUSTOMER, 'all stored, none handed over yet');

    // Reads come from PostgreSQL.
    const list = await s!.api('GET', `/conversations?phoneNumberId=${PHONE_NUMBER_ID}`);
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.conversations.map((c: { id: string }) => c.id),
      [firstConversationId],
    );
    const { value: detail, ms: detailMs } = await timed(() => s!.api('GET', `/conversations/${firstConversationId}`));
    assert.equal(detail.status, 200);
    assert.equal(detail.body.id, firstConversationId);
    assert.equal(detail.body.timers, null, 'the armed timers live in the workflow: unknown while Temporal is down');

    // Actions need the workflow: 503 with a clear error, quickly.
    const actions: [string, unknown][] = [
      ['claim', { agentId: 'outage-ana' }],
      ['assign', { agentId: 'outage-ana' }],
      ['close', {}],
    ];
    const actionMs: number[] = [];
    for (const [action, body] of actions) {
      const started = Date.now();
      const response = await fetch(`${s!.baseUrl}/api/conversations/${firstConversationId}/${action}`, {
        method: 'POST',
        headers: { authorization: 'Bearer e2e-api-key', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      actionMs.push(Date.now() - started);
      assert.equal(response.status, 503, `${action}: ${response.status}`);
      assert.equal(response.headers.get('retry-after'), '5');
      const error = ((await response.json()) as { error: { code: string; message: string; details: unknown[] } }).error;
      assert.equal(error.code, 'temporal_unavailable');
      assert.match(error.message, /Temporal is unreachable .*not applied/);
      assert.deepEqual(error.details, []);
    }
    assert.ok(Math.max(...actionMs) < ACTION_BOUND_MS, `actions answered after ${actionMs.join(', ')} ms`);
    const sorted = [...answerMs].sort((a, b) => a - b);
    console.log(
      `  Temporal down: ${answerMs.length} webhooks all 200, median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted.at(-1)} ms; ` +
        `actions 503 in ${actionMs.join('/')} ms; conversation detail ${detailMs} ms; /healthz 503 in ${down.ms} ms`,
    );
  });

  it('when the dev server is back, then every message acknowledged during the outage reaches its workflow exactly once, in order per contact, and actions work again', async () => {
    const restartedAt = Date.now();
    dev = await startDevServer(devOptions);
    const devUpMs = Date.now() - restartedAt;
    client = await connectClient({ address: dev.address, namespace: 'default' });

    await eventually(async () => (await health()).status === 200, 60_000, '/healthz to be ok again');
    const healthyMs = Date.now() - restartedAt;

    const contactIdOf = async (customer: string) =>
      (await s!.db('contacts').where({ phone_number_id: PHONE_NUMBER_ID, wa_id: customer }).first('id')).id as string;
    const signalledMessageIds = async (contactId: string): Promise<string[]> => {
      const history = await client!.workflow.getHandle(conversationWorkflowId(PHONE_NUMBER_ID, contactId)).fetchHistory();
      return (history.events ?? []).flatMap((e) => {
        const signal = e.workflowExecutionSignaledEventAttributes;
        if (signal?.signalName !== customerMessageSignal.name) return [];
        const payload = signal.input?.payloads?.[0];
        return [(JSON.parse(Buffer.from(payload!.data!).toString('utf8')) as { messageId: string }).messageId];
      });
    };
    const messageIdsOf = async (wamids: string[]) => {
      const rows = await s!.db('messages').whereIn('wamid', wamids).select('id', 'wamid');
      return wamids.map((w) => String(rows.find((r) => r.wamid === w)!.id));
    };

    for (const [index, customer] of CUSTOMERS.entries()) {
      const contactId = await contactIdOf(customer);
      const expected = await messageIdsOf([...(index === 0 ? ['wamid.TOUT-1'] : []), ...outageWamids.get(customer)!]);
      const got = await eventually(
        async () => {
          const ids = await signalledMessageIds(contactId).catch(() => []);
          return ids.length >= expected.length ? ids : undefined;
        },
        60_000,
        `the messages of ${customer} in its workflow`,
      );
      assert.deepEqual(got, expected, `customer ${customer}: each message once, in the order written`);
    }
    const deliveredMs = Date.now() - restartedAt;
    const pending = await s!.db('messages').whereNotNull('relay_kind').whereNull('delivered_to_workflow_at').count<{ count: string }[]>('* as count');
    assert.equal(Number(pending[0].count), 0, 'nothing left pending in the relay');

    // The two new customers get their unassigned reply once each; the first keeps its one.
    await s!.graph.waitForMessages(CUSTOMERS.length, 30_000);
    await new Promise((r) => setTimeout(r, 1_500));
    assert.deepEqual(
      CUSTOMERS.map((c) => s!.graph.messageRequests().filter((r) => r.body.to === `+${c}`).length),
      [1, 1, 1],
    );

    const claim = await s!.api('POST', `/conversations/${firstConversationId}/claim`, { agentId: 'outage-ana' });
    assert.equal(claim.status, 200, JSON.stringify(claim.body));
    assert.equal(claim.body.agentId, 'outage-ana');
    console.log(
      `  Temporal back: dev server up in ${devUpMs} ms, /healthz ok after ${healthyMs} ms, outage backlog delivered after ${deliveredMs} ms`,
    );
  });
});
