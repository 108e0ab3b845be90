/**
 * Outbound events (SPEC §9) through the running service: a real subscriber on loopback,
 * real PostgreSQL triggers, the delivery workflow on the real Temporal dev server.
 */
import assert from 'node:assert/strict';
import { eventually } from '../support/conversation-harness';
import { EventReceiver, type ReceivedDelivery } from '../support/event-receiver';
import { type ServiceUnderTest, startServiceUnderTest, textWebhook } from '../support/running-service';
import { csatRowId } from '../../workflows/rules/conversation-machine';
import { OUTBOUND_EVENT_TYPES } from '../../workflows/rules/vocabulary';

const NUMBER = '106540352255501';
const SKIP_NUMBER = '106540352255502';
const SECRET = 'receiver-secret-0123456789';
const text = (body: string) => ({ type: 'text', text: { body } });

function webhookValue(value: object): object {
  return { object: 'whatsapp_business_account', entry: [{ id: 'WABA', changes: [{ field: 'messages', value }] }] };
}

describe('outbound events (SPEC §9) against the running service', function () {
  this.timeout(240_000);
  let s: ServiceUnderTest;
  let receiver: EventReceiver;
  before(async () => {
    receiver = await new EventReceiver().start();
    s = await startServiceUnderTest();
  });
  after(async () => {
    await s?.stop();
    await receiver?.stop();
  });

  const subscribe = (id: string, body: object) => s.api('PUT', `/webhooks/${id}`, { secret: SECRET, ...body });

  it('when a subscription is saved with bad fields, then 400 names each one and nothing is saved; the secret is never returned', async () => {
    const bad = await s.api('PUT', '/webhooks/bad', {
      url: 'http://hooks.example.com/x',
      secret: 'short',
      events: ['message.received', 'message.exploded'],
      phoneNumberIds: [],
    });
    assert.equal(bad.status, 400);
    const fields = bad.body.error.details.map((d: { field: string }) => d.field).sort();
    assert.deepEqual(fields, ['events[1]', 'phoneNumberIds', 'secret', 'url']);
    assert.equal((await s.api('GET', '/webhooks/bad')).status, 404);

    const created = await subscribe('valid', { url: `${receiver.url}/valid`, events: ['agent.status'], enabled: false });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.secret, undefined);
    assert.equal((await subscribe('valid', { url: `${receiver.url}/valid`, events: ['agent.status'], enabled: false })).status, 200);
    const listed = await s.api('GET', '/webhooks');
    assert.ok(!JSON.stringify(listed.body).includes(SECRET), 'no secret in the list');
    assert.equal((await s.api('DELETE', '/webhooks/valid')).status, 204);
    assert.equal((await s.api('DELETE', '/webhooks/valid')).status, 404);
  });

  it('when a conversation is opened, queued, assigned, replied, auto-closed and surveyed, then each fact is delivered once, in order, signed', async () => {
    const put = await subscribe('all', { url: `${receiver.url}/all`, events: [...OUTBOUND_EVENT_TYPES], phoneNumberIds: [NUMBER] });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    await s.api('PUT', `/numbers/${NUMBER}/automation`, {
      queueReply: { enabled: true, message: text('You are in the queue') },
      autoClose: { enabled: true, afterMinutes: 1 },
      csat: { enabled: true, body: 'How did we do?', buttonText: 'Rate us' },
    });
    // Ann is full with a first customer, so the second one queues, then goes to Bob.
    await s.api('PUT', '/agents/ev-ann', { name: 'Ann', receptionLimit: 1, status: 'online', phoneNumberIds: [NUMBER] });
    assert.equal(
      (await s.postWebhook(textWebhook({ wamid: 'wamid.EV-1', from: '5511700000001', body: 'first', phoneNumberId: NUMBER }))).status,
      200,
    );
    const first = await eventually(
      () => s.db('conversations').where({ phone_number_id: NUMBER, status: 'assigned' }).first(),
      15_000,
      'first assigned',
    );
    assert.equal(
      (await s.postWebhook(textWebhook({ wamid: 'wamid.EV-2', from: '5511700000002', body: 'help me', phoneNumberId: NUMBER }))).status,
      200,
    );
    const second = await eventually(
      () => s.db('conversations').where({ phone_number_id: NUMBER, status: 'queued' }).first(),
      15_000,
      'second queued',
    );
    await s.api('PUT', '/agents/ev-bob', { name: 'Bob', receptionLimit: 1, status: 'online', phoneNumberIds: [NUMBER] });
    await eventually(() => s.db('conversations').where({ id: second.id, status: 'assigned', agent_id: 'ev-bob' }).first(), 15_000, 'second assigned');
    const reply = await s.api('POST', `/conversations/${second.id}/messages`, { agentId: 'ev-bob', message: text('Bob here') });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    const wamid = (await s.db('messages').where({ conversation_id: second.id, author: 'agent' }).first()).wamid as string;
    const status = webhookValue({
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '1', phone_number_id: NUMBER },
      statuses: [{ id: wamid, status: 'delivered', timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: '5511700000002' }],
    });
    assert.equal((await s.postWebhook(status)).status, 200);
    assert.equal((await s.postWebhook(status)).status, 200, 'a redelivered status is one fact');

    // R9 closes a minute after Bob's reply; R10 sends the survey; the customer taps 4, twice.
    await eventually(() => s.db('conversations').where({ id: second.id, status: 'closed' }).first(), 90_000, 'auto-closed');
    await eventually(
      () => s.db('messages').where({ conversation_id: second.id, automation: 'csat', status: 'accepted' }).first(),
      15_000,
      'survey sent',
    );
    for (const id of ['wamid.EV-CSAT-1', 'wamid.EV-CSAT-2']) {
      const answer = webhookValue({
        messaging_product: 'whatsapp',
        metadata: { display_phone_number: '1', phone_number_id: NUMBER },
        contacts: [{ wa_id: '5511700000002', profile: { name: 'x' } }],
        messages: [
          {
            from: '5511700000002',
            id,
            timestamp: String(Math.floor(Date.now() / 1000)),
            type: 'interactive',
            interactive: { type: 'list_reply', list_reply: { id: csatRowId(second.id, 4), title: '4' } },
          },
        ],
      });
      assert.equal((await s.postWebhook(answer)).status, 200);
    }
    const ofSecond = (list: ReceivedDelivery[]) => list.filter((d) => d.event.data.conversationId === second.id);
    await eventually(async () => ofSecond(receiver.at('/all')).some((d) => d.event.type === 'csat.answered'), 15_000, 'csat.answered delivered');
    await new Promise((r) => setTimeout(r, 1000)); // anything doubled would arrive by now

    const all = receiver.at('/all');
    for (const d of all) {
      assert.ok(EventReceiver.verifies(d, SECRET), `signature of ${d.event.type}`);
      assert.equal(d.headers.eventId, d.event.id);
    }
    assert.equal(new Set(all.map((d) => d.event.id)).size, all.length, 'no event delivered twice');

    const events = ofSecond(all).map((d) => d.event);
    const describe = (e: ReceivedDelivery['event']) =>
      e.type === 'conversation.routed' ? `routed:${e.data.status}` : e.type === 'message.sent' ? `sent:${e.data.message.author}` : e.type;
    const story = events.map(describe);
    console.log(`      events of the queued conversation: ${story.join(', ')}`);
    const once = (name: string) => assert.equal(story.filter((x) => x === name).length, 1, `${name} once in ${story.join(', ')}`);
    for (const name of [
      'conversation.opened',
      'routed:queued',
      'routed:assigned',
      'sent:agent',
      'message.status',
      'conversation.closed',
      'csat.answered',
    ]) {
      once(name);
    }
    assert.equal(story.filter((x) => x === 'sent:automation').length, 2, 'the queue message and the survey');
    // The customer's message, then the two taps on the survey (each a message of its own).
    assert.equal(story.filter((x) => x === 'message.received').length, 3);
    // In order per conversation: as the facts happened.
    const order = (name: string) => story.indexOf(name);
    assert.equal(order('conversation.opened'), 0);
    assert.ok(order('routed:queued') < order('routed:assigned'));
    assert.ok(order('routed:assigned') < order('sent:agent'));
    assert.ok(order('sent:agent') < order('message.status'));
    assert.ok(order('message.status') < order('conversation.closed'));
    assert.ok(order('conversation.closed') < order('csat.answered'));
    assert.equal(story.lastIndexOf('sent:automation'), order('conversation.closed') + 1, 'the survey follows the close');
    const times = events.map((e) => Date.parse(e.occurredAt));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      'delivered in the order they occurred',
    );

    const received = events.find((e) => e.type === 'message.received')!;
    assert.equal(story.indexOf('message.received'), 1);
    assert.equal(received.data.message.content.kind, 'text');
    assert.equal(received.data.message.content.body, 'help me');
    assert.equal(received.data.conversationStatus, 'unassigned', 'received before it was routed');
    assert.equal(received.data.contact.waId, '5511700000002');
    assert.equal(events.find((e) => e.type === 'conversation.closed')!.data.closeReason, 'auto_close');
    assert.equal(events.find((e) => e.type === 'csat.answered')!.data.score, 4);
    assert.equal(
      events.find((e) => e.type === 'routed:assigned' || (e.type === 'conversation.routed' && e.data.status === 'assigned'))!.data.agentId,
      'ev-bob',
    );
    const agentEvents = all.filter((d) => d.event.type === 'agent.status').map((d) => `${d.event.data.agentId}:${d.event.data.status}`);
    assert.deepEqual(agentEvents, ['ev-ann:online', 'ev-bob:online']);
    assert.ok(
      all.some((d) => d.event.data.conversationId === first.id && d.event.type === 'conversation.routed'),
      'the first conversation too',
    );
    assert.ok(!all.some((d) => d.event.data.phoneNumberId && d.event.data.phoneNumberId !== NUMBER), 'only its number');
  });

  it('when an automation is skipped (outside the window), then automation.skipped is delivered with the reason', async () => {
    await subscribe('skips', { url: `${receiver.url}/skips`, events: ['automation.skipped'], phoneNumberIds: [SKIP_NUMBER] });
    await s.api('PUT', `/numbers/${SKIP_NUMBER}/automation`, {
      unassignedReply: { enabled: true, delaySeconds: 0, message: text('We will answer soon') },
    });
    // A message written 25 hours ago, delivered late by Meta: the window has already closed.
    const old = Math.floor(Date.now() / 1000) - 25 * 3600;
    assert.equal(
      (await s.postWebhook(textWebhook({ wamid: 'wamid.EV-OLD', from: '5511700000009', body: 'hi', phoneNumberId: SKIP_NUMBER, timestamp: old })))
        .status,
      200,
    );
    const [skipped] = await eventually(async () => (receiver.at('/skips').length ? receiver.at('/skips') : undefined), 20_000, 'automation.skipped');
    assert.equal(skipped.event.type, 'automation.skipped');
    assert.equal(skipped.event.data.automation, 'unassigned_reply');
    assert.match(skipped.event.data.reason, /24-hour/);
  });

  it('when the subscriber answers 500 three times, then the same event is delivered again after 1, 2 and 4 s, and the log shows each attempt', async () => {
    receiver.respond('/flaky', (_d, earlier) => (earlier < 3 ? 500 : 200));
    await subscribe('flaky', { url: `${receiver.url}/flaky`, events: ['agent.status'] });
    await s.api('PUT', '/agents/ev-flaky', { name: 'Flaky', receptionLimit: 1, status: 'offline' });
    const tries = await eventually(async () => (receiver.at('/flaky').length >= 4 ? receiver.at('/flaky') : undefined), 30_000, '4 attempts');
    assert.equal(new Set(tries.map((d) => d.event.id)).size, 1, 'the same event id each time');
    const gaps = tries.slice(1).map((d, i) => d.at - tries[i].at);
    console.log(`      retry schedule measured: ${gaps.map((g) => `${(g / 1000).toFixed(2)} s`).join(', ')}`);
    gaps.forEach((gap, i) => {
      const planned = 1000 * 2 ** i;
      assert.ok(gap >= planned - 50 && gap < planned + 5000, `retry ${i + 1} after ${gap} ms, planned ${planned} ms`);
    });
    const log = await eventually(async () => {
      const l = await s.api('GET', '/webhooks/flaky/deliveries');
      return l.body.deliveries.length >= 4 ? l.body : undefined;
    }, 5_000);
    assert.deepEqual(
      log.deliveries.map((d: { attempt: number; status: number; outcome: string }) => `${d.attempt}:${d.status}:${d.outcome}`).reverse(),
      ['1:500:retry', '2:500:retry', '3:500:retry', '4:200:delivered'],
    );
    const page = await s.api('GET', `/webhooks/flaky/deliveries?limit=2`);
    assert.equal(page.body.deliveries.length, 2);
    const rest = await s.api('GET', `/webhooks/flaky/deliveries?limit=2&before=${page.body.nextCursor}`);
    assert.deepEqual(
      rest.body.deliveries.map((d: { attempt: number }) => d.attempt),
      [2, 1],
    );
  });

  it('when one subscriber hangs, then another gets the same events at once, and the hung attempt times out after 10 s and is retried', async () => {
    receiver.respond('/hang', () => new Promise((resolve) => setTimeout(() => resolve(200), 15_000)));
    await subscribe('hang', { url: `${receiver.url}/hang`, events: ['agent.status'] });
    await subscribe('fast', { url: `${receiver.url}/fast`, events: ['agent.status'] });
    await s.api('PUT', '/agents/ev-hang', { name: 'Hang', receptionLimit: 1, status: 'offline' });
    await s.api('PUT', '/agents/ev-hang/status', { status: 'online' });
    await eventually(async () => receiver.at('/fast').length >= 2, 9_000, 'both events at the fast subscriber');
    // Not held up: both reached the fast subscriber while the hung one's first attempt was still waiting.
    const [hung] = await eventually(async () => (receiver.at('/hang').length ? receiver.at('/hang') : undefined), 9_000, 'the hung attempt');
    const hungSince = hung.at;
    assert.ok(receiver.at('/fast')[1].at < hungSince + 10_000, 'the fast subscriber got both before the hung attempt timed out');

    assert.ok(
      receiver.at('/hang').every((d) => d.event.id === hung.event.id),
      'the second event waits behind the first (in order)',
    );
    const metrics = await (await fetch(`${s.baseUrl}/metrics`)).text();
    assert.match(metrics, /^inbox_autopilot_event_deliveries_pending\{subscription="hang"\} 2$/m);
    assert.match(metrics, /^inbox_autopilot_event_delivery_lag_seconds\{subscription="hang"\} \d/m);
    // The fast subscriber's deliveries are recorded once its round ends: none pending soon after.
    await eventually(
      async () => !/event_deliveries_pending\{subscription="fast"\}/.test(await (await fetch(`${s.baseUrl}/metrics`)).text()),
      10_000,
      'nothing pending for the fast subscriber',
    );
    const log = await eventually(
      async () => {
        const l = await s.api('GET', '/webhooks/hang/deliveries');
        return l.body.deliveries.length >= 1 ? l.body.deliveries : undefined;
      },
      20_000,
      'the hung attempt logged',
    );
    assert.equal(log[0].status, null);
    assert.match(log[0].error, /no answer within 10 s/);
    assert.equal(log[0].outcome, 'retry');
    assert.ok(log[0].latencyMs >= 9_900 && log[0].latencyMs < 15_000, `latency ${log[0].latencyMs}`);
    await eventually(async () => receiver.at('/hang').length >= 2, 15_000, 'retried');
    assert.equal(receiver.at('/hang')[1].event.id, receiver.at('/hang')[0].event.id, 'the same event again, before the next one');
    await s.api('DELETE', '/webhooks/hang');
    await s.api('DELETE', '/webhooks/fast');
  });

  it('when the subscriber answers 410, then the subscription is disabled and gets nothing more', async () => {
    receiver.respond('/gone', () => 410);
    await subscribe('gone', { url: `${receiver.url}/gone`, events: ['agent.status'] });
    await s.api('PUT', '/agents/ev-gone', { name: 'Gone', receptionLimit: 1, status: 'offline' });
    const subscription = await eventually(
      async () => {
        const got = await s.api('GET', '/webhooks/gone');
        return got.body.enabled === false ? got.body : undefined;
      },
      15_000,
      'disabled',
    );
    assert.match(subscription.disabledReason, /410/);
    assert.equal(receiver.at('/gone').length, 1);
    await s.api('PUT', '/agents/ev-gone/status', { status: 'online' });
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(receiver.at('/gone').length, 1, 'nothing after the 410');
    const log = await s.api('GET', '/webhooks/gone/deliveries');
    assert.deepEqual(
      log.body.deliveries.map((d: { status: number; outcome: string }) => `${d.status}:${d.outcome}`),
      ['410:gone'],
    );
  });
});
