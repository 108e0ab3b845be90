/**
 * The customer-facing replies at their edges, on the time-skipping server: R1 welcome,
 * R4 unassigned auto-reply, R5 queue message, and duplicate webhook deliveries.
 */
import assert from 'node:assert/strict';
import { welcomeWorkflowId } from '../../workflows/welcome/contract';
import { eventually } from '../support/conversation-harness';
import { HOUR, MINUTE, SECOND, freshContact, text, type ConversationRow, useRulesHarness } from './rules-helpers';

const WELCOME = text('Welcome to *Acme*! How can we help?');
const UNASSIGNED = text('We are away right now; we will answer soon.');
const QUEUED = text('All agents are busy; you are in the queue.');

describe('R1 welcome, R4 unassigned reply, R5 queue message, duplicates (time-skipping server)', () => {
  const { harness, kit } = useRulesHarness();

  /** Bodies of the texts the fake Graph API received for the contact, in order. */
  function textsSentTo(contact: string): string[] {
    return kit.sentTo(contact).map((b) => (b.text as { body: string }).body);
  }

  /** R4: the moment the conversation entered `unassigned` (its delay counts from there). */
  async function enteredUnassignedAt(row: ConversationRow): Promise<number> {
    const owedSince = (await kit.state(row))!.unassignedReplyOwedSince;
    assert.ok(owedSince !== null, 'the unassigned reply is owed');
    return owedSince;
  }

  describe('R4 unassigned auto-reply', () => {
    it('delay 0: sent at once when the conversation enters unassigned', async () => {
      const pn = await kit.numberWith({ unassignedReply: { enabled: true, delaySeconds: 0, message: UNASSIGNED } });
      const contact = freshContact('r4-now');
      await kit.run(async () => {
        const before = await harness.now();
        await kit.customerSays(contact, pn);
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        const [reply] = await kit.waitForAutomation(row, 'unassigned_reply');
        assert.equal(reply.status, 'accepted');
        assert.deepEqual(reply.content, UNASSIGNED);
        assert.deepEqual(textsSentTo(contact), [UNASSIGNED.text.body]);
        assert.ok((await harness.now()) - before < 10 * SECOND, 'no workflow time had to pass');
      });
    });

    it('delay 30 s: nothing at 29 s, sent at 30 s', async () => {
      const pn = await kit.numberWith({ unassignedReply: { enabled: true, delaySeconds: 30, message: UNASSIGNED } });
      const contact = freshContact('r4-delay');
      await kit.run(async () => {
        await kit.customerSays(contact, pn);
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        const entered = await enteredUnassignedAt(row);
        await kit.advanceTo(row, entered + 29 * SECOND);
        assert.deepEqual(await kit.outbound(row), []);
        assert.deepEqual(kit.sentTo(contact), []);
        await kit.advanceTo(row, entered + 30 * SECOND);
        const [reply] = await kit.waitForAutomation(row, 'unassigned_reply');
        assert.equal(reply.status, 'accepted');
        assert.deepEqual(textsSentTo(contact), [UNASSIGNED.text.body]);
      });
    });

    it('not sent when an agent claims the conversation within the delay', async () => {
      const pn = await kit.numberWith({ unassignedReply: { enabled: true, delaySeconds: 30, message: UNASSIGNED } });
      // Offline, so routing leaves the conversation unassigned; a claim is a deliberate act.
      const agent = await kit.addAgent(`agent-${pn}`, pn, 5, 'offline');
      const contact = freshContact('r4-claimed');
      await kit.run(async () => {
        await kit.customerSays(contact, pn);
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        const entered = await enteredUnassignedAt(row);
        await kit.advanceTo(row, entered + 20 * SECOND);
        assert.deepEqual(await kit.claim(row, agent), { ok: true, status: 'assigned' });
        await kit.advanceTo(row, entered + 10 * MINUTE);
        assert.deepEqual(await kit.outbound(row), []);
        assert.deepEqual(kit.sentTo(contact), []);
      });
    });

    it('disabled: nothing is sent, however long the conversation waits', async () => {
      const pn = await kit.numberWith({ unassignedReply: { enabled: false, delaySeconds: 0, message: UNASSIGNED } });
      const contact = freshContact('r4-off');
      await kit.run(async () => {
        await kit.customerSays(contact, pn);
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        await kit.advance(row, 2 * HOUR);
        assert.deepEqual(await kit.outbound(row), []);
        assert.deepEqual(kit.sentTo(contact), []);
      });
    });

    it('manual routing: every new conversation is unassigned and gets the reply, even with an agent free', async () => {
      const pn = await kit.numberWith({ routing: { mode: 'manual' }, unassignedReply: { enabled: true, delaySeconds: 0, message: UNASSIGNED } });
      await kit.addAgent(`agent-${pn}`, pn);
      const contact = freshContact('r4-manual');
      await kit.run(async () => {
        await kit.customerSays(contact, pn);
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        assert.equal((await kit.waitForAutomation(row, 'unassigned_reply'))[0].status, 'accepted');
      });
    });
  });

  describe('R5 queue message', () => {
    /** One online agent at their limit of one: the first contact takes them, the second queues. */
    async function secondContactQueued(pn: string, label: string): Promise<{ contact: string; row: ConversationRow }> {
      await kit.addAgent(`agent-${pn}`, pn, 1);
      const first = freshContact(`${label}-first`);
      await kit.customerSays(first, pn);
      await kit.conversationIn(first, pn, 'assigned');
      const contact = freshContact(label);
      await kit.customerSays(contact, pn);
      const row = await kit.conversationIn(contact, pn, 'queued');
      return { contact, row };
    }

    it('sent instead of the unassigned reply when every online agent is at their limit', async () => {
      const pn = await kit.numberWith({
        queueReply: { enabled: true, message: QUEUED },
        unassignedReply: { enabled: true, delaySeconds: 0, message: UNASSIGNED },
      });
      await kit.run(async () => {
        const { contact, row } = await secondContactQueued(pn, 'r5-queued');
        const [reply] = await kit.waitForAutomation(row, 'queue_reply');
        assert.equal(reply.status, 'accepted');
        assert.deepEqual(reply.content, QUEUED);
        await kit.advance(row, 10 * MINUTE);
        assert.deepEqual(await kit.outbound(row, 'unassigned_reply'), [], 'a queued conversation is not unassigned');
        assert.deepEqual(textsSentTo(contact), [QUEUED.text.body]);
      });
    });

    it('disabled: a queued conversation gets neither the queue message nor the unassigned reply', async () => {
      const pn = await kit.numberWith({
        queueReply: { enabled: false, message: QUEUED },
        unassignedReply: { enabled: true, delaySeconds: 0, message: UNASSIGNED },
      });
      await kit.run(async () => {
        const { contact, row } = await secondContactQueued(pn, 'r5-off');
        await kit.advance(row, 10 * MINUTE);
        assert.deepEqual(await kit.outbound(row), []);
        assert.deepEqual(kit.sentTo(contact), []);
      });
    });

    it('no agent online at all: the unassigned reply, not the queue message', async () => {
      const pn = await kit.numberWith({
        queueReply: { enabled: true, message: QUEUED },
        unassignedReply: { enabled: true, delaySeconds: 0, message: UNASSIGNED },
      });
      await kit.addAgent(`agent-${pn}`, pn, 1, 'offline');
      const contact = freshContact('r5-nobody');
      await kit.run(async () => {
        await kit.customerSays(contact, pn);
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        await kit.waitForAutomation(row, 'unassigned_reply');
        assert.deepEqual(await kit.outbound(row, 'queue_reply'), []);
        assert.deepEqual(textsSentTo(contact), [UNASSIGNED.text.body]);
      });
    });
  });

  describe('R1 welcome message', () => {
    const welcomeOn = { welcome: { enabled: true, message: WELCOME }, unassignedReply: { enabled: true, delaySeconds: 0, message: UNASSIGNED } };

    it('first message of a never-seen contact: the welcome goes first, then the auto-reply', async () => {
      const pn = await kit.numberWith(welcomeOn);
      const contact = freshContact('r1-first');
      await kit.run(async () => {
        await kit.customerSays(contact, pn);
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        await kit.waitForAutomation(row, 'unassigned_reply');
        const rows = await kit.outbound(row);
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

    it("never twice: the same contact's next conversation gets no welcome", async () => {
      const pn = await kit.numberWith(welcomeOn);
      const contact = freshContact('r1-again');
      await kit.run(async () => {
        await kit.customerSays(contact, pn);
        const first = await kit.conversationIn(contact, pn, 'unassigned');
        await kit.waitForAutomation(first, 'unassigned_reply');
        await kit.close(first);

        await kit.customerSays(contact, pn, 'me again');
        const second = await eventually(async () => {
          const rows = await kit.conversationsOf(contact, pn);
          return rows.length === 2 ? rows[1] : undefined;
        });
        await kit.conversationIn(contact, pn, 'unassigned');
        await kit.waitForAutomation(second, 'unassigned_reply');
        await kit.settle(second);
        assert.deepEqual(await kit.outbound(second, 'welcome'), []);
        assert.equal((await kit.outboundToContact(contact, pn, 'welcome')).length, 1);
        assert.deepEqual(textsSentTo(contact), [WELCOME.text.body, UNASSIGNED.text.body, UNASSIGNED.text.body]);
      });
    });

    it('disabled: no welcome, only the auto-reply', async () => {
      const pn = await kit.numberWith({ ...welcomeOn, welcome: { enabled: false, message: WELCOME } });
      const contact = freshContact('r1-off');
      await kit.run(async () => {
        await kit.customerSays(contact, pn);
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        await kit.waitForAutomation(row, 'unassigned_reply');
        await kit.settle(row);
        assert.deepEqual(await kit.outboundToContact(contact, pn, 'welcome'), []);
        assert.deepEqual(textsSentTo(contact), [UNASSIGNED.text.body]);
      });
    });

    it('request_welcome: one welcome and no conversation; a second request and the first message send no second welcome', async () => {
      const pn = await kit.numberWith(welcomeOn);
      const contact = freshContact('r1-request');
      await kit.run(async () => {
        await kit.customerOpensChat(contact, pn);
        const [welcome] = await eventually(async () => {
          const rows = await kit.outboundToContact(contact, pn, 'welcome');
          return rows.length === 1 && rows[0].status !== 'pending' ? rows : undefined;
        });
        assert.equal(welcome.status, 'accepted');
        assert.equal(welcome.conversation_id, null, 'the welcome by itself opens no conversation');
        assert.deepEqual(await kit.conversationsOf(contact, pn), []);
        const contactId = (await harness.db('contacts').where({ phone_number_id: pn, identity_key: contact }).first('id')).id;
        const welcomeHandle = harness.env.client.workflow.getHandle(welcomeWorkflowId(pn, contactId));
        const firstRun = (await welcomeHandle.describe()).runId;

        // Meta asks again (the contact reopened the chat), then the contact writes.
        await kit.customerOpensChat(contact, pn);
        assert.equal((await welcomeHandle.describe()).runId, firstRun, 'no second welcome workflow');
        await kit.customerSays(contact, pn, 'hi');
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        await kit.waitForAutomation(row, 'unassigned_reply');
        await kit.settle(row);
        assert.equal((await kit.outboundToContact(contact, pn, 'welcome')).length, 1);
        assert.deepEqual(textsSentTo(contact), [WELCOME.text.body, UNASSIGNED.text.body]);
      });
    });

    it('request_welcome delivered after the first message (Meta delivers unordered): still one welcome', async () => {
      const pn = await kit.numberWith(welcomeOn);
      const contact = freshContact('r1-late-request');
      await kit.run(async () => {
        await kit.customerSays(contact, pn, 'hi');
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        await kit.waitForAutomation(row, 'unassigned_reply');
        await kit.customerOpensChat(contact, pn);
        const contactId = (await harness.db('contacts').where({ phone_number_id: pn, identity_key: contact }).first('id')).id;
        // Polled, not awaited with result(): that would let the test server skip time meanwhile.
        const welcomeRun = harness.env.client.workflow.getHandle(welcomeWorkflowId(pn, contactId));
        await eventually(async () => (await welcomeRun.describe()).status.name === 'COMPLETED');
        assert.equal((await kit.outboundToContact(contact, pn, 'welcome')).length, 1);
        assert.deepEqual(textsSentTo(contact), [WELCOME.text.body, UNASSIGNED.text.body]);
      });
    });

    it('request_welcome while disabled sends nothing, and neither does the first message after it', async () => {
      const pn = await kit.numberWith({ ...welcomeOn, welcome: { enabled: false, message: WELCOME } });
      const contact = freshContact('r1-request-off');
      await kit.run(async () => {
        await kit.customerOpensChat(contact, pn);
        await kit.customerSays(contact, pn, 'hi');
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        await kit.waitForAutomation(row, 'unassigned_reply');
        assert.deepEqual(await kit.outboundToContact(contact, pn, 'welcome'), []);
        assert.deepEqual(textsSentTo(contact), [UNASSIGNED.text.body]);
      });
    });
  });

  describe('duplicate deliveries', () => {
    const replies = { welcome: { enabled: true, message: WELCOME }, unassignedReply: { enabled: true, delaySeconds: 0, message: UNASSIGNED } };

    it('the same wamid delivered twice, one after the other, has one effect', async () => {
      const pn = await kit.numberWith(replies);
      const contact = freshContact('dup-sequential');
      await kit.run(async () => {
        const wamid = await kit.customerSays(contact, pn, 'hello');
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        await kit.waitForAutomation(row, 'unassigned_reply');
        await kit.customerSays(contact, pn, 'hello', { wamid });
        await kit.settle(row);
        assert.equal((await harness.db('messages').where({ wamid })).length, 1);
        assert.equal((await kit.conversationsOf(contact, pn)).length, 1);
        assert.deepEqual(textsSentTo(contact), [WELCOME.text.body, UNASSIGNED.text.body]);
      });
    });

    it('the same wamid delivered twice at once (and twice in one batch) has one effect', async () => {
      const pn = await kit.numberWith(replies);
      const contact = freshContact('dup-concurrent');
      await kit.run(async () => {
        const wamid = `wamid.DUP${Date.now()}`;
        const sentAt = await harness.now();
        await Promise.all([kit.customerSays(contact, pn, 'hello', { wamid, sentAt }), kit.customerSays(contact, pn, 'hello', { wamid, sentAt })]);
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        await kit.waitForAutomation(row, 'unassigned_reply');
        await kit.settle(row);
        assert.equal((await harness.db('messages').where({ wamid })).length, 1);
        assert.equal((await kit.conversationsOf(contact, pn)).length, 1);
        assert.deepEqual(textsSentTo(contact), [WELCOME.text.body, UNASSIGNED.text.body]);
        assert.equal((await kit.state(row))!.seenMessageIds.length, 1);

        // Meta may also put both copies in one webhook POST.
        const again = `wamid.DUP-BATCH${Date.now()}`;
        const event = kit.textEvent(contact, pn, 'are you there?', again, await harness.now());
        await harness.intake.accept([event, { ...event }]);
        await eventually(async () => (await kit.state(row))!.seenMessageIds.length === 2);
        await kit.settle(row);
        assert.equal((await harness.db('messages').where({ wamid: again })).length, 1);
        assert.equal((await kit.conversationsOf(contact, pn)).length, 1);
        assert.deepEqual(textsSentTo(contact), [WELCOME.text.body, UNASSIGNED.text.body], 'still unassigned: no second reply');
      });
    });

    it('a message redelivered after its conversation closed does not open a new one', async () => {
      const pn = await kit.numberWith(replies);
      const contact = freshContact('dup-after-close');
      await kit.run(async () => {
        const wamid = await kit.customerSays(contact, pn, 'hello');
        const row = await kit.conversationIn(contact, pn, 'unassigned');
        await kit.waitForAutomation(row, 'unassigned_reply');
        await kit.close(row);
        await kit.customerSays(contact, pn, 'hello', { wamid });
        await kit.settle(row);
        assert.deepEqual(
          (await kit.conversationsOf(contact, pn)).map((c) => c.status),
          ['closed'],
        );
        assert.deepEqual(textsSentTo(contact), [WELCOME.text.body, UNASSIGNED.text.body]);
      });
    });
  });
});
