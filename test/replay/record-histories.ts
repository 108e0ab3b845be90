/**
 * Records the workflow histories that test/replay/replay.test.ts replays against the current
 * workflow code, so that a change that would break a running conversation fails CI
 * (README "Changing workflow code": when to add histories rather than replace them).
 *
 *   npm run record-histories                       # records the scenarios that have no file yet
 *   npm run record-histories -- --only bot         # only scenarios whose name contains "bot"
 *   npm run record-histories -- --tag reminder-v2  # new files <name>@reminder-v2.json beside the old ones
 *   npm run record-histories -- --overwrite        # replaces existing files (see README "Changing workflow code")
 *   npm run record-histories -- --list             # prints the scenarios and exits
 *
 * Each scenario runs on a time-skipping server and a PostgreSQL database of its own, with
 * the real worker, the real activities and the fake Graph API (the same parts as
 * test/workflows/), fed through the real webhook intake and the workflows' own updates and
 * signals. After it, every workflow it names is let settle (no workflow task or activity
 * in flight) and its history is written to test/fixtures/histories/<scenario>[--<part>].json
 * (format: histories.ts). A continue-as-new chain is written one file per run
 * (`--run-1`, `--run-2`, …). Histories of runs still open (waiting on a timer, as most
 * real conversations are) are recorded as they stand.
 *
 * Deterministic enough: fixed phone-number id, contact keys, agent ids and message texts;
 * each scenario waits for every step to settle before the next, so the same code records
 * the same commands in the same order every time. Ids (UUIDs), run ids, task queues and
 * timestamps differ from one recording to the next, and so, now and then, does where one
 * workflow task ends and the next begins (an activity finishing before or after a task).
 * A scenario asserts what it claims to show, so a recording that did not happen as
 * described fails instead of writing a misleading file. Contacts are BSUID-style test keys
 * (`US.REPLAY…`): the only long digit string in the files is the test business number id,
 * which the recorder checks before writing.
 *
 * Takes about 30 s on 2 cores; needs the provisioned time-skipping server
 * (`npm run provision`) and starts an embedded PostgreSQL, like the workflow tests.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { temporal } from '@temporalio/proto';
import { createAssignmentStore } from '../../src/store/assignment-store';
import { ASSIGNMENT_SWEEPER_WORKFLOW_ID } from '../../workflows/assignment-sweeper/contract';
import { conversationWorkflowId, customerMessageSignal, type CustomerMessageSignal } from '../../workflows/conversation/contract';
import { csatRowId } from '../../workflows/rules/conversation-machine';
import { settingsBroadcastWorkflowId } from '../../workflows/settings-broadcast/contract';
import { welcomeWorkflowId } from '../../workflows/welcome/contract';
import { EVENT_DELIVERY_WORKFLOW_TYPE, eventDeliveryWorkflowId, newEventsSignal } from '../../workflows/event-delivery/contract';
import { EventReceiver } from '../support/event-receiver';
import { createConversationHarness, eventually, PHONE_NUMBER_ID, type ConversationHarness } from '../support/conversation-harness';
import { stopSharedEnvironment } from '../support/environment';
import {
  HOUR,
  MINUTE,
  QUIET,
  SECOND,
  isIdle,
  rulesKit,
  settings,
  text,
  type ConversationRow,
  type RulesKit,
  type SettingsPatch,
} from '../workflows/rules-helpers';
import { HISTORIES_DIR, TEST_PHONE_NUMBER_IDS, historyToJSON, phoneNumberLikeStrings, type RecordedHistory } from './histories';

const PN = PHONE_NUMBER_ID;
assert.ok(TEST_PHONE_NUMBER_IDS.has(PN), 'the test number is known to the phone-number check');

const WELCOME = text('Welcome to Acme! How can we help?');
const UNASSIGNED = text('We are away right now; we will answer soon.');
const QUEUED = text('All our agents are busy; you are in the queue.');
const REMINDER = text('Thanks for waiting! An agent will be with you in a moment.');
const CSAT = { enabled: true, body: 'How did we do today?', buttonText: 'Rate us' };

interface Context {
  h: ConversationHarness;
  k: RulesKit;
  /** Saves this number's settings: QUIET plus `patch`. */
  configure(patch: SettingsPatch): Promise<void>;
  /** Records the run (and every run it continued as) of `workflowId` as `<scenario>[--<part>]`. */
  record(workflowId: string, part?: string, firstRunId?: string): Promise<void>;
  recordConversation(row: ConversationRow, part?: string): Promise<void>;
}

interface Scenario {
  name: string;
  covers: string;
  run(c: Context): Promise<void>;
}

/** Contact keys: BSUID-shaped test ids, never a phone number. */
const contact = (label: string) => `US.REPLAY.${label}`;

async function reminderStart(k: RulesKit, row: ConversationRow): Promise<number> {
  const s = (await k.state(row))!;
  assert.ok(s.unansweredSince !== null && s.assignedAt !== null, 'an unanswered stretch in an assigned conversation');
  return Math.max(s.unansweredSince, s.assignedAt);
}

/** Polls a workflow until it has closed (`result()` would let the server skip time meanwhile). */
async function completed(c: Context, workflowId: string): Promise<void> {
  await eventually(
    async () => (await c.h.env.client.workflow.getHandle(workflowId).describe()).status.name === 'COMPLETED',
    15_000,
    `${workflowId} to complete`,
  );
}

/** Two contacts and one agent with room for one: the first is assigned, the second queued. */
async function oneAssignedOneQueued(c: Context): Promise<{ first: ConversationRow; second: ConversationRow }> {
  await c.k.addAgent('alice', PN, 1);
  await c.k.customerSays(contact('first'), PN, 'Hi, my order is late');
  const first = await c.k.conversationIn(contact('first'), PN, 'assigned');
  await c.k.settle(first);
  await c.k.customerSays(contact('second'), PN, 'Hello, can someone help?');
  const second = await c.k.conversationIn(contact('second'), PN, 'queued');
  assert.equal((await c.k.waitForAutomation(second, 'queue_reply'))[0].status, 'accepted');
  await c.k.settle(second);
  return { first, second };
}

async function botConversation(c: Context, label: string): Promise<ConversationRow> {
  await c.k.customerSays(contact(label), PN, 'Hi, is my order on its way?');
  const row = await c.k.conversationIn(contact(label), PN, 'bot');
  await c.k.settle(row);
  return row;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'queue-lifecycle',
    covers:
      'R3 assign and queue, R5 queue reply, agent reply and close, R10 survey, R6 drain by close (signal to another conversation), R7 reminder, R9 auto-close, R10 survey',
    async run(c) {
      await c.configure({
        queueReply: { enabled: true, message: QUEUED },
        reminder: { enabled: true, waitMinutes: 5, message: REMINDER },
        autoClose: { enabled: true, afterMinutes: 10 },
        csat: CSAT,
      });
      const { first, second } = await oneAssignedOneQueued(c);
      await c.k.agentReplies(first, 'alice', 'Sorry! It ships today.');
      await c.k.close(first, 'alice');
      assert.equal((await c.k.waitForAutomation(first, 'csat'))[0].status, 'accepted');
      await c.k.conversationIn(contact('second'), PN, 'assigned');
      await c.k.settle(second);
      await c.k.advanceTo(second, (await reminderStart(c.k, second)) + 5 * MINUTE);
      assert.equal((await c.k.waitForAutomation(second, 'reminder'))[0].status, 'accepted');
      await c.k.agentReplies(second, 'alice', 'Hi! How can I help?');
      await c.k.advanceTo(second, (await c.k.state(second))!.lastAgentReplyAwaitingCustomer! + 10 * MINUTE);
      assert.equal((await c.k.conversationIn(contact('second'), PN, 'closed')).close_reason, 'auto_close');
      assert.equal((await c.k.waitForAutomation(second, 'csat'))[0].status, 'accepted');
      await c.k.customerAnswersSurvey(contact('second'), PN, csatRowId(second.id, 5), { title: '5 Very satisfied' });
      await c.recordConversation(first, 'first-assigned-replied-closed-by-agent');
      await c.recordConversation(second, 'second-queued-drained-reminded-auto-closed-surveyed');
    },
  },
  {
    name: 'unassigned-reply-claim-transfer-admin-close',
    covers: 'R4 unassigned reply after its delay, claim, admin transfer, agent reply, admin close',
    async run(c) {
      await c.configure({ unassignedReply: { enabled: true, delaySeconds: 30, message: UNASSIGNED } });
      await c.k.addAgent('bob', PN, 5, 'offline');
      await c.k.addAgent('carol', PN, 5, 'offline');
      await c.k.customerSays(contact('unassigned'), PN, 'Anyone there?');
      const row = await c.k.conversationIn(contact('unassigned'), PN, 'unassigned');
      await c.k.advanceTo(row, (await c.k.state(row))!.unassignedReplyOwedSince! + 30 * SECOND);
      assert.equal((await c.k.waitForAutomation(row, 'unassigned_reply'))[0].status, 'accepted');
      assert.deepEqual(await c.k.claim(row, 'bob'), { ok: true, status: 'assigned' });
      assert.deepEqual(await c.k.transfer(row, 'carol'), { ok: true, status: 'assigned' });
      await c.k.agentReplies(row, 'carol', 'Carol here, let me look.');
      await c.k.close(row);
      assert.equal((await c.k.reload(row)).close_reason, 'admin');
      await c.recordConversation(row);
    },
  },
  {
    name: 'unassigned-reply-delay-pending',
    covers: 'R4 with a 600 s delay, recorded in flight with its timer armed',
    async run(c) {
      await c.configure({ unassignedReply: { enabled: true, delaySeconds: 600, message: UNASSIGNED } });
      await c.k.customerSays(contact('waiting'), PN, 'Hello?');
      const row = await c.k.conversationIn(contact('waiting'), PN, 'unassigned');
      await c.k.advance(row, MINUTE);
      assert.deepEqual(await c.k.outbound(row), []);
      await c.recordConversation(row);
    },
  },
  {
    name: 'welcome-first-contact',
    covers: 'R1 welcome on the first message of a new contact, then assigned; in flight, reminder armed',
    async run(c) {
      await c.configure({ welcome: { enabled: true, message: WELCOME }, reminder: { enabled: true, waitMinutes: 10, message: REMINDER } });
      await c.k.addAgent('alice', PN);
      await c.k.customerSays(contact('new'), PN, 'Hi, first time here');
      const row = await c.k.conversationIn(contact('new'), PN, 'assigned');
      assert.equal((await c.k.waitForAutomation(row, 'welcome'))[0].status, 'accepted');
      await c.recordConversation(row);
    },
  },
  {
    name: 'welcome-request-welcome',
    covers: 'R1 welcome workflow on a request_welcome event',
    async run(c) {
      await c.configure({ welcome: { enabled: true, message: WELCOME } });
      await c.k.customerOpensChat(contact('opens-chat'), PN);
      const contactId = await eventually<string>(
        async () =>
          (
            await c.h
              .db('contacts')
              .where({ phone_number_id: PN, identity_key: contact('opens-chat') })
              .first('id')
          )?.id,
      );
      const workflowId = welcomeWorkflowId(PN, contactId);
      await completed(c, workflowId);
      assert.equal((await c.k.outboundToContact(contact('opens-chat'), PN, 'welcome'))[0].status, 'accepted');
      await c.record(workflowId);
    },
  },
  {
    name: 'bot-handover',
    covers: 'R8 bot conversation, bot reply, handover routed to an agent; in flight',
    async run(c) {
      await c.configure({ routing: { mode: 'bot' }, unassignedReply: { enabled: true, delaySeconds: 0, message: UNASSIGNED } });
      await c.k.addAgent('alice', PN);
      const row = await botConversation(c, 'bot-handover');
      await c.k.botReplies(row, 'Let me get you a human.');
      assert.deepEqual(await c.k.botHandsOver(row), { ok: true, status: 'assigned' });
      await c.k.conversationIn(contact('bot-handover'), PN, 'assigned');
      await c.recordConversation(row);
    },
  },
  {
    name: 'bot-complete',
    covers: 'R8 bot reply, then the bot completes the conversation (no survey)',
    async run(c) {
      await c.configure({ routing: { mode: 'bot' }, csat: CSAT });
      const row = await botConversation(c, 'bot-complete');
      await c.k.botReplies(row, 'Your order ships today. Anything else?');
      await c.k.botCompletes(row);
      assert.equal((await c.k.conversationIn(contact('bot-complete'), PN, 'closed')).close_reason, 'bot_completed');
      await c.recordConversation(row);
    },
  },
  {
    name: 'bot-auto-close',
    covers: 'R8 bot conversation closed after 10 minutes of customer silence',
    async run(c) {
      await c.configure({ routing: { mode: 'bot' } });
      const row = await botConversation(c, 'bot-silent');
      await c.k.advanceTo(row, (await c.k.state(row))!.botActiveAt! + 10 * MINUTE);
      assert.equal((await c.k.conversationIn(contact('bot-silent'), PN, 'closed')).close_reason, 'bot_timeout');
      await c.recordConversation(row);
    },
  },
  {
    name: 'continue-as-new',
    covers: 'continue-as-new with continueAsNewAfterEvents set low: state, timers and the reminder carried into the next run',
    async run(c) {
      await c.configure({ reminder: { enabled: true, waitMinutes: 10, message: REMINDER } });
      await c.k.addAgent('alice', PN);
      const [{ id: contactId }] = await c.h
        .db('contacts')
        .insert({ phone_number_id: PN, identity_key: contact('long'), user_id: contact('long') })
        .returning('id');
      let n = 0;
      const message = async (): Promise<CustomerMessageSignal> => {
        const i = n++;
        const [row] = await c.h
          .db('messages')
          .insert({
            phone_number_id: PN,
            contact_id: contactId,
            direction: 'inbound',
            author: 'customer',
            wamid: `wamid.REPLAY.LONG${i}`,
            type: 'text',
            content: JSON.stringify({ kind: 'text', body: `message ${i}` }),
            status: 'received',
            sent_at: new Date(await c.h.now()),
          })
          .returning('id');
        return { messageId: row.id as string, sentAt: await c.h.now(), opensServiceWindow: true, isFirstContact: false };
      };
      const workflowId = conversationWorkflowId(PN, contactId);
      const handle = await c.h.env.client.workflow.signalWithStart('conversationWorkflow', {
        taskQueue: c.h.taskQueue,
        workflowId,
        args: [{ phoneNumberId: PN, contactId, continueAsNewAfterEvents: 40 }],
        signal: customerMessageSignal,
        signalArgs: [await message()],
      });
      const row = await c.k.conversationIn(contact('long'), PN, 'assigned');
      await c.k.settle(row);
      const firstRunId = handle.signaledRunId;
      const currentRun = async () => (await c.h.env.client.workflow.getHandle(workflowId).describe()).runId;
      while ((await currentRun()) === firstRunId) {
        assert.ok(n < 30, 'the conversation continued as new');
        await handle.signal(customerMessageSignal, await message());
        await c.k.settle(row);
        await c.h.env.sleep(SECOND);
      }
      await c.k.settle(row);
      // The reminder armed in the first run fires in the second.
      await c.k.advanceTo(row, (await reminderStart(c.k, row)) + 10 * MINUTE);
      assert.equal((await c.k.waitForAutomation(row, 'reminder'))[0].status, 'accepted');
      await c.record(workflowId, undefined, firstRunId);
    },
  },
  {
    name: 'settings-rearm',
    covers: 'R12 settings broadcast workflow; the conversation re-arms its reminder from the same start (60 → 30 minutes)',
    async run(c) {
      await c.configure({ reminder: { enabled: true, waitMinutes: 60, message: REMINDER } });
      await c.k.addAgent('alice', PN);
      await c.k.customerSays(contact('settings'), PN, 'Where is my parcel?');
      const row = await c.k.conversationIn(contact('settings'), PN, 'assigned');
      await c.k.settle(row);
      const start = await reminderStart(c.k, row);
      await c.k.advanceTo(row, start + 10 * MINUTE);
      await c.configure({ reminder: { enabled: true, waitMinutes: 30, message: REMINDER } });
      // As PUT /numbers/:id/automation does.
      const broadcastId = settingsBroadcastWorkflowId(PN);
      await c.h.env.client.workflow.start('settingsBroadcastWorkflow', {
        taskQueue: c.h.taskQueue,
        workflowId: broadcastId,
        args: [{ phoneNumberId: PN }],
        workflowIdConflictPolicy: 'TERMINATE_EXISTING',
      });
      await completed(c, broadcastId);
      await eventually(async () => (await c.k.state(row))?.settings.reminder.waitMinutes === 30, 10_000, 'settings applied');
      await c.k.settle(row);
      assert.deepEqual(await c.k.outbound(row, 'reminder'), []);
      await c.k.advanceTo(row, start + 30 * MINUTE);
      assert.equal((await c.k.waitForAutomation(row, 'reminder'))[0].status, 'accepted');
      await c.recordConversation(row, 'conversation');
      await c.record(broadcastId, 'broadcast');
    },
  },
  {
    name: 'queue-drain-agent-online',
    covers: 'R6 queue drain workflow when an agent comes online; the queued conversation learns its agent by signal; in flight',
    async run(c) {
      await c.configure({ queueReply: { enabled: true, message: QUEUED } });
      const { second } = await oneAssignedOneQueued(c);
      await c.k.addAgent('bob', PN, 2);
      // As PUT /agents/:id with status online does.
      const drainId = `queue-drain:bob:${randomUUID()}`;
      await c.h.env.client.workflow.start('queueDrainWorkflow', { taskQueue: c.h.taskQueue, workflowId: drainId, args: [{ agentId: 'bob' }] });
      await completed(c, drainId);
      assert.equal((await c.k.conversationIn(contact('second'), PN, 'assigned')).agent_id, 'bob');
      await c.k.settle(second);
      await c.record(drainId, 'drain');
      await c.recordConversation(second, 'queued-conversation');
    },
  },
  {
    name: 'assignment-sweeper',
    covers: 'R6 safety net: the sweeper re-sends a drain notification that was lost; in flight between sweeps',
    async run(c) {
      await c.configure({ queueReply: { enabled: true, message: QUEUED } });
      const { second } = await oneAssignedOneQueued(c);
      // A drain that committed, but whose process died before telling the conversation.
      await c.h.db('agents').where({ id: 'alice' }).update({ reception_limit: 2 });
      assert.deepEqual(
        (await createAssignmentStore(c.h.db).drainForAgent('alice')).map((a) => a.conversationId),
        [second.id],
      );
      // The sweeper judges an outbox row's age by the database clock, which time skipping
      // does not move: date the lost drain a minute back, as if that much real time had passed.
      await c.h.db('assignment_outbox').update({ created_at: c.h.db.raw(`now() - interval '1 minute'`) });
      await c.h.env.client.workflow.start('assignmentSweeperWorkflow', { taskQueue: c.h.taskQueue, workflowId: ASSIGNMENT_SWEEPER_WORKFLOW_ID });
      await c.h.env.sleep(40 * SECOND);
      await c.k.conversationIn(contact('second'), PN, 'assigned');
      await c.k.settle(second);
      await c.record(ASSIGNMENT_SWEEPER_WORKFLOW_ID, 'sweeper');
      await c.recordConversation(second, 'queued-conversation');
    },
  },
  {
    name: 'window-skip-unassigned-reply',
    covers: 'R11: an unassigned reply due outside the 24-hour window is recorded as skipped, not sent; in flight',
    async run(c) {
      await c.configure({ unassignedReply: { enabled: true, delaySeconds: 600, message: UNASSIGNED } });
      // Meta stamped the message 23 h 55 min ago (delivered late): the delay ends outside the window.
      await c.k.customerSays(contact('late'), PN, 'hello?', { sentAt: (await c.h.now()) - 24 * HOUR + 5 * MINUTE });
      const row = await c.k.conversationIn(contact('late'), PN, 'unassigned');
      await c.k.advanceTo(row, (await c.k.state(row))!.unassignedReplyOwedSince! + 600 * SECOND);
      const [reply] = await c.k.waitForAutomation(row, 'unassigned_reply');
      assert.equal(reply.status, 'skipped');
      assert.deepEqual(c.k.sentTo(contact('late')), []);
      await c.recordConversation(row);
    },
  },
  {
    name: 'queue-position-updates',
    covers: 'R15: queue message with {{position}}; updates every P looked at, sent only when the place improved; in flight, still queued',
    async run(c) {
      await c.configure({
        queueReply: {
          enabled: true,
          message: text('You are number {{position}} in the queue.'),
          positionUpdates: { enabled: true, everyMinutes: 5, message: text('You are now number {{position}} ({{ahead}} ahead).') },
        },
      });
      const { first, second } = await oneAssignedOneQueued(c);
      await c.k.customerSays(contact('third'), PN, 'Is anyone there?');
      const third = await c.k.conversationIn(contact('third'), PN, 'queued');
      await c.k.settle(third);
      const queuedAt = (await c.k.state(third))!.queuedAt!;
      await c.k.advanceTo(third, queuedAt + 5 * MINUTE);
      assert.deepEqual(await c.k.outbound(third, 'queue_position'), [], 'not improved: nothing sent');
      await c.k.agentReplies(first, 'alice', 'All done!');
      await c.k.close(first, 'alice');
      await c.k.conversationIn(contact('second'), PN, 'assigned');
      await c.k.advanceTo(third, queuedAt + 10 * MINUTE);
      assert.equal((await c.k.waitForAutomation(third, 'queue_position'))[0].status, 'accepted');
      await c.k.settle(second);
      await c.recordConversation(third, 'third-queued-moved-up');
    },
  },
  {
    name: 'business-hours-out-of-office',
    covers:
      'R14: closed (a closed date): the out-of-office message instead of the unassigned reply, once per closed period; R7 with pauseClocks waiting for the opening; in flight',
    async run(c) {
      const day = 24 * 60 * MINUTE;
      const today = Date.parse(`${new Date(await c.h.now()).toISOString().slice(0, 10)}T00:00:00Z`);
      const allDay: [string, string][] = [['00:00', '24:00']];
      await c.configure({
        unassignedReply: { enabled: true, delaySeconds: 0, message: UNASSIGNED },
        reminder: { enabled: true, waitMinutes: 5, message: REMINDER },
        businessHours: {
          enabled: true,
          timezone: 'UTC',
          pauseClocks: true,
          weekly: { mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: allDay, sat: allDay, sun: allDay },
          closedDates: [new Date(today).toISOString().slice(0, 10), new Date(today + day).toISOString().slice(0, 10)],
          outOfOfficeMessage: text('We are closed; we answer when we open.'),
        },
      });
      await c.k.customerSays(contact('closed'), PN, 'Hello?');
      const waiting = await c.k.conversationIn(contact('closed'), PN, 'unassigned');
      assert.equal((await c.k.waitForAutomation(waiting, 'out_of_office'))[0].status, 'accepted');
      await c.k.customerSays(contact('closed'), PN, 'Anyone?');
      await c.k.settle(waiting);
      assert.equal((await c.k.outbound(waiting, 'out_of_office')).length, 1);
      await c.k.addAgent('alice', PN, 1);
      await c.k.customerSays(contact('served'), PN, 'Hi there');
      const served = await c.k.conversationIn(contact('served'), PN, 'assigned');
      await c.k.settle(served);
      await c.recordConversation(waiting, 'waiting-told-closed-once');
      await c.recordConversation(served, 'served-reminder-paused');
    },
  },
  {
    name: 'reassign-unanswered-and-offline',
    covers:
      'R13: taken from the agent after X without a reply and routed to another (never back); the agent-offline workflow signals the conversations of an agent who went offline; R7 reminder before X; in flight',
    async run(c) {
      await c.configure({
        reminder: { enabled: true, waitMinutes: 5, message: REMINDER },
        reassign: { enabled: true, afterMinutes: 15, onAgentOffline: true },
      });
      await c.k.addAgent('alice', PN, 2);
      await c.k.addAgent('bob', PN, 2);
      await c.k.customerSays(contact('unanswered'), PN, 'Hello? Anyone?');
      const unanswered = await c.k.conversationIn(contact('unanswered'), PN, 'assigned');
      assert.equal(unanswered.agent_id, 'alice');
      await c.k.settle(unanswered);
      const start = await reminderStart(c.k, unanswered);
      await c.k.advanceTo(unanswered, start + 5 * MINUTE);
      assert.equal((await c.k.waitForAutomation(unanswered, 'reminder'))[0].status, 'accepted');
      await c.k.advanceTo(unanswered, start + 15 * MINUTE);
      await eventually(async () => (await c.k.state(unanswered))?.agentId === 'bob', 10_000, 'reassigned to bob');
      await c.k.settle(unanswered);
      await c.k.customerSays(contact('offline'), PN, 'Hi, I need help');
      const left = await c.k.conversationIn(contact('offline'), PN, 'assigned');
      assert.equal(left.agent_id, 'alice');
      await c.k.settle(left);
      // As PUT /agents/:id/status with status offline does.
      await c.h.db('agents').where({ id: 'alice' }).update({ status: 'offline' });
      const offlineId = 'agent-offline:alice:replay';
      await c.h.env.client.workflow.start('agentOfflineWorkflow', { taskQueue: c.h.taskQueue, workflowId: offlineId, args: [{ agentId: 'alice' }] });
      await completed(c, offlineId);
      await eventually(async () => (await c.k.state(left))?.agentId === 'bob', 10_000, 'moved to bob');
      await c.k.settle(left);
      await c.record(offlineId, 'offline');
      await c.recordConversation(unanswered, 'reassigned-after-x');
      await c.recordConversation(left, 'reassigned-agent-offline');
    },
  },
  {
    name: 'event-delivery',
    covers: "SPEC §9: a subscription delivers a conversation's events in order, is woken by a signal for more, and waits for its next look",
    async run(c) {
      const receiver = await new EventReceiver().start();
      try {
        const subscriptionId = 'replay-hook';
        await c.h.store.webhooks.put({
          id: subscriptionId,
          url: `${receiver.url}/hook`,
          secret: 'replay-secret-0123456789',
          eventTypes: ['conversation.opened', 'message.received', 'conversation.routed'],
          phoneNumberIds: null,
          enabled: true,
        });
        await c.configure({});
        await c.k.customerSays(contact('events'), PN, 'hello');
        await c.k.conversationIn(contact('events'), PN, 'unassigned');
        const workflowId = eventDeliveryWorkflowId(subscriptionId);
        await c.h.env.client.workflow.start(EVENT_DELIVERY_WORKFLOW_TYPE, { taskQueue: c.h.taskQueue, workflowId, args: [{ subscriptionId }] });
        await eventually(async () => receiver.at('/hook').length >= 3, 15_000, 'opened, received, routed delivered');
        await c.k.customerSays(contact('events'), PN, 'anyone there?');
        await c.h.env.client.workflow.getHandle(workflowId).signal(newEventsSignal);
        await eventually(async () => receiver.at('/hook').length >= 4, 15_000, 'the second message delivered');
        assert.deepEqual(
          receiver.at('/hook').map((d) => d.event.type),
          ['conversation.opened', 'message.received', 'conversation.routed', 'message.received'],
        );
        await c.record(workflowId);
      } finally {
        await receiver.stop();
      }
    },
  },
];

interface Options {
  only: string | null;
  tag: string | null;
  overwrite: boolean;
  list: boolean;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { only: null, tag: null, overwrite: false, list: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--only') options.only = argv[++i] ?? '';
    else if (arg === '--tag') options.tag = argv[++i] ?? '';
    else if (arg === '--overwrite') options.overwrite = true;
    else if (arg === '--list') options.list = true;
    else throw new Error(`unknown argument ${arg}; use --only <text>, --tag <name>, --overwrite or --list`);
  }
  if (options.tag !== null && !/^[a-z0-9][a-z0-9.-]*$/i.test(options.tag)) throw new Error('--tag takes letters, digits, dots and dashes');
  return options;
}

function fileName(scenario: string, part: string | undefined, tag: string | null): string {
  return `${scenario}${part ? `--${part}` : ''}${tag ? `@${tag}` : ''}.json`;
}

/** Files a scenario wrote before (with this tag): `<scenario>.json` and `<scenario>--*.json`. */
function existingFiles(scenario: string, tag: string | null): string[] {
  const suffix = `${tag ? `@${tag}` : ''}.json`;
  return readdirSync(HISTORIES_DIR).filter(
    (f) => f.endsWith(suffix) && !(tag === null && f.includes('@')) && (f === `${scenario}${suffix}` || f.startsWith(`${scenario}--`)),
  );
}

function codeVersion(): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: path.resolve(__dirname, '../..'), encoding: 'utf8' }).trim();
  try {
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', 'workflows') ? '+dirty' : ''}`;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const selected = SCENARIOS.filter((s) => options.only === null || s.name.includes(options.only));
  if (options.list) {
    for (const s of SCENARIOS) console.log(`${s.name.padEnd(46)} ${s.covers}`);
    return;
  }
  if (selected.length === 0) throw new Error(`no scenario matches ${options.only}`);
  mkdirSync(HISTORIES_DIR, { recursive: true });
  const recordedFrom = codeVersion();
  const started = Date.now();
  let written = 0;
  try {
    for (const scenario of selected) {
      const existing = existingFiles(scenario.name, options.tag);
      if (existing.length > 0 && !options.overwrite) {
        console.log(`kept      ${scenario.name}: ${existing.join(', ')} (--overwrite replaces, --tag adds)`);
        continue;
      }
      const scenarioStarted = Date.now();
      const h = await createConversationHarness();
      const k = rulesKit(h);
      const pending: { file: string; content: string; summary: string }[] = [];

      const record: Context['record'] = async (workflowId, part, firstRunId) => {
        const client = h.env.client.workflow;
        const runs: { runId: string; history: temporal.api.history.v1.IHistory; status: string }[] = [];
        let runId: string | null | undefined = firstRunId ?? (await client.getHandle(workflowId).describe()).runId;
        while (runId) {
          const handle = client.getHandle(workflowId, runId);
          const history: temporal.api.history.v1.IHistory = await eventually(
            async (): Promise<temporal.api.history.v1.IHistory | undefined> => {
              const fetched = await handle.fetchHistory();
              return isIdle(fetched.events ?? []) ? fetched : undefined;
            },
            10_000,
            `${workflowId} (run ${runId}) to settle`,
          );
          runs.push({ runId, history, status: (await handle.describe()).status.name });
          runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
        }
        runs.forEach((run, i) => {
          const events = run.history.events ?? [];
          const runPart = runs.length > 1 ? [part, `run-${i + 1}`].filter(Boolean).join('--') : part;
          const name = fileName(scenario.name, runPart, options.tag).replace(/\.json$/, '');
          const failed = events.find((e) => e.workflowTaskFailedEventAttributes);
          assert.equal(
            failed,
            undefined,
            `${name}: a workflow task failed while recording: ${JSON.stringify(failed?.workflowTaskFailedEventAttributes?.failure?.message)}`,
          );
          const content: RecordedHistory = {
            name,
            workflowType: events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? 'unknown',
            workflowId,
            runId: run.runId,
            status: run.status,
            recordedFrom,
            history: JSON.parse(historyToJSON(run.history)),
          };
          const leaked = phoneNumberLikeStrings(content, TEST_PHONE_NUMBER_IDS);
          assert.deepEqual(leaked, [], `${name}: phone-number-like strings that are not test data`);
          pending.push({
            file: `${name}.json`,
            content: `${JSON.stringify(content, null, 2)}\n`,
            summary: `${content.workflowType}, ${events.length} events, ${run.status}`,
          });
        });
      };

      const context: Context = {
        h,
        k,
        configure: (patch) => h.saveSettings(settings(QUIET, patch), PN),
        record,
        recordConversation: (row, part) => record(row.workflow_id, part),
      };
      try {
        await h.run(() => scenario.run(context));
      } finally {
        await h.close();
      }
      // Written only once the whole scenario succeeded: no half-recorded scenario on disk.
      for (const f of existing)
        if (!pending.some((p) => p.file === f))
          console.log(`  stale   ${f} (not written by this scenario any more; delete it if no run of its code can be open)`);
      for (const p of pending) {
        writeFileSync(path.join(HISTORIES_DIR, p.file), p.content);
        written += 1;
        console.log(`recorded  ${p.file.padEnd(72)} ${p.summary}, ${Math.round(p.content.length / 1024)} KB`);
      }
      console.log(`          (${scenario.name}: ${((Date.now() - scenarioStarted) / 1000).toFixed(1)} s)`);
    }
  } finally {
    await stopSharedEnvironment();
  }
  console.log(
    `${written} histories written to ${path.relative(process.cwd(), HISTORIES_DIR)} from ${recordedFrom} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  if (existsSync(HISTORIES_DIR))
    console.log(
      `${readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json')).length} histories in the directory; replay them: npm run test:replay`,
    );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
