/**
 * Makes webhook events durable and hands customer messages to their conversation
 * workflows. Meta delivers at least once, unordered and duplicated, so every step is
 * idempotent: the message row is keyed by its wamid, and a message is signalled until
 * the row records that a workflow has it (the workflow itself ignores repeats).
 */
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { Database } from '../db/knex';
import { storableJson, storableText } from '../db/storable';
import { mergeDeliveryStatus } from './delivery-status';
import type { Logger } from '../logger';
import type { InboundMessageEvent, OtherEvent, StatusEvent, WebhookEvent } from '../whatsapp/webhook-events';
import {
  CONVERSATION_WORKFLOW_TASK_TIMEOUT,
  type CustomerMessageSignal,
  conversationWorkflowId,
  customerMessageSignal,
} from '../../workflows/conversation/definitions';
import type { conversationWorkflow } from '../../workflows/conversation/conversation-workflow';
import { parseCsatRowId } from '../../workflows/rules/conversation-machine';
import { welcomeWorkflowId, type welcomeWorkflow } from '../../workflows/welcome-workflow';
import { ConversationStatusKey, PhoneNumberIdKey } from '../../workflows/search-attributes';

export interface WebhookIntakeDeps {
  db: Database;
  temporal: Client;
  taskQueue: string;
  log: Logger;
}

/** Kinds that are stored but are not the customer writing to us. */
const STORE_ONLY_TYPES = new Set(['reaction', 'system', 'edit', 'revoke']);

/** Our conversation ids; anything else in a survey answer cannot name one (and is no uuid to PostgreSQL). */
const CONVERSATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function createWebhookIntake({ db, temporal, taskQueue, log }: WebhookIntakeDeps) {
  async function upsertContact(trx: Knex | Knex.Transaction, event: InboundMessageEvent): Promise<{ id: string; isNew: boolean }> {
    const { contact } = event;
    // A contact first seen by phone may later arrive with a BSUID too: match either.
    const existing = await trx('contacts')
      .where({ phone_number_id: event.phoneNumberId })
      .andWhere((q) => {
        q.where({ identity_key: contact.key });
        if (contact.userId) q.orWhere({ user_id: contact.userId });
        if (contact.waId) q.orWhere({ wa_id: contact.waId });
      })
      .orderBy('first_seen_at')
      .first('id', 'user_id', 'wa_id', 'profile_name');
    if (existing) {
      const patch: Record<string, string> = {};
      if (contact.userId && !existing.user_id) patch.user_id = contact.userId;
      if (contact.waId && existing.wa_id !== contact.waId) patch.wa_id = contact.waId;
      const profileName = contact.profileName === null ? null : storableText(contact.profileName);
      if (profileName && existing.profile_name !== profileName) patch.profile_name = profileName;
      if (Object.keys(patch).length) await trx('contacts').where({ id: existing.id }).update(patch);
      return { id: existing.id, isNew: false };
    }
    const inserted = await trx.raw(
      `INSERT INTO contacts (phone_number_id, identity_key, user_id, wa_id, profile_name)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (phone_number_id, identity_key) DO UPDATE SET profile_name = COALESCE(EXCLUDED.profile_name, contacts.profile_name)
       RETURNING id, (xmax = 0) AS inserted`,
      [event.phoneNumberId, contact.key, contact.userId, contact.waId, contact.profileName === null ? null : storableText(contact.profileName)],
    );
    return { id: inserted.rows[0].id, isNew: inserted.rows[0].inserted };
  }

  /** Stores the message once; returns null when it was already delivered to a workflow. */
  async function storeInbound(event: InboundMessageEvent, conversationId: string | null = null) {
    return db.transaction(async (trx) => {
      const contact = await upsertContact(trx, event);
      const [row] = await trx('messages')
        .insert({
          phone_number_id: event.phoneNumberId,
          contact_id: contact.id,
          conversation_id: conversationId,
          direction: 'inbound',
          author: 'customer',
          wamid: event.wamid,
          type: storableText(event.rawType),
          content: storableJson({ ...event.content, contextMessageId: event.contextMessageId, referral: event.referral, errors: event.errors }),
          raw: storableJson(event.raw),
          status: 'received',
          sent_at: event.sentAt,
          first_contact: contact.isNew,
        })
        .onConflict('wamid')
        .ignore()
        .returning(['id', 'delivered_to_workflow_at', 'first_contact']);
      const stored = row ?? (await trx('messages').where({ wamid: event.wamid }).first('id', 'delivered_to_workflow_at', 'first_contact'));
      return { contactId: contact.id, messageId: stored.id as string, delivered: stored.delivered_to_workflow_at !== null, isFirstContact: Boolean(stored.first_contact) };
    });
  }

  async function acceptMessage(event: InboundMessageEvent): Promise<void> {
    const csat = event.content.kind === 'list_reply' ? parseCsatRowId(event.content.id) : null;
    if (csat) return acceptSurveyAnswer(event, csat);

    const stored = await storeInbound(event);
    if (stored.delivered) return;
    if (event.type === 'request_welcome') {
      await temporal.workflow
        .start<typeof welcomeWorkflow>('welcomeWorkflow', {
          taskQueue,
          workflowId: welcomeWorkflowId(event.phoneNumberId, stored.contactId),
          args: [{ phoneNumberId: event.phoneNumberId, contactId: stored.contactId, requestedAt: event.sentAt.getTime() }],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        })
        .catch((error: Error) => {
          if (error.name !== 'WorkflowExecutionAlreadyStartedError') throw error;
        });
    } else if (!STORE_ONLY_TYPES.has(event.type)) {
      const signal: CustomerMessageSignal = {
        messageId: stored.messageId,
        sentAt: event.sentAt.getTime(),
        opensServiceWindow: event.opensServiceWindow,
        isFirstContact: stored.isFirstContact,
      };
      await temporal.workflow.signalWithStart<typeof conversationWorkflow, [CustomerMessageSignal]>('conversationWorkflow', {
        taskQueue,
        workflowId: conversationWorkflowId(event.phoneNumberId, stored.contactId),
        workflowTaskTimeout: CONVERSATION_WORKFLOW_TASK_TIMEOUT,
        args: [{ phoneNumberId: event.phoneNumberId, contactId: stored.contactId }],
        signal: customerMessageSignal,
        signalArgs: [signal],
        typedSearchAttributes: [
          { key: PhoneNumberIdKey, value: event.phoneNumberId },
          { key: ConversationStatusKey, value: 'opening' },
        ],
      });
    }
    await db('messages').where({ id: stored.messageId }).update({ delivered_to_workflow_at: db.fn.now() });
  }

  /** R10: recorded once against the closed conversation; never opens a new one. */
  async function acceptSurveyAnswer(event: InboundMessageEvent, answer: { conversationId: string; score: number }): Promise<void> {
    const conversation = CONVERSATION_ID.test(answer.conversationId)
      ? await db('conversations').where({ id: answer.conversationId, phone_number_id: event.phoneNumberId }).first('id', 'agent_id')
      : undefined;
    const stored = await storeInbound(event, conversation?.id ?? null);
    if (conversation) {
      await db('csat_answers')
        .insert({
          conversation_id: conversation.id,
          phone_number_id: event.phoneNumberId,
          agent_id: conversation.agent_id,
          score: answer.score,
          wamid: event.wamid,
          answered_at: event.sentAt,
        })
        .onConflict('conversation_id')
        .ignore();
    } else {
      log.warn({ wamid: event.wamid }, 'survey answer for an unknown conversation; stored only');
    }
    await db('messages').where({ id: stored.messageId }).update({ delivered_to_workflow_at: db.fn.now() });
  }

  async function acceptStatus(event: StatusEvent): Promise<void> {
    await db.transaction(async (trx) => {
      const inserted = await trx('message_status_events')
        .insert({ wamid: event.wamid, status: event.rawStatus, at: event.at, raw: storableJson(event.raw) })
        .onConflict(['wamid', 'status'])
        .ignore()
        .returning('wamid');
      if (inserted.length === 0) return;
      const message = await trx('messages').where({ wamid: event.wamid }).forUpdate().first('id', 'status');
      // No message yet: the send activity applies this event when it stores the wamid.
      if (message) await mergeDeliveryStatus(trx, message, { status: event.status, at: event.at, errors: event.errors });
    });
  }

  async function acceptOther(event: OtherEvent): Promise<void> {
    log.info({ field: event.field, reason: event.reason }, 'webhook event stored, not processed');
    await db('webhook_other_events').insert({
      phone_number_id: event.phoneNumberId,
      field: storableText(event.field),
      reason: storableText(event.reason),
      raw: storableJson(event.raw ?? null),
    });
  }

  return {
    /**
     * Resolves once every event is durably stored and every customer message is with its
     * workflow; rejects otherwise, so the receiver answers non-200 and Meta redelivers.
     */
    async accept(events: WebhookEvent[]): Promise<void> {
      // Messages of one contact in Meta's timestamp order; contacts in parallel.
      const byContact = new Map<string, InboundMessageEvent[]>();
      const rest: Promise<void>[] = [];
      for (const event of events) {
        if (event.kind === 'message') {
          const key = `${event.phoneNumberId}|${event.contact.key}`;
          byContact.set(key, [...(byContact.get(key) ?? []), event]);
        } else if (event.kind === 'status') rest.push(acceptStatus(event));
        else rest.push(acceptOther(event));
      }
      const perContact = [...byContact.values()].map(async (messages) => {
        for (const m of messages.sort((a, b) => a.sentAt.getTime() - b.sentAt.getTime())) await acceptMessage(m);
      });
      const outcomes = await Promise.allSettled([...perContact, ...rest]);
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}

export type WebhookIntake = ReturnType<typeof createWebhookIntake>;
