/**
 * GET /metrics on the service as `npm start` runs it: a fired timer is counted in the
 * lateness histogram of its rule, the webhook's acknowledgement in its histogram, the
 * send by its outcome; the relay backlog, open conversations and the SDK's worker metrics
 * are on the page.
 */
import assert from 'node:assert/strict';
import { type ServiceUnderTest, startServiceUnderTest, textWebhook } from '../support/running-service';

const NUMBER = '222000771';

describe('GET /metrics (the whole service: dev server, worker, Express, PostgreSQL)', function () {
  let s: ServiceUnderTest;
  before(async () => {
    s = await startServiceUnderTest();
    await s.db('automation_settings').insert({
      phone_number_id: NUMBER,
      settings: JSON.stringify({ unassignedReply: { enabled: true, delaySeconds: 1, message: { type: 'text', text: { body: 'Soon!' } } } }),
    });
  });
  after(() => s?.stop());

  const sample = (page: string, name: string, labels: string) => {
    const line = page.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  };

  it('counts a fired timer in the lateness histogram of its rule, beside the ack and the send', async () => {
    const response = await s.postWebhook(
      textWebhook({ wamid: `wamid.METRICS-${Date.now()}`, from: '5511970001234', body: 'hello?', phoneNumberId: NUMBER }),
    );
    assert.equal(response.status, 200);
    await s.graph.waitForMessages(1, 30_000);
    let page = '';
    for (let i = 0; i < 50; i++) {
      page = await (await fetch(`${s.baseUrl}/metrics`)).text();
      if (sample(page, 'inbox_autopilot_sends_total', 'outcome="accepted"')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(sample(page, 'inbox_autopilot_timer_lateness_seconds_count', 'rule="unassigned_reply"'), 1, 'one fired timer counted');
    assert.equal(sample(page, 'inbox_autopilot_timer_lateness_seconds_bucket', 'le="5",rule="unassigned_reply"'), 1, 'within 5 s of its deadline');
    assert.equal(sample(page, 'inbox_autopilot_sends_total', 'outcome="accepted",automation="unassigned_reply"'), 1);
    assert.equal(sample(page, 'inbox_autopilot_webhook_ack_seconds_count', 'status="200"'), 1);
    assert.match(page, /^inbox_autopilot_relay_backlog 0$/m);
    assert.match(page, /^inbox_autopilot_open_conversations\{phone_number_id="222000771",status="unassigned"\} 1$/m);
  });
});
