/**
 * The durable inbound relay on real PostgreSQL and a real Temporal server (time-skipping,
 * no worker on the task queue, so each workflow's history shows exactly the signals the
 * relay delivered, in the order it delivered them): order per contact, a relay stopped
 * mid-backlog and another taking over, two relays at once, and redeliveries.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createStore, type Store } from '../../src/store';
import { createInboundRelay } from '../../src/inbound/inbound-relay';
import { createWebhookIntake } from '../../src/inbound/webhook-intake';
import { conversationWorkflowId, customerMessageSignal } from '../../workflows/conversation/contract';
import { createTestDatabase, stopTimeSkippingEnvironment, testLog, timeSkippingEnvironment } from '../support/environment';
import { inboundTextEvent, PHONE_NUMBER_ID } from '../support/conversation-harness';
import type { Database } from '../../src/db/knex';
import type { InboundMessageEvent } from '../../src/whatsapp/webhook-events';

describe('inbound relay (real PostgreSQL, real Temporal server)', function () {
  let env: TestWorkflowEnvironment;
  let db: Database;
  let store: Store;

  before(async () => {
    env = await timeSkippingEnvironment();
    ({ db } = await createTestDatabase());
    store = createStore(db);
  });
  after(async () => {
    await stopTimeSkippingEnvironment(env);
  });

  const newRelay = (taskQueue: string, batchContacts = 64) =>
    createInboundRelay({ store, temporal: env.client, taskQueue, log: testLog, batchContacts, pollMs: 50 });
  // The real intake; the relays under test are run explicitly.
  const intake = {
    accept: (events: InboundMessageEvent[]) => createWebhookIntake({ store, relay: { nudge: () => undefined }, log: testLog }).accept(events),
  };

  /** Message ids signalled to a contact's conversation workflow, in history order. */
  async function signalledMessageIds(contactId: string): Promise<string[]> {
    const history = await env.client.workflow.getHandle(conversationWorkflowId(PHONE_NUMBER_ID, contactId)).fetchHistory();
    const ids: string[] = [];
    for (const e of history.events ?? []) {
      const signal = e.workflowExecutionSignaledEventAttributes;
      if (signal?.signalName !== customerMessageSignal.name) continue;
      const payload = signal.input?.payloads?.[0];
      ids.push((JSON.parse(Buffer.from(payload!.data!).toString('utf8')) as { messageId: string }).messageId);
    }
    return ids;
  }

  /** Stores `perContact` messages for each of `contacts` new customers, newest first in each webhook. */
  async function storeBacklog(contacts: number, perContact: number): Promise<{ contactId: string; messageIds: string[] }[]> {
    const base = Date.now() - 60_000;
    const keys = Array.from({ length: contacts }, () => `5511${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`);
    // One POST per contact, its messages out of order: the relay hands them over by Meta's timestamp.
    for (const key of keys) {
      const events = Array.from({ length: perContact }, (_, i) =>
        inboundTextEvent(key, `m${i}`, { wamid: `wamid.RELAY-${randomUUID()}`, sentAt: base + i * 1000 }),
      );
      await intake.accept(events.reverse());
    }
    const rows = (await db('messages as m')
      .join('contacts as c', 'c.id', 'm.contact_id')
      .whereIn('c.identity_key', keys)
      .orderBy([{ column: 'm.sent_at' }])
      .select('m.id', 'm.contact_id')) as { id: string; contact_id: string }[];
    const byContact = new Map<string, string[]>();
    for (const r of rows) byContact.set(r.contact_id, [...(byContact.get(r.contact_id) ?? []), r.id]);
    assert.equal(byContact.size, contacts);
    return [...byContact].map(([contactId, messageIds]) => ({ contactId, messageIds }));
  }

  const pending = async () => (await store.inboundRelay.backlog()).pending;

  it('hands every message to its workflow once, in Meta-timestamp order per contact, and marks it delivered', async () => {
    const backlog = await storeBacklog(5, 4);
    assert.equal(await pending(), 20);
    await newRelay(`relay-${randomUUID()}`).drain();
    assert.equal(await pending(), 0);
    for (const { contactId, messageIds } of backlog) assert.deepEqual(await signalledMessageIds(contactId), messageIds);
    const undelivered = await db('messages')
      .whereIn(
        'id',
        backlog.flatMap((b) => b.messageIds),
      )
      .whereNull('delivered_to_workflow_at')
      .count({ n: '*' });
    assert.equal(Number(undelivered[0].n), 0);
  });

  it('a relay stopped mid-backlog leaves the rest to the next one: nothing lost, nothing doubled, order kept', async () => {
    const taskQueue = `relay-${randomUUID()}`;
    const backlog = await storeBacklog(30, 3);
    const first = newRelay(taskQueue, 4);
    first.start();
    while ((await pending()) > 60) await new Promise((r) => setTimeout(r, 5));
    await first.stop(); // mid-backlog, as a restart does
    const left = await pending();
    assert.ok(left > 0 && left < 90, `stopped mid-backlog (${left} left)`);
    await newRelay(taskQueue, 4).drain();
    assert.equal(await pending(), 0);
    for (const { contactId, messageIds } of backlog) assert.deepEqual(await signalledMessageIds(contactId), messageIds);
  });

  it('two relays at once share the backlog and keep each contact in order', async () => {
    const taskQueue = `relay-${randomUUID()}`;
    const backlog = await storeBacklog(40, 3);
    await Promise.all([newRelay(taskQueue, 3).drain(), newRelay(taskQueue, 3).drain(), newRelay(taskQueue, 5).drain()]);
    assert.equal(await pending(), 0);
    for (const { contactId, messageIds } of backlog) assert.deepEqual(await signalledMessageIds(contactId), messageIds);
  });

  it('redelivered webhooks store nothing new and are not handed over again', async () => {
    const taskQueue = `relay-${randomUUID()}`;
    const key = `5511${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`;
    const event = inboundTextEvent(key, 'again', { wamid: `wamid.RELAY-${randomUUID()}`, sentAt: Date.now() });
    await intake.accept([event, { ...event }]);
    await intake.accept([event]); // redelivered before the relay ran
    const relay = newRelay(taskQueue);
    await relay.drain();
    await intake.accept([event]); // redelivered after
    await relay.drain();
    const rows = await db('messages').where({ wamid: event.wamid }).select('contact_id', 'delivered_to_workflow_at');
    assert.equal(rows.length, 1);
    assert.notEqual(rows[0].delivered_to_workflow_at, null);
    assert.equal((await signalledMessageIds(rows[0].contact_id as string)).length, 1);
  });
});
