/**
 * The data-access layer (src/store) against real PostgreSQL: what each sub-store returns
 * (plain camelCase objects) and the storage rules it keeps. Rows are arranged and checked
 * through the database directly where the store has no function for it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Database } from '../../src/db/knex';
import { createStore, type NewInboundMessage, type Store } from '../../src/store';
import { DEFAULT_AUTOMATION_SETTINGS, withDefaults } from '../../workflows/rules/automation-settings';
import { createTestDatabase } from '../support/environment';

const NUMBER = '106540352242922';
const OTHER_NUMBER = '113269274970227';

describe('data-access layer (real PostgreSQL)', () => {
  let db: Database;
  let store: Store;
  before(async () => {
    ({ db } = await createTestDatabase());
    store = createStore(db);
  });

  /** A contact known by its BSUID, unique per call. */
  async function newContact(phoneNumberId = NUMBER): Promise<string> {
    const key = `US.${randomUUID()}`;
    return (await store.contacts.upsert(phoneNumberId, { key, userId: key, waId: null, profileName: null })).id;
  }

  /** Opens a conversation and puts it in `status`, queued or opened at the given times. */
  async function conversationIn(status: string, times: { openedAt: Date; queuedAt?: Date }, phoneNumberId = NUMBER): Promise<string> {
    const id = randomUUID();
    await store.conversations.open({
      id,
      workflowId: `conversation:${id}`,
      phoneNumberId,
      contactId: await newContact(phoneNumberId),
      openedAt: times.openedAt,
    });
    await db('conversations')
      .where({ id })
      .update({ status, queued_at: times.queuedAt ?? null });
    return id;
  }

  function inbound(overrides: Partial<NewInboundMessage> = {}): NewInboundMessage {
    const key = `US.${randomUUID()}`;
    return {
      phoneNumberId: NUMBER,
      contact: { key, userId: key, waId: null, profileName: 'Test Customer' },
      conversationId: null,
      wamid: `wamid.STORE${randomUUID()}`,
      type: 'text',
      content: { kind: 'text', body: 'Hello' },
      raw: { type: 'text', text: { body: 'Hello' } },
      sentAt: new Date('2026-01-05T10:00:00Z'),
      ...overrides,
    };
  }

  describe('settings', () => {
    it('when a number was never configured, then it reads the defaults', async () => {
      assert.deepEqual(await store.settings.get('100000000000001'), DEFAULT_AUTOMATION_SETTINGS);
    });

    it('when settings are saved, then they read back as saved, and a second save replaces them', async () => {
      const saved = withDefaults({ reminder: { enabled: true, waitMinutes: 1 }, routing: { mode: 'manual' } });
      await store.settings.put('100000000000002', saved);
      assert.deepEqual(await store.settings.get('100000000000002'), saved);

      const replaced = withDefaults({ csat: { enabled: true } });
      await store.settings.put('100000000000002', replaced);
      assert.deepEqual(await store.settings.get('100000000000002'), replaced);
      assert.equal((await db('automation_settings').where({ phone_number_id: '100000000000002' })).length, 1);
    });

    it('when a stored document lacks blocks or fields, then they read as the defaults', async () => {
      await db('automation_settings').insert({ phone_number_id: '100000000000003', settings: JSON.stringify({ autoClose: { enabled: true } }) });
      const settings = await store.settings.get('100000000000003');
      assert.deepEqual(settings.autoClose, { ...DEFAULT_AUTOMATION_SETTINGS.autoClose, enabled: true });
      assert.deepEqual(settings.welcome, DEFAULT_AUTOMATION_SETTINGS.welcome);
    });
  });

  describe('contacts', () => {
    it('when a contact first seen by phone number arrives with a BSUID, then it is the same contact and learns the BSUID', async () => {
      const waId = `1555${Date.now()}`;
      const first = await store.contacts.upsert(NUMBER, { key: waId, userId: null, waId, profileName: 'Ana' });
      assert.equal(first.isNew, true);

      const bsuid = `BR.${randomUUID()}`;
      const again = await store.contacts.upsert(NUMBER, { key: bsuid, userId: bsuid, waId, profileName: 'Ana Souza' });
      assert.deepEqual(again, { id: first.id, isNew: false });
      const contact = await store.contacts.get(first.id);
      assert.deepEqual(
        { identityKey: contact?.identityKey, userId: contact?.userId, waId: contact?.waId, profileName: contact?.profileName },
        { identityKey: waId, userId: bsuid, waId, profileName: 'Ana Souza' },
      );
    });

    it('when a contact known by BSUID arrives with a new phone number, then it is matched by BSUID and the phone number is updated', async () => {
      const bsuid = `US.${randomUUID()}`;
      const first = await store.contacts.upsert(NUMBER, { key: bsuid, userId: bsuid, waId: '15550000001', profileName: null });
      const again = await store.contacts.upsert(NUMBER, { key: bsuid, userId: bsuid, waId: '15550000002', profileName: null });
      assert.deepEqual(again, { id: first.id, isNew: false });
      assert.equal((await store.contacts.get(first.id))?.waId, '15550000002');
    });

    it('when the same person writes to another number, then that number has its own contact', async () => {
      const bsuid = `US.${randomUUID()}`;
      const here = await store.contacts.upsert(NUMBER, { key: bsuid, userId: bsuid, waId: null, profileName: null });
      const there = await store.contacts.upsert(OTHER_NUMBER, { key: bsuid, userId: bsuid, waId: null, profileName: null });
      assert.notEqual(here.id, there.id);
      assert.equal(there.isNew, true);
      const contact = await store.contacts.get(there.id);
      assert.equal(contact?.phoneNumberId, OTHER_NUMBER);
      assert.ok(contact?.firstSeenAt instanceof Date);
      assert.equal(contact?.welcomedAt, null);
    });
  });

  describe('conversations', () => {
    const pn = '100000000000010';
    const at = (minute: number) => new Date(Date.UTC(2026, 0, 5, 9, minute));
    let ids: Record<string, string>;
    before(async () => {
      ids = {
        // Queued in this order: late-opened first, then two that joined at the same moment (id order).
        queuedFirst: await conversationIn('queued', { openedAt: at(30), queuedAt: at(1) }, pn),
        queuedTieA: await conversationIn('queued', { openedAt: at(2), queuedAt: at(5) }, pn),
        queuedTieB: await conversationIn('queued', { openedAt: at(3), queuedAt: at(5) }, pn),
        assignedOld: await conversationIn('assigned', { openedAt: at(10) }, pn),
        assignedNew: await conversationIn('assigned', { openedAt: at(20) }, pn),
        closed: await conversationIn('closed', { openedAt: at(40) }, pn),
        elsewhere: await conversationIn('queued', { openedAt: at(0), queuedAt: at(0) }, OTHER_NUMBER),
      };
    });
    const tie = () => [ids.queuedTieA, ids.queuedTieB].sort();

    it('when listing with a status filter, then only conversations in that status are listed, newest first', async () => {
      const assigned = await store.conversations.list({ phoneNumberId: pn, status: 'assigned', limit: 100 });
      assert.deepEqual(
        assigned.map((c) => c.id),
        [ids.assignedNew, ids.assignedOld],
      );
      assert.ok(assigned.every((c) => c.status === 'assigned' && c.phoneNumberId === pn));
    });

    it('when listing queued conversations, then they come in queue order (queued_at, then id)', async () => {
      const queued = await store.conversations.list({ phoneNumberId: pn, status: 'queued', limit: 100 });
      assert.deepEqual(
        queued.map((c) => c.id),
        [ids.queuedFirst, ...tie()],
      );
    });

    it("when reading a number's queue, then it is the queue order and only that number", async () => {
      assert.deepEqual(
        (await store.conversations.queue(pn)).map((c) => c.id),
        [ids.queuedFirst, ...tie()],
      );
      assert.deepEqual(
        (await store.conversations.queue(OTHER_NUMBER)).map((c) => c.id),
        [ids.elsewhere],
      );
    });

    it('when listing without a status, then every status is listed newest first, up to the limit', async () => {
      const all = await store.conversations.list({ phoneNumberId: pn, limit: 100 });
      assert.deepEqual(
        all.map((c) => c.id),
        [ids.closed, ids.queuedFirst, ids.assignedNew, ids.assignedOld, ids.queuedTieB, ids.queuedTieA],
      );
      assert.equal((await store.conversations.list({ phoneNumberId: pn, limit: 2 })).length, 2);
    });

    it('when a conversation is read, then it is a plain camelCase object with dates', async () => {
      const conversation = await store.conversations.get(ids.queuedFirst);
      assert.ok(conversation);
      assert.deepEqual(Object.keys(conversation).sort(), [
        'agentId',
        'assignedAt',
        'closeReason',
        'closedAt',
        'contact',
        'contactId',
        'handledByHuman',
        'id',
        'lastCustomerMessageAt',
        'openedAt',
        'phoneNumberId',
        'queuedAt',
        'status',
        'updatedAt',
        'workflowId',
      ]);
      assert.equal(conversation.openedAt.toISOString(), at(30).toISOString());
      assert.equal(conversation.queuedAt?.toISOString(), at(1).toISOString());
      assert.equal(conversation.agentId, null);
      assert.equal(conversation.contact.id, conversation.contactId, 'the contact travels with the conversation');
      assert.deepEqual(Object.keys(conversation.contact).sort(), ['id', 'name', 'userId', 'waId']);
      assert.equal(await store.conversations.get(randomUUID()), null);
    });

    it('when a conversation is opened twice, then the first stands', async () => {
      const id = randomUUID();
      const contactId = await newContact();
      await store.conversations.open({ id, workflowId: 'first', phoneNumberId: NUMBER, contactId, openedAt: at(1) });
      await store.conversations.open({ id, workflowId: 'second', phoneNumberId: NUMBER, contactId, openedAt: at(2) });
      const conversation = await store.conversations.get(id);
      assert.deepEqual([conversation?.workflowId, conversation?.status], ['first', 'unassigned']);
    });

    it('when a conversation is closed, then the agent who held it is returned, and closing again changes nothing', async () => {
      const id = await conversationIn('assigned', { openedAt: at(50) });
      await store.agents.upsert({ id: 'store-closer', name: 'Closer', receptionLimit: 1, status: 'offline', phoneNumberIds: null });
      await db('conversations').where({ id }).update({ agent_id: 'store-closer' });
      assert.deepEqual(await store.conversations.close(id, 'agent'), { agentId: 'store-closer' });
      const closed = await store.conversations.get(id);
      assert.deepEqual([closed?.status, closed?.closeReason], ['closed', 'agent']);
      assert.deepEqual(await store.conversations.close(id, 'admin'), { agentId: 'store-closer' });
      assert.equal((await store.conversations.get(id))?.closeReason, 'agent');
    });
  });

  describe('messages', () => {
    it('when the same wamid is stored twice, then there is one row and both calls name it', async () => {
      const message = inbound();
      const first = await store.messages.storeInbound(message);
      assert.equal(first.isFirstContact, true);
      assert.equal(first.delivered, false);
      const again = await store.messages.storeInbound(message);
      assert.deepEqual(again, first);
      assert.equal((await db('messages').where({ wamid: message.wamid })).length, 1);
    });

    it('when a stored message was delivered to its workflow, then a redelivery says so', async () => {
      const message = inbound();
      const { messageId } = await store.messages.storeInbound(message);
      await store.messages.markDeliveredToWorkflow(messageId);
      assert.equal((await store.messages.storeInbound(message)).delivered, true);
    });

    it('when a known contact writes again, then the message is not a first contact', async () => {
      const first = inbound();
      await store.messages.storeInbound(first);
      const second = await store.messages.storeInbound(inbound({ contact: first.contact }));
      assert.equal(second.isFirstContact, false);
    });

    it('when a contact first seen by phone number writes with a BSUID, then the message is stored against that contact, which learns the BSUID and the new name', async () => {
      const waId = `1556${Date.now()}`;
      const first = await store.messages.storeInbound(inbound({ contact: { key: waId, userId: null, waId, profileName: 'Ana' } }));
      const bsuid = `BR.${randomUUID()}`;
      const again = await store.messages.storeInbound(inbound({ contact: { key: bsuid, userId: bsuid, waId, profileName: 'Ana Souza' } }));
      assert.equal(again.contactId, first.contactId);
      assert.equal(again.isFirstContact, false);
      const contact = await store.contacts.get(first.contactId);
      assert.deepEqual(
        { identityKey: contact?.identityKey, userId: contact?.userId, waId: contact?.waId, profileName: contact?.profileName },
        { identityKey: waId, userId: bsuid, waId, profileName: 'Ana Souza' },
      );
      assert.equal((await db('contacts').where({ phone_number_id: NUMBER, identity_key: bsuid })).length, 0);
    });

    it('when a known contact writes without a name, then the name it had stays', async () => {
      const first = inbound();
      const { contactId } = await store.messages.storeInbound(first);
      await store.messages.storeInbound(inbound({ contact: { ...first.contact, profileName: null } }));
      assert.equal((await store.contacts.get(contactId))?.profileName, 'Test Customer');
    });

    it("when a new contact's first messages arrive at once, then there is one contact and exactly one of them is its first contact", async () => {
      const key = `US.${randomUUID()}`;
      const contact = { key, userId: key, waId: null, profileName: 'Burst' };
      const stored = await Promise.all(Array.from({ length: 8 }, () => store.messages.storeInbound(inbound({ contact }))));
      assert.equal(new Set(stored.map((m) => m.contactId)).size, 1);
      assert.equal(stored.filter((m) => m.isFirstContact).length, 1);
      assert.equal((await db('contacts').where({ phone_number_id: NUMBER, identity_key: key })).length, 1);
      assert.equal((await db('messages').where({ contact_id: stored[0].contactId })).length, 8);
    });

    it('when one wamid is delivered several times at once, then there is one row and every call names it', async () => {
      const message = inbound();
      const stored = await Promise.all(Array.from({ length: 6 }, () => store.messages.storeInbound(message)));
      assert.equal(new Set(stored.map((m) => m.messageId)).size, 1);
      assert.equal(stored.filter((m) => m.isFirstContact).length, 6, 'each names the row, whose first contact is stored once');
      assert.equal((await db('messages').where({ wamid: message.wamid })).length, 1);
    });

    it('when a webhook carries text PostgreSQL cannot store, then it is stored with U+FFFD instead', async () => {
      const message = inbound({ content: { kind: 'text', body: 'a\u0000b' } });
      await store.messages.storeInbound(message);
      const row = await db('messages').where({ wamid: message.wamid }).first('content');
      assert.equal(row.content.body, 'a\ufffdb');
    });

    it('when messages are attached to a conversation, then they are listed with it in the order they were sent', async () => {
      const contact = inbound().contact;
      const later = await store.messages.storeInbound(inbound({ contact, sentAt: new Date('2026-01-05T10:05:00Z') }));
      const earlier = await store.messages.storeInbound(inbound({ contact, sentAt: new Date('2026-01-05T10:01:00Z') }));
      const id = randomUUID();
      await store.conversations.open({
        id,
        workflowId: `conversation:${id}`,
        phoneNumberId: NUMBER,
        contactId: later.contactId,
        openedAt: new Date(),
      });
      const lastCustomerMessageAt = new Date('2026-01-05T10:05:00Z');
      await store.conversations.attachMessages({ conversationId: id, messageIds: [later.messageId, earlier.messageId], lastCustomerMessageAt });
      const messages = await store.messages.listForConversation(id);
      assert.deepEqual(
        messages.map((m) => m.id),
        [earlier.messageId, later.messageId],
      );
      assert.deepEqual([messages[0].direction, messages[0].author, messages[0].status], ['inbound', 'customer', 'received']);
      assert.equal((await store.conversations.get(id))?.lastCustomerMessageAt?.toISOString(), lastCustomerMessageAt.toISOString());
    });

    it('when an outbound intent is recorded twice with one idempotency key, then the second finds the first row', async () => {
      const contactId = await newContact();
      const intent = {
        idempotencyKey: randomUUID(),
        phoneNumberId: NUMBER,
        contactId,
        conversationId: null,
        author: 'agent' as const,
        automation: null,
        agentId: 'alice',
        message: { type: 'text', text: { body: 'Hi!' } },
      };
      const first = await store.messages.recordOutboundIntent(intent);
      assert.equal(first?.status, 'pending');
      await store.messages.finishOutbound(first!.id, { status: 'accepted', wamid: `wamid.OUT${randomUUID()}` });
      assert.deepEqual(await store.messages.recordOutboundIntent(intent), { id: first!.id, status: 'accepted' });
    });

    it('when a contact was already welcomed, then a second welcome is not recorded', async () => {
      const contactId = await newContact();
      const welcome = (key: string) => ({
        idempotencyKey: key,
        phoneNumberId: NUMBER,
        contactId,
        conversationId: null,
        author: 'automation' as const,
        automation: 'welcome' as const,
        agentId: null,
        message: { type: 'text', text: { body: 'Welcome!' } },
      });
      assert.ok(await store.messages.recordOutboundIntent(welcome(randomUUID())));
      assert.equal(await store.messages.recordOutboundIntent(welcome(randomUUID())), null);
      assert.ok((await store.contacts.get(contactId))?.welcomedAt instanceof Date);
    });
  });

  describe('delivery statuses', () => {
    function statusEvent(wamid: string, status: 'sent' | 'delivered' | 'read' | 'failed', minute: number) {
      return {
        kind: 'status' as const,
        phoneNumberId: NUMBER,
        wamid,
        status,
        rawStatus: status,
        at: new Date(Date.UTC(2026, 0, 5, 11, minute)),
        recipient: { userId: null, waId: null },
        errors: [],
        raw: { id: wamid, status },
      };
    }

    async function acceptedMessage(wamid: string): Promise<string> {
      const contactId = await newContact();
      const row = await store.messages.recordOutboundIntent({
        idempotencyKey: randomUUID(),
        phoneNumberId: NUMBER,
        contactId,
        conversationId: null,
        author: 'agent',
        automation: null,
        agentId: null,
        message: { type: 'text', text: { body: 'Hi' } },
      });
      await store.messages.finishOutbound(row!.id, { status: 'accepted', wamid });
      return row!.id;
    }

    it('when statuses arrive out of order, then the message keeps the furthest one', async () => {
      const wamid = `wamid.OUT${randomUUID()}`;
      const id = await acceptedMessage(wamid);
      for (const [status, minute] of [
        ['read', 3],
        ['delivered', 2],
        ['sent', 1],
        ['failed', 4],
      ] as const) {
        await store.webhookEvents.recordStatus(statusEvent(wamid, status, minute));
      }
      const row = await db('messages').where({ id }).first('status');
      assert.equal(row.status, 'read');
      assert.equal((await db('message_status_events').where({ wamid })).length, 4);
    });

    it('when statuses arrive before the wamid is stored, then they are applied once it is', async () => {
      const wamid = `wamid.OUT${randomUUID()}`;
      await store.webhookEvents.recordStatus(statusEvent(wamid, 'delivered', 2));
      await store.webhookEvents.recordStatus(statusEvent(wamid, 'delivered', 2));
      const id = await acceptedMessage(wamid);
      await store.webhookEvents.applyRecordedStatuses(id, wamid);
      const row = await db('messages').where({ id }).first('status', 'status_at');
      assert.equal(row.status, 'delivered');
      assert.equal(row.status_at.toISOString(), '2026-01-05T11:02:00.000Z');
    });
  });

  describe('agents and survey answers', () => {
    it('when an agent is saved, then the first save creates it and the agent reads with its load and queue', async () => {
      const id = `store-agent-${randomUUID().slice(0, 8)}`;
      assert.equal(await store.agents.exists(id), false);
      assert.deepEqual(await store.agents.upsert({ id, name: 'Ann', receptionLimit: 2, status: 'online', phoneNumberIds: ['100000000000020'] }), {
        created: true,
      });
      assert.deepEqual(await store.agents.upsert({ id, name: 'Ann B.', receptionLimit: 3, status: 'offline', phoneNumberIds: ['100000000000020'] }), {
        created: false,
      });
      await conversationIn('queued', { openedAt: new Date(), queuedAt: new Date() }, '100000000000020');
      assert.deepEqual(await store.agents.getWithLoad(id), {
        id,
        name: 'Ann B.',
        receptionLimit: 3,
        status: 'offline',
        phoneNumberIds: ['100000000000020'],
        load: 0,
        queued: 1,
      });
      assert.ok((await store.agents.listWithLoad()).some((a) => a.id === id));
      assert.equal(await store.agents.getWithLoad('nobody'), null);
    });

    it('when a conversation is rated twice, then the first answer stands', async () => {
      const conversationId = await conversationIn('closed', { openedAt: new Date() }, '100000000000030');
      const answer = {
        conversationId,
        phoneNumberId: '100000000000030',
        agentId: null,
        wamid: 'wamid.RATE1',
        answeredAt: new Date('2026-01-05T12:00:00Z'),
      };
      await store.csat.record({ ...answer, score: 5 });
      await store.csat.record({ ...answer, score: 1, wamid: 'wamid.RATE2' });
      assert.deepEqual(await store.csat.list({ phoneNumberId: '100000000000030' }), [{ ...answer, score: 5 }]);
      assert.deepEqual(await store.csat.list({ phoneNumberId: '100000000000031' }), []);
    });
  });
});
