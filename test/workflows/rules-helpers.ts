/**
 * Shared vocabulary for the rule tests (rules-*.test.ts): find a contact's conversation,
 * act as an agent, admin or bot through the workflow's updates, move workflow time, and
 * read what was sent. Every helper goes through the real parts the harness runs: the
 * webhook intake, the time-skipping server, the worker's activities and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { InboundMessageEvent } from '../../src/whatsapp/webhook-events';
import type { AutomationSettings } from '../../workflows/rules/automation-settings';
import type { ConversationState } from '../../workflows/rules/conversation-machine';
import {
  agentReplyUpdate,
  assignUpdate,
  botCompleteUpdate,
  botHandoverUpdate,
  botReplyUpdate,
  claimUpdate,
  closeUpdate,
  conversationStateQuery,
  settingsChangedSignal,
  CONVERSATION_CONFLICT,
  type ConversationActionResult,
} from '../../workflows/conversation/contract';
import { welcomeWorkflowId } from '../../workflows/welcome/contract';
import { createConversationHarness, eventually, type ConversationHarness } from '../support/conversation-harness';

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

export type SettingsPatch = Partial<{ [K in keyof AutomationSettings]: Partial<AutomationSettings[K]> }>;
export type AutomationName = 'welcome' | 'unassigned_reply' | 'queue_reply' | 'queue_position' | 'out_of_office' | 'reminder' | 'csat';

export interface ConversationRow {
  id: string;
  workflow_id: string;
  phone_number_id: string;
  contact_id: string;
  status: string;
  agent_id: string | null;
  close_reason: string | null;
}

export interface MessageRow {
  id: string;
  conversation_id: string | null;
  contact_id: string;
  direction: 'inbound' | 'outbound';
  author: string;
  agent_id: string | null;
  automation: string | null;
  status: string;
  skip_reason: string | null;
  content: Record<string, unknown>;
}

/** How a conversation action ended: done, or refused with a conflict (HTTP 409). */
export type ActionOutcome = ({ ok: true } & ConversationActionResult) | { ok: false; message: string };

/** Runs a conversation action; a refusal becomes `{ ok: false }`, anything else still throws. */
export async function outcomeOf(action: Promise<ConversationActionResult>): Promise<ActionOutcome> {
  try {
    return { ok: true, ...(await action) };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && error.cause.type === CONVERSATION_CONFLICT) {
      return { ok: false, message: error.cause.message };
    }
    throw error;
  }
}

export type TextMessage = { type: 'text'; text: { body: string } };
export const text = (body: string): TextMessage => ({ type: 'text', text: { body } });

/** Settings in which no rule fires unless a test turns it on: each test states what it relies on. */
export const QUIET: SettingsPatch = {
  routing: { mode: 'auto' },
  welcome: { enabled: false },
  unassignedReply: { enabled: false },
  queueReply: { enabled: false },
  reminder: { enabled: false },
  autoClose: { enabled: false },
  csat: { enabled: false },
};

/** Merges settings patches block by block (a later block's fields win). */
export function settings(...patches: SettingsPatch[]): SettingsPatch {
  const merged: Record<string, Record<string, unknown>> = {};
  for (const patch of patches) {
    for (const [block, fields] of Object.entries(patch)) merged[block] = { ...(merged[block] ?? {}), ...(fields as object) };
  }
  return merged as SettingsPatch;
}

let numberCounter = 0;
/** A phone number id of its own, so one test's settings and agents never reach another. */
export function freshNumber(): string {
  return `2${String(Date.now() % 1e9).padStart(9, '0')}${String(++numberCounter).padStart(4, '0')}`;
}

let contactCounter = 0;
export function freshContact(label: string): string {
  return `US.${label}.${++contactCounter}.${randomUUID().slice(0, 8)}`;
}

export function rulesKit(h: ConversationHarness) {
  const handleOf = (row: ConversationRow) => h.env.client.workflow.getHandle(row.workflow_id);

  async function contactIdOf(contactKey: string, phoneNumberId: string): Promise<string | undefined> {
    const contact = await h.db('contacts').where({ phone_number_id: phoneNumberId, identity_key: contactKey }).first('id');
    return contact?.id;
  }

  /** The contact's conversations, oldest first. */
  async function conversationsOf(contactKey: string, phoneNumberId: string): Promise<ConversationRow[]> {
    const contactId = await contactIdOf(contactKey, phoneNumberId);
    if (!contactId) return [];
    return h.db('conversations').where({ contact_id: contactId }).orderBy('opened_at');
  }

  /**
   * Leaves nothing pending: the time-skipping server holds time still while any workflow
   * task or activity is outstanding, globally. A conversation left with an armed timer
   * would, once a later test moves time past it, wait for a worker that no longer polls
   * its queue (10 s at best, for ever once this file's harness is gone). So every open
   * conversation is closed (as an admin) and every workflow is let settle.
   */
  async function closeEverythingOpen(): Promise<void> {
    for (let round = 0; round < 5; round++) {
      const open: ConversationRow[] = await h.db('conversations').whereNot({ status: 'closed' });
      if (open.length === 0) break;
      for (const row of open) {
        await kit.settle(row);
        await handleOf(row)
          .executeUpdate(closeUpdate, { args: [{ conversationId: row.id }] })
          .catch(() => undefined); // already closed, or a run of a later conversation
      }
    }
    for (const row of (await h.db('conversations')) as ConversationRow[]) await kit.settle(row);
    for (const contact of await h.db('contacts').select('id', 'phone_number_id')) {
      const welcome = h.env.client.workflow.getHandle(welcomeWorkflowId(contact.phone_number_id, contact.id));
      await eventually(
        async () => isIdle((await welcome.fetchHistory().catch(() => ({ events: [] }))).events ?? []),
        10_000,
        'welcome workflow to settle',
      );
    }
  }

  const kit = {
    handleOf,

    /**
     * Runs a test body while a worker polls (see harness `run`), then closes what the test
     * left open so no armed timer outlives it.
     */
    async run<T>(fn: () => Promise<T>): Promise<T> {
      return h.run(async () => {
        let result: T;
        try {
          result = await fn();
        } catch (error) {
          await closeEverythingOpen().catch(() => undefined);
          throw error;
        }
        await closeEverythingOpen();
        return result;
      });
    },

    /** A number of its own whose settings are QUIET plus `patch`. */
    async numberWith(patch: SettingsPatch): Promise<string> {
      const phoneNumberId = freshNumber();
      await h.saveSettings(settings(QUIET, patch), phoneNumberId);
      return phoneNumberId;
    },

    /** An inbound customer text through the real webhook intake; returns its wamid. */
    async customerSays(
      contactKey: string,
      phoneNumberId: string,
      body = 'Hello?',
      options: { wamid?: string; sentAt?: number } = {},
    ): Promise<string> {
      return h.customerSays(contactKey, body, { ...options, phoneNumberId });
    },

    /** An agent serving only `phoneNumberId`, so agents of other tests never take its conversations. */
    async addAgent(id: string, phoneNumberId: string, receptionLimit = 5, status: 'online' | 'offline' = 'online'): Promise<string> {
      await h
        .db('agents')
        .insert({ id, name: id, reception_limit: receptionLimit, status, phone_number_ids: [phoneNumberId] })
        .onConflict('id')
        .merge();
      return id;
    },

    conversationsOf,

    /**
     * Waits for the contact's newest conversation to be routed and in `status` (in the
     * database and in the workflow), and returns it.
     */
    async conversationIn(contactKey: string, phoneNumberId: string, status: string): Promise<ConversationRow> {
      return eventually(
        async () => {
          const rows = await conversationsOf(contactKey, phoneNumberId);
          const row = rows[rows.length - 1];
          if (!row || row.status !== status) return undefined;
          if (status === 'closed') return row;
          const state = await kit.state(row);
          return state?.conversationId === row.id && state.status === status ? row : undefined;
        },
        10_000,
        `conversation of ${contactKey} to be ${status}`,
      );
    },

    async reload(row: ConversationRow): Promise<ConversationRow> {
      return h.db('conversations').where({ id: row.id }).first();
    },

    async state(row: ConversationRow): Promise<ConversationState | null> {
      return handleOf(row).query(conversationStateQuery);
    },

    /**
     * Waits until the conversation's workflow has nothing in flight: every workflow task
     * and activity it scheduled has finished. Only then is "nothing was sent" a fact
     * rather than a race with a worker that is still busy.
     */
    async settle(row: ConversationRow): Promise<void> {
      await eventually(
        async () => {
          const history = await handleOf(row).fetchHistory();
          return isIdle(history.events ?? []);
        },
        10_000,
        `workflow ${row.workflow_id} to settle`,
      );
    },

    /** Outbound rows of a conversation (or of an automation in it), oldest first. */
    async outbound(row: ConversationRow, automation?: AutomationName): Promise<MessageRow[]> {
      return h
        .db('messages')
        .where({ conversation_id: row.id, direction: 'outbound' })
        .modify((q) => {
          if (automation) q.where({ automation });
        })
        .orderBy('created_at');
    },

    /** Outbound rows to a contact across all its conversations (welcomes have none). */
    async outboundToContact(contactKey: string, phoneNumberId: string, automation?: AutomationName): Promise<MessageRow[]> {
      const contactId = await contactIdOf(contactKey, phoneNumberId);
      if (!contactId) return [];
      return h
        .db('messages')
        .where({ contact_id: contactId, direction: 'outbound' })
        .modify((q) => {
          if (automation) q.where({ automation });
        })
        .orderBy('created_at');
    },

    /** Waits for the `count`-th row of an automation to reach a final status; returns them all. */
    async waitForAutomation(row: ConversationRow, automation: AutomationName, count = 1): Promise<MessageRow[]> {
      return eventually(
        async () => {
          const rows = await kit.outbound(row, automation);
          return rows.length >= count && rows.every((r) => r.status !== 'pending') ? rows : undefined;
        },
        10_000,
        `${count} ${automation} message(s) in ${row.id}`,
      );
    },

    /** What the fake Graph API received for this contact, in order. */
    sentTo(contactKey: string): Record<string, unknown>[] {
      return h.graph
        .messageRequests()
        .filter((r) => r.body.recipient === contactKey)
        .map((r) => r.body);
    },

    /** Moves workflow time by `ms`, then waits until the conversation has acted on it. */
    async advance(row: ConversationRow, ms: number): Promise<void> {
      await h.env.sleep(ms);
      await kit.settle(row);
    },

    /** Moves workflow time to `at` (server epoch ms), then lets the conversation act on it. */
    async advanceTo(row: ConversationRow, at: number): Promise<void> {
      const now = await h.now();
      assert.ok(at >= now, `cannot move back in time: ${at - now} ms`);
      await kit.advance(row, at - now);
    },

    async claim(row: ConversationRow, agentId: string): Promise<ActionOutcome> {
      return outcomeOf(handleOf(row).executeUpdate(claimUpdate, { args: [{ conversationId: row.id, agentId }] }));
    },

    /** Admin transfer to `agentId`. */
    async transfer(row: ConversationRow, agentId: string): Promise<ActionOutcome> {
      return outcomeOf(handleOf(row).executeUpdate(assignUpdate, { args: [{ conversationId: row.id, agentId }] }));
    },

    async agentReplies(row: ConversationRow, agentId: string, body = 'Happy to help'): Promise<void> {
      const result = await outcomeOf(
        handleOf(row).executeUpdate(agentReplyUpdate, { args: [{ conversationId: row.id, agentId, message: text(body) }] }),
      );
      assert.deepEqual(result.ok, true, JSON.stringify(result));
    },

    /** With an agent id, the agent closes; without, an admin does. */
    async close(row: ConversationRow, agentId?: string): Promise<void> {
      const result = await outcomeOf(
        handleOf(row).executeUpdate(closeUpdate, { args: [{ conversationId: row.id, ...(agentId ? { agentId } : {}) }] }),
      );
      assert.deepEqual(result, { ok: true, status: 'closed' });
    },

    async botReplies(row: ConversationRow, body = 'I am the bot'): Promise<void> {
      const result = await outcomeOf(handleOf(row).executeUpdate(botReplyUpdate, { args: [{ conversationId: row.id, message: text(body) }] }));
      assert.equal(result.ok, true, JSON.stringify(result));
    },

    async botHandsOver(row: ConversationRow): Promise<ActionOutcome> {
      return outcomeOf(handleOf(row).executeUpdate(botHandoverUpdate, { args: [{ conversationId: row.id }] }));
    },

    async botCompletes(row: ConversationRow): Promise<void> {
      const result = await outcomeOf(handleOf(row).executeUpdate(botCompleteUpdate, { args: [{ conversationId: row.id }] }));
      assert.deepEqual(result, { ok: true, status: 'closed' });
    },

    /** Saves settings and tells the running conversation, as the settings API does (R12). */
    async changeSettings(row: ConversationRow, patch: SettingsPatch): Promise<void> {
      await h.saveSettings(patch, row.phone_number_id);
      const saved = await h.db('automation_settings').where({ phone_number_id: row.phone_number_id }).first('settings');
      await handleOf(row).signal(settingsChangedSignal, { settings: saved.settings as AutomationSettings });
      await eventually(async () => JSON.stringify((await kit.state(row))?.settings) === JSON.stringify(saved.settings), 10_000, 'settings applied');
      await kit.settle(row);
    },

    /** An inbound text event as the webhook parser reports it, for batches built by hand. */
    textEvent(contactKey: string, phoneNumberId: string, body: string, wamid: string, sentAt: number): InboundMessageEvent {
      return inboundEvent(contactKey, phoneNumberId, wamid, sentAt, {
        type: 'text',
        rawType: 'text',
        content: { kind: 'text', body },
        raw: { id: wamid, type: 'text', text: { body } },
      });
    },

    /** A tap on a survey row, as the webhook parser reports an interactive list reply. */
    async customerAnswersSurvey(
      contactKey: string,
      phoneNumberId: string,
      rowId: string,
      options: { wamid?: string; title?: string } = {},
    ): Promise<string> {
      const wamid = options.wamid ?? `wamid.CSAT${randomUUID()}`;
      await h.intake.accept([
        inboundEvent(contactKey, phoneNumberId, wamid, await h.now(), {
          type: 'interactive',
          rawType: 'interactive',
          content: { kind: 'list_reply', id: rowId, title: options.title ?? 'rating', description: null },
          raw: { id: wamid, type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: rowId, title: options.title ?? 'rating' } } },
        }),
      ]);
      return wamid;
    },

    /** The customer taps a quick-reply button of a template (R16's survey), carrying `payload`. */
    async customerTapsTemplateButton(contactKey: string, phoneNumberId: string, payload: string, text = 'rating'): Promise<string> {
      const wamid = `wamid.TB${randomUUID()}`;
      await h.intake.accept([
        inboundEvent(contactKey, phoneNumberId, wamid, await h.now(), {
          type: 'button',
          rawType: 'button',
          content: { kind: 'template_button', payload, text },
          raw: { id: wamid, type: 'button', button: { payload, text } },
        }),
      ]);
      return wamid;
    },

    /** The contact opened the chat (Meta's deprecated request_welcome event). */
    async customerOpensChat(contactKey: string, phoneNumberId: string, wamid = `wamid.RW${randomUUID()}`): Promise<string> {
      await h.intake.accept([
        inboundEvent(contactKey, phoneNumberId, wamid, await h.now(), {
          type: 'request_welcome',
          rawType: 'request_welcome',
          content: { kind: 'request_welcome' },
          raw: { id: wamid, type: 'request_welcome' },
        }),
      ]);
      return wamid;
    },
  };
  return kit;
}

export type RulesKit = ReturnType<typeof rulesKit>;

function inboundEvent(
  contactKey: string,
  phoneNumberId: string,
  wamid: string,
  sentAt: number,
  fields: Pick<InboundMessageEvent, 'type' | 'rawType' | 'content' | 'raw'>,
): InboundMessageEvent {
  return {
    kind: 'message',
    phoneNumberId,
    wamid,
    sentAt: new Date(sentAt),
    contact: { key: contactKey, userId: contactKey, waId: null, profileName: 'Test Customer' },
    contextMessageId: null,
    referral: null,
    errors: [],
    opensServiceWindow: true,
    ...fields,
  };
}

/** No workflow task and no activity is scheduled without having finished. */
export function isIdle(events: temporal.api.history.v1.IHistoryEvent[]): boolean {
  let workflowTasks = 0;
  const activities = new Set<string>();
  for (const e of events) {
    if (e.workflowTaskScheduledEventAttributes) workflowTasks += 1;
    if (e.workflowTaskCompletedEventAttributes || e.workflowTaskFailedEventAttributes || e.workflowTaskTimedOutEventAttributes) workflowTasks -= 1;
    if (e.activityTaskScheduledEventAttributes) activities.add(String(e.eventId));
    const done =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskTimedOutEventAttributes ??
      e.activityTaskCanceledEventAttributes;
    if (done) activities.delete(String(done.scheduledEventId));
  }
  return workflowTasks === 0 && activities.size === 0;
}

/** Forwards every property read to the object `target()` returns then (set up in a `before`). */
function late<T extends object>(target: () => T, what: string): T {
  return new Proxy({} as T, {
    get(_unused, property) {
      const value = target();
      if (!value) throw new Error(`${what} is used before the set-up ran`);
      return Reflect.get(value, property);
    },
  });
}

/**
 * The one set-up of the rule test files: a harness of their own (time-skipping server,
 * worker, PostgreSQL database, fake Graph API) started before the file's tests and closed
 * after them, and the rules kit over it.
 */
export function useRulesHarness(): { harness: ConversationHarness; kit: RulesKit } {
  let harness: ConversationHarness | undefined;
  let kit: RulesKit | undefined;
  before(async () => {
    harness = await createConversationHarness();
    kit = rulesKit(harness);
  });
  after(async () => harness?.close());
  return { harness: late(() => harness!, 'the harness'), kit: late(() => kit!, 'the rules kit') };
}
