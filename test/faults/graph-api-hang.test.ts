/**
 * The Graph API accepts the connection and never answers, or answers slowly (issue 10,
 * item 2). The send gives up after its time-out, the send activity retries it (the
 * `whatsapp` profile in workflows/activity-profiles.ts), and the conversation's later
 * messages wait behind it, in order. A send that times out may have reached Meta: it is
 * retried all the same (README, "When Meta does not answer").
 *
 * Real parts: the service as `npm start` assembles it (Temporal CLI dev server, worker,
 * PostgreSQL, Express, the HTTP API for the agent's claim and reply), and the fake Graph
 * API over HTTP, made to hang or to answer late.
 */
import assert from 'node:assert/strict';
import { GRAPH_REQUEST_TIMEOUT_MS, graphRequestTimeoutFromEnv } from '../../src/whatsapp/graph-client';
import { eventually } from '../support/conversation-harness';
import { startServiceUnderTest, textWebhook, type ServiceUnderTest } from '../support/running-service';

/** Short, so the test takes seconds; production uses GRAPH_REQUEST_TIMEOUT_MS (15 s). */
const GRAPH_TIMEOUT_MS = 1_000;
const PHONE_NUMBER_ID = '666000101';
const UNASSIGNED_REPLY = 'Thanks for your message! Our team is away right now; we will reply as soon as someone is available.';
const AGENT_REPLY = 'Hi, Ana here. How can I help?';

describe('faults: the Graph API hangs or is slow', function () {
  this.timeout(180_000);
  let s: ServiceUnderTest | null = null;
  let previousTimeout: string | undefined;

  before(async () => {
    // Read by the Graph client when the service builds it (src/whatsapp/graph-client.ts).
    previousTimeout = process.env.WHATSAPP_REQUEST_TIMEOUT_MS;
    process.env.WHATSAPP_REQUEST_TIMEOUT_MS = String(GRAPH_TIMEOUT_MS);
    s = await startServiceUnderTest();
    const agent = await s.api('PUT', '/agents/hang-ana', { name: 'Ana', receptionLimit: 2, status: 'offline' });
    assert.ok(agent.status === 200 || agent.status === 201, JSON.stringify(agent.body));
  });
  after(async () => {
    if (previousTimeout === undefined) delete process.env.WHATSAPP_REQUEST_TIMEOUT_MS;
    else process.env.WHATSAPP_REQUEST_TIMEOUT_MS = previousTimeout;
    await s?.stop();
  });
  afterEach(() => s?.graph.reset());

  const textOf = (body: Record<string, unknown>) => (body.text as { body?: string } | undefined)?.body;
  const sendsTo = (customer: string) => s!.graph.messageRequests().filter((r) => r.body.to === `+${customer}`);
  const conversationOf = (customer: string) =>
    eventually(
      async () => {
        const r = await s!.api('GET', `/conversations?phoneNumberId=${PHONE_NUMBER_ID}&q=${customer}`);
        return r.body.conversations?.[0];
      },
      15_000,
      `the conversation of ${customer}`,
    );

  it("when Meta never answers the first send, then it times out, is retried and accepted once, and the agent's reply goes out only after it", async () => {
    const customer = '5511944440001';
    s!.graph.hangFirstMessages(1);
    const posted = await s!.postWebhook(
      textWebhook({ wamid: 'wamid.HANG-1', from: customer, body: 'hello? anyone there', phoneNumberId: PHONE_NUMBER_ID }),
    );
    assert.equal(posted.status, 200);
    const hung = await eventually(async () => s!.graph.hung[0], 30_000, 'the first send to reach the fake and hang');
    assert.equal(textOf(hung.body), UNASSIGNED_REPLY);
    const conversation = await conversationOf(customer);

    // While the unassigned reply hangs, an agent claims the conversation and replies.
    const claim = await s!.api('POST', `/conversations/${conversation.id}/claim`, { agentId: 'hang-ana' });
    assert.equal(claim.status, 200, JSON.stringify(claim.body));
    const reply = await s!.api('POST', `/conversations/${conversation.id}/messages`, {
      agentId: 'hang-ana',
      message: { type: 'text', text: { body: AGENT_REPLY } },
    });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    assert.equal(reply.body.status, 'accepted');

    const sends = sendsTo(customer);
    assert.deepEqual(
      sends.map((r) => textOf(r.body)),
      [UNASSIGNED_REPLY, UNASSIGNED_REPLY, AGENT_REPLY],
      'the hung send, its retry, then the reply: in order',
    );
    const [first, retry, agentReply] = sends;
    assert.ok(retry.at - first.at >= GRAPH_TIMEOUT_MS, `retried ${retry.at - first.at} ms after the hung send: not before its time-out`);
    assert.ok(agentReply.at >= retry.at, 'the reply waited behind the retried send');

    // One row per message, each with the wamid of the attempt Meta answered.
    const detail = await s!.api('GET', `/conversations/${conversation.id}`);
    const outbound = (detail.body.messages as { direction: string; automation: string | null; status: string; wamid?: string }[]).filter(
      (m) => m.direction === 'outbound',
    );
    assert.deepEqual(
      outbound.map((m) => [m.automation, m.status]),
      [
        ['unassigned_reply', 'accepted'],
        [null, 'accepted'],
      ],
    );
    // Nothing more is sent afterwards.
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(sendsTo(customer).length, 3);
    console.log(
      `  hung send → retry ${retry.at - first.at} ms (time-out ${GRAPH_TIMEOUT_MS} ms + 2 s backoff); the reply ${agentReply.at - retry.at} ms after the retry`,
    );
  });

  it('when Meta answers slowly but within the time-out, then the send is accepted with no retry', async () => {
    const customer = '5511944440002';
    s!.graph.delayWhen((r) => r.body.to === `+${customer}`, GRAPH_TIMEOUT_MS / 2);
    const posted = await s!.postWebhook(textWebhook({ wamid: 'wamid.SLOW-1', from: customer, body: 'hi', phoneNumberId: PHONE_NUMBER_ID }));
    assert.equal(posted.status, 200);
    const conversation = await conversationOf(customer);
    const accepted = await eventually(
      async () => {
        const detail = await s!.api('GET', `/conversations/${conversation.id}`);
        return (detail.body.messages as { direction: string; status: string; automation: string | null }[]).find(
          (m) => m.direction === 'outbound' && m.status === 'accepted',
        );
      },
      30_000,
      'the slow send accepted',
    );
    assert.equal(accepted.automation, 'unassigned_reply');
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(sendsTo(customer).length, 1, 'answered within the time-out: sent once');
  });

  it('when WHATSAPP_REQUEST_TIMEOUT_MS is unset, then 15 s; when it is not a whole number of ms in range, then the error names it', () => {
    assert.equal(graphRequestTimeoutFromEnv({}), GRAPH_REQUEST_TIMEOUT_MS);
    assert.equal(graphRequestTimeoutFromEnv({ WHATSAPP_REQUEST_TIMEOUT_MS: ' 2500 ' }), 2500);
    for (const bad of ['soon', '1.5', '50', '60000', '-1']) {
      assert.throws(
        () => graphRequestTimeoutFromEnv({ WHATSAPP_REQUEST_TIMEOUT_MS: bad }),
        /^Error: WHATSAPP_REQUEST_TIMEOUT_MS: must be a whole number of milliseconds from 100 to 55000/,
      );
    }
  });
});
