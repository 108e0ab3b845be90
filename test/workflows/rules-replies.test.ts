/**
 * The customer-facing replies at their edges, on the time-skipping server: R1 welcome,
 * R4 unassigned auto-reply, R5 queue message, and duplicate webhook deliveries.
 */
import assert from 'node:assert/strict';
import { welcomeWorkflowId } from '../../workflows/welcome-workflow';
import { createConversationHarness, eventually, type ConversationHarness } from '../support/conversation-harness';
import { HOUR, MINUTE, SECOND, freshContact, rulesKit, text, type ConversationRow, type RulesKit } from './rules-helpers';

const WELCOME = text('Welcome to *Acme*! How can we help?');
const UNASSIGNED = text('We are away right now; we will answer soon.');
const QUEUED = text('All agents are busy; you are in the queue.');

describe('R1 welcome, R4 unassigned reply, R5 queue message, duplicates (time-skipping server)', () => {
  let h: ConversationHarness;
  let k: RulesKit;
  before(async () => {
    h = await createConversationHarness();
    k = rulesKit(h);
  });
  after(async () => h?.close());

  /** Bodies of the texts the fake Graph API received for the contact, in order. */
  function textsSentTo(contact: string): string[] {
    return k.sentTo(contact).map((b) => (b.text as { body: string }).body);
  }

  /** R4: the moment the conversation entered `unassigned` (its delay counts from there). */
  async function enteredUnassignedAt(row: ConversationRow): Promise<number> {
    const owedSince = (await k.state(row))!.unassignedReplyOwedSince;
    assert.ok(owedSince !== null, 'the unassigned reply is owed');
    return owedSince;
  }

  describe('R4 unassigned auto-reply', () => {
    it('delay 0: sent at once when the conversation enters unassigned', async () => {
      const pn = await k.numberWith({ unassignedReply: { enabled: true, delaySeconds: 0, message: UNASSIGNED } });
      const contact = freshContact('r4-now');
      await k.run(async () => {
        const before = await h.now();
        await k.customerSays(contact, pn);
        const row = await k.conversationIn(contact, pn, 'unassigned');
        const [reply] = await k.waitForAutomation(row, 'unassigned_reply');
        assert.equal(reply.status, 'accepted');
        assert.deepEqual(reply.content, UNASSIGNED);
        assert.deepEqual(textsSentTo(contact), [UNASSIGNED.text.body]);
        assert.ok((await h.now()) - before < 10 * SECOND, 'no workflow time had to pass');
      });
    });

    it('delay 30 s: nothing at 29 s, sent at 30 s', async () => {
      const pn = await k.numberWith({ unassignedReply: { enabled: true, delaySeconds: 30, message: UNASSIGNED } });
      const contact = freshContact('r4-delay');
      await k.run(async () => {
        await k.customerSays(contact, pn);
        const row = await k.conversationIn(contact, pn, 'unassigned');
        const entered = await enteredUnassignedAt(row);
        await k.advanceTo(row, entered + 29 * SECOND);
        assert.deepEqual(await k.outbound(row), []);
        assert.deepEqual(k.sentTo(contact), []);
        await k.advanceTo(row, entered + 30 * SECOND);
        const [reply] = await k.waitForAutomation(row, 'unassigned_reply');
        assert.equal(reply.status, 'accepted');
        assert.deepEqual(textsSentTo(contact), [UNASSIGNED.text.body]);
      });
    });

    it('not sent when an agent claims the conversation within the delay', async () => {
      const pn = await k.numberWith({ unassignedReply: { enabled: true, delaySeconds: 30, message: UNASSIGNED } });
      // Offline, so routing leaves the conversation unassigned; a claim is a deliberate act.
      const agent = await k.addAgent(`agent-${pn}`, pn, 5, 'offline');
      const contact = freshContact('r4-claimed');
      await k.run(async () => {
        await k.customerSays(contact, pn);
        const row = await k.conversationIn(contact, pn, 'unassigned');
        const entered = await enteredUnassignedAt(row);
        await k.advanceTo(row, entered + 20 * SECOND);
        assert.deepEqual(await k.claim(row, agent), { ok: true, status: 'assigned' });
        await k.advanceTo(row, entered + 10 * MINUTE);
        assert.deepEqual(await k.outbound(row), []);
        assert.deepEqual(k.sentTo(contact), []);
      });
    });

    it('disabled: nothing is sent, however long the conversation waits', async () => {
      const pn = await k.numberWith({ unassignedReply: { enabled: false, delaySeconds: 0, message: UNASSIGNED } });
      const contact = freshContact('r4-off');
      await k.run(async () => {
        await k.customerSays(contact, pn);
        const row = await k.conversationIn(contact, pn, 'unassigned');
        await k.advance(row, 2 * HOUR);
        assert.deepEqual(await k.outbound(row), []);
        assert.deepEqual(k.sentTo(contact), []);
      });
    });

    it('manual routing: every new conversation is unassigned and gets the reply, even with an agent free', async () => {
      const pn = await k.numberWith({ routing: { mode: 'manual' }, unassignedReply: { enabled: true, delaySeconds: 0, message: UNASSIGNED } });
      await k.addAgent(`agent-${pn}`, pn);
      const contact = freshContact('r4-manual');
      await k.run(async () => {
        await k.customerSays(contact, pn);
        const row = await k.conversationIn(contact, pn, 'unassigned');
        assert.equal((await k.waitForAutomation(row, 'unassigned_reply'))[0].status, 'accepted');
      });
    });
  });

  describe('R5 queue message', () => {
    /** One online agent at their limit of one: the first contact takes them, the second queues. */
    async function secondContactQueued(pn: string, label: string): Promise<{ contact: string; row: ConversationRow }> {
      await k.addAgent(`agent-${pn}`, pn, 1);
      const first = freshContact(`${label}-first`);
      await k.customerSays(first, pn);
      await k.conversationIn(first, pn, 'assigned');
      const contact = freshContact(label);
      await k.customerSays(contact, pn);
      const row = await k.conversationIn(contact, pn, 'queued');
      return { contact, row };
    }

    it('sent instead of the unassigned reply when every online agent is at their limit', async () => {
      const pn = await k.numberWith({
        queueReply: { enabled: true, message: QUEUED },
        unassignedReply: { enabled: true, delaySeconds: 0, message: UNASSIGNED },
      });
      await k.run(async () => {
        const { contact, row } = await secondContactQueued(pn, 'r5-queued');
        const [reply] = await k.waitForAutomation(row, 'queue_reply');
        assert.equal(reply.status, 'accepted');
        assert.deepEqual(reply.content, QUEUED);
        await k.advance(row, 10 * MINUTE);
        assert.deepEqual(await k.outbound(row, 'unassigned_reply'), [], 'a queued conversation is not unassigned');
        assert.deepEqual(textsSentTo(contact), [QUEUED.text.body]);
      });
    });

    it('disabled: a queued conversation gets neither the queue message nor the unassigned reply', async () => {
      const pn = await k.numberWith({
        queueReply: { enabled: false, message: QUEUED },
        unassignedReply: { enabled: true, delaySeconds: 0, message: UNASSIGNED },
      });
      await k.run(async () => {
        const { contact, row } = await secondContactQueued(pn, 'r5-off');
        await k.advance(row, 10 * MINUTE);
        assert.deepEqual(await k.outbound(row), []);
        assert.deepEqual(k.sentTo(contact), []);
      });
    });

    it('no agent online at all: the unassigned reply, not the queue message', async () => {
      const pn = await k.numberWith({
        queueReply: { enabled: true, message: QUEUED },
        unassignedReply: { enabled: true, delaySeconds: 0, message: UNASSIGNED },
      });
      await k.addAgent(`agent-${pn}`, pn, 1, 'offline');
      const contact = freshContact('r5-nobody');
      await k.run(async () => {
        await k.customerSays(contact, pn);
        const row = await k.conversationIn(contact, pn, 'unassigned');
        await k.waitForAutomation(row, 'unassigned_reply');
        assert.deepEqual(await k.outbound(row, 'queue_reply'), []);
        assert.deepEqual(textsSentTo(contact), [UNASSIGNED.text.body]);
      });
    });
  });

  describe('R1 welcome message', () => {
    const welcomeOn = { welcome: { enabled: true, message: WELCOME }, unassignedReply: { enabled: true, delaySeconds: 0, message: UNASSIGNED } };

    it('first message of a never-seen contact: the welcome goes first, then the auto-reply', async () => {
      const pn = await k.numberWith(welcomeOn);
      const contact = freshContact('r1-first');
      await k.run(async () => {
        await k.customerSays(contact, pn);
        const row = await k.conversationIn(contact, pn, 'unassigned');
        await k.waitForAutomation(row, 'unassigned_reply');
        const rows = await k.outbound(row);
        assert.deepEqual(
          rows.map((r) => [r.automation, r.status]),
          [
            ['welcome', 'accepted'],
            ['unassigned_reply', 'accepted'],
          ],
        );
        assert.deepEqual(textsSentTo(contact), [WELCOME.text.body, UNASSIGNED.text.body]);
      });
    });

    it('never twice: the same contact\'s next conversation gets no welcome', async () => {
      const pn = await k.numberWith(welcomeOn);
      const contact = freshContact('r1-again');
      await k.run(async () => {
        await k.customerSays(contact, pn);
        const first = await k.conversationIn(contact, pn, 'unassigned');
        await k.waitForAutomation(first, 'unassigned_reply');
        await k.close(first);

        await k.customerSays(contact, pn, 'me again');
        const second = await eventually(async () => {
          const rows = await k.conversationsOf(contact, pn);
          return rows.length === 2 ? rows[1] : undefined;
        });
        await k.conversationIn(contact, pn, 'unassigned');
        await k.waitForAutomation(second, 'unassigned_reply');
        await k.settle(second);
        assert.deepEqual(await k.outbound(second, 'welcome'), []);
        assert.equal((await k.outboundToContact(contact, pn, 'welcome')).length, 1);
        assert.deepEqual(textsSentTo(contact), [WELCOME.text.body, UNASSIGNED.text.body, UNASSIGNED.text.body]);
      });
    });

    it('disabled: no welcome, only the auto-reply', async () => {
      const pn = await k.numberWith({ ...welcomeOn, welcome: { enabled: false, message: WELCOME } });
      const contact = freshContact('r1-off');
      await k.run(async () => {
        await k.customerSays(contact, pn);
        const row = await k.conversationIn(contact, pn, 'unassigned');
        await k.waitForAutomation(row, 'unassigned_reply');
        await k.settle(row);
        assert.deepEqual(await k.outboundToContact(contact, pn, 'welcome'), []);
        assert.deepEqual(textsSentTo(contact), [UNASSIGNED.text.body]);
      });
    });

    it('request_welcome: one welcome and no conversation; a second request and the first message send no second welcome', async () => {
      const pn = await k.numberWith(welcomeOn);
      const contact = freshContact('r1-request');
      await k.run(async () => {
        await k.customerOpensChat(contact, pn);
        const [welcome] = await eventually(async () => {
          const rows = await k.outboundToContact(contact, pn, 'welcome');
          return rows.length === 1 && rows[0].status !== 'pending' ? rows : undefined;
        });
        assert.equal(welcome.status, 'accepted');
        assert.equal(welcome.conversation_id, null, 'the welcome by itself opens no conversation');
        assert.deepEqual(await k.conversationsOf(contact, pn), []);
        const contactId = (await h.db('contacts').where({ phone_number_id: pn, identity_key: contact }).first('id')).id;
        const welcomeHandle = h.env.client.workflow.getHandle(welcomeWorkflowId(pn, contactId));
        const firstRun = (await welcomeHandle.describe()).runId;

        // Meta asks again (the contact reopened the chat), then the contact writes.
        await k.customerOpensChat(contact, pn);
        assert.equal((await welcomeHandle.describe()).runId, firstRun, 'no second welcome workflow');
        await k.customerSays(contact, pn, 'hi');
        const row = await k.conversationIn(contact, pn, 'unassigned');
        await k.waitForAutomation(row, 'unassigned_reply');
        await k.settle(row);
        assert.equal((await k.outboundToContact(contact, pn, 'welcome')).length, 1);
        assert.deepEqual(textsSentTo(contact), [WELCOME.text.body, UNASSIGNED.text.body]);
      });
    });

    it('request_welcome delivered after the first message (Meta delivers unordered): still one welcome', async () => {
      const pn = await k.numberWith(welcomeOn);
      const contact = freshContact('r1-late-request');
      await k.run(async () => {
        await k.customerSays(contact, pn, 'hi');
        const row = await k.conversationIn(contact, pn, 'unassigned');
        await k.waitForAutomation(row, 'unassigned_reply');
        await k.customerOpensChat(contact, pn);
        const contactId = (await h.db('contacts').where({ phone_number_id: pn, identity_key: contact }).first('id')).id;
        // Polled, not awaited with result(): that would let the test server skip time meanwhile.
        const welcomeRun = h.env.client.workflow.getHandle(welcomeWorkflowId(pn, contactId));
        await eventually(async () => (await welcomeRun.describe()).status.name === 'COMPLETED');
        assert.equal((await k.outboundToContact(contact, pn, 'welcome')).length, 1);
        assert.deepEqual(textsSentTo(contact), [WELCOME.text.body, UNASSIGNED.text.body]);
      });
    });

    it('request_welcome while disabled sends nothing, and neither does the first message after it', async () => {
      const pn = await k.numberWith({ ...welcomeOn, welcome: { enabled: false, message: WELCOME } });
      const contact = freshContact('r1-request-off');
      await k.run(async () => {
        await k.customerOpensChat(contact, pn);
        await k.customerSays(contact, pn, 'hi');
        const row = await k.conversationIn(contact, pn, 'unassigned');
        await k.waitForAutomation(row, 'unassigned_reply');
        assert.deepEqual(await k.outboundToContact(contact, pn, 'welcome'), []);
        assert.deepEqual(textsSentTo(contact), [UNASSIGNED.text.body]);
      });
    });
  });

  describe('duplicate deliveries', () => {
    const replies = { welcome: { enabled: true, message: WELCOME }, unassignedReply: { enabled: true, delaySeconds: 0, message: UNASSIGNED } };

    it('the same wamid delivered twice, one after the other, has one effect', async () => {
      const pn = await k.numberWith(replies);
      const contact = freshContact('dup-sequential');
      await k.run(async () => {
        const wamid = await k.customerSays(contact, pn, 'hello');
        const row = await k.conversationIn(contact, pn, 'unassigned');
        await k.waitForAutomation(row, 'unassigned_reply');
        await k.customerSays(contact, pn, 'hello', { wamid });
        await k.settle(row);
        assert.equal((await h.db('messages').where({ wamid })).length, 1);
        assert.equal((await k.conversationsOf(contact, pn)).length, 1);
        assert.deepEqual(textsSentTo(contact), [WELCOME.text.body, UNASSIGNED.text.body]);
      });
    });

    it('the same wamid delivered twice at once (and twice in one batch) has one effect', async () => {
      const pn = await k.numberWith(replies);
      const contact = freshContact('dup-concurrent');
      await k.run(async () => {
        const wamid = `wamid.DUP${Date.now()}`;
        const sentAt = await h.now();
        await Promise.all([k.customerSays(contact, pn, 'hello', { wamid, sentAt }), k.customerSays(contact, pn, 'hello', { wamid, sentAt })]);
        const row = await k.conversationIn(contact, pn, 'unassigned');
        await k.waitForAutomation(row, 'unassigned_reply');
        await k.settle(row);
        assert.equal((await h.db('messages').where({ wamid })).length, 1);
        assert.equal((await k.conversationsOf(contact, pn)).length, 1);
        assert.deepEqual(textsSentTo(contact), [WELCOME.text.body, UNASSIGNED.text.body]);
        assert.equal((await k.state(row))!.seenMessageIds.length, 1);

        // Meta may also put both copies in one webhook POST.
        const again = `wamid.DUP-BATCH${Date.now()}`;
        const event = k.textEvent(contact, pn, 'are you there?', again, await h.now());
        await h.intake.accept([event, { ...event }]);
        await eventually(async () => (await k.state(row))!.seenMessageIds.length === 2);
        await k.settle(row);
        assert.equal((await h.db('messages').where({ wamid: again })).length, 1);
        assert.equal((await k.conversationsOf(contact, pn)).length, 1);
        assert.deepEqual(textsSentTo(contact), [WELCOME.text.body, UNASSIGNED.text.body], 'still unassigned: no second reply');
      });
    });

    it('a message redelivered after its conversation closed does not open a new one', async () => {
      const pn = await k.numberWith(replies);
      const contact = freshContact('dup-after-close');
      await k.run(async () => {
        const wamid = await k.customerSays(contact, pn, 'hello');
        const row = await k.conversationIn(contact, pn, 'unassigned');
        await k.waitForAutomation(row, 'unassigned_reply');
        await k.close(row);
        await k.customerSays(contact, pn, 'hello', { wamid });
        await k.settle(row);
        assert.deepEqual(
          (await k.conversationsOf(contact, pn)).map((c) => c.status),
          ['closed'],
        );
        assert.deepEqual(textsSentTo(contact), [WELCOME.text.body, UNASSIGNED.text.body]);
      });
    });
  });
});
