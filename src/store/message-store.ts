/**
 * The `messages` table: customer messages as the webhook delivered them (sanitised so
 * PostgreSQL can store them, see src/db/storable.ts) and outbound messages, written
 * before they are sent so nothing leaves unrecorded.
 */
import type { Knex } from 'knex';
import type { Database } from '../db/knex';
import { storableJson, storableText } from '../db/storable';
import { mergeDeliveryStatus, type StatusUpdate } from '../inbound/delivery-status';
import type { ContactIdentity } from '../whatsapp/webhook-events';
import type { Automation, MessageAuthor, OutboundAuthor, OutboundMessageContent } from '../../workflows/rules/vocabulary';
import { claimWelcome, contactUpsertCtes } from './contact-store';
import type { Queryable } from './queryable';

/** Not in workflows/rules/vocabulary.ts yet. */
import type { MessageDirection } from '../../workflows/rules/vocabulary';

export interface Message {
  id: string;
  phoneNumberId: string;
  contactId: string;
  conversationId: string | null;
  direction: MessageDirection;
  author: MessageAuthor;
  agentId: string | null;
  automation: Automation | null;
  wamid: string | null;
  type: string;
  content: unknown;
  /** received (inbound); pending, recorded, skipped, accepted … read, failed (outbound). */
  status: string;
  error: unknown;
  skipReason: string | null;
  sentAt: Date;
  statusAt: Date | null;
  deliveredToWorkflowAt: Date | null;
  firstContact: boolean;
  createdAt: Date;
}

export interface NewInboundMessage {
  phoneNumberId: string;
  contact: ContactIdentity;
  /** Set only for a survey answer, which belongs to the (closed) conversation it rates. */
  conversationId: string | null;
  wamid: string;
  type: string;
  content: unknown;
  raw: unknown;
  sentAt: Date;
  /** What the inbound relay hands to a workflow (src/inbound/inbound-relay.ts); absent: nothing. */
  relay?: { kind: 'conversation' | 'welcome'; opensServiceWindow: boolean };
}

export interface StoredInboundMessage {
  contactId: string;
  messageId: string;
  /** A workflow already has it (a redelivered webhook). */
  delivered: boolean;
  /** The first message of a contact this number had never seen (R1). */
  isFirstContact: boolean;
}

export interface OutboundIntent {
  /** Unique per message the workflow means to send. */
  idempotencyKey: string;
  phoneNumberId: string;
  contactId: string;
  conversationId: string | null;
  author: OutboundAuthor;
  automation: Automation | null;
  agentId: string | null;
  message: OutboundMessageContent;
}

/** How an outbound message ended; `wamid` once Meta accepted it. */
export interface OutboundOutcome {
  status: 'recorded' | 'accepted' | 'skipped' | 'failed';
  wamid?: string;
  skipReason?: string;
  error?: unknown;
}

export interface MessageStore {
  /** A conversation's messages in the order they were sent. */
  listForConversation(conversationId: string): Promise<Message[]>;
  /** Stores the message once per wamid, with its contact; a repeat finds the first row. */
  storeInbound(message: NewInboundMessage): Promise<StoredInboundMessage>;
  markDeliveredToWorkflow(messageId: string): Promise<void>;
  /**
   * Writes the outbound row, or finds the one an earlier attempt wrote (same idempotency
   * key). null: a welcome the contact already had (R1: once per contact).
   */
  recordOutboundIntent(intent: OutboundIntent): Promise<{ id: string; status: string } | null>;
  finishOutbound(messageId: string, outcome: OutboundOutcome): Promise<void>;
}

interface MessageRow {
  id: string;
  phone_number_id: string;
  contact_id: string;
  conversation_id: string | null;
  direction: MessageDirection;
  author: MessageAuthor;
  agent_id: string | null;
  automation: Automation | null;
  wamid: string | null;
  idempotency_key: string | null;
  type: string;
  content: unknown;
  raw: unknown;
  status: string;
  error: unknown;
  skip_reason: string | null;
  sent_at: Date;
  status_at: Date | null;
  delivered_to_workflow_at: Date | null;
  first_contact: boolean;
  created_at: Date;
}

const MESSAGE_COLUMNS = [
  'id',
  'phone_number_id',
  'contact_id',
  'conversation_id',
  'direction',
  'author',
  'agent_id',
  'automation',
  'wamid',
  'type',
  'content',
  'status',
  'error',
  'skip_reason',
  'sent_at',
  'status_at',
  'delivered_to_workflow_at',
  'first_contact',
  'created_at',
] as const;

function toMessage(row: Omit<MessageRow, 'raw' | 'idempotency_key'>): Message {
  return {
    id: row.id,
    phoneNumberId: row.phone_number_id,
    contactId: row.contact_id,
    conversationId: row.conversation_id,
    direction: row.direction,
    author: row.author,
    agentId: row.agent_id,
    automation: row.automation,
    wamid: row.wamid,
    type: row.type,
    content: row.content,
    status: row.status,
    error: row.error,
    skipReason: row.skip_reason,
    sentAt: row.sent_at,
    statusAt: row.status_at,
    deliveredToWorkflowAt: row.delivered_to_workflow_at,
    firstContact: row.first_contact,
    createdAt: row.created_at,
  };
}

/** Files customer messages under their conversation, inside the caller's transaction. */
export async function attachToConversation(q: Queryable, conversationId: string, messageIds: string[]): Promise<void> {
  await q('messages').whereIn('id', messageIds).update({ conversation_id: conversationId });
}

/** Locks the message for a status merge (webhook-event-store.ts); undefined if there is none yet. */
export async function lockMessage(
  trx: Knex.Transaction,
  where: { id: string } | { wamid: string },
): Promise<{ id: string; status: string } | undefined> {
  return trx<MessageRow>('messages').where(where).forUpdate().first('id', 'status');
}

/** Applies one status to a message row the caller has locked; returns its status after. */
export async function applyDeliveryStatus(trx: Knex.Transaction, message: { id: string; status: string }, update: StatusUpdate): Promise<string> {
  const change = mergeDeliveryStatus(message.status, update);
  if (!change) return message.status;
  const error = change.status === 'failed' ? { error: storableJson(change.errors) } : {};
  await trx('messages')
    .where({ id: message.id })
    .update({ status: change.status, ...error, status_at: change.at });
  return change.status;
}

export function createMessageStore(db: Database): MessageStore {
  return {
    async listForConversation(conversationId) {
      const rows = await db<MessageRow>('messages')
        .where({ conversation_id: conversationId })
        .orderBy([{ column: 'sent_at' }, { column: 'created_at' }])
        .select(...MESSAGE_COLUMNS);
      return rows.map(toMessage);
    },

    async storeInbound(message) {
      // One statement: the contact's upsert and the message's insert (see contactUpsertCtes).
      const contact = contactUpsertCtes(message.phoneNumberId, message.contact);
      const result = await db.raw(
        `WITH ${contact.sql},
        stored AS (
          INSERT INTO messages (phone_number_id, contact_id, conversation_id, direction, author, wamid, type, content, raw, status, sent_at,
                                first_contact, relay_kind, opens_service_window)
          SELECT CAST(? AS text), contact.id, CAST(? AS uuid), 'inbound', 'customer', CAST(? AS text), CAST(? AS text), CAST(? AS jsonb),
                 CAST(? AS jsonb), 'received', CAST(? AS timestamptz), contact.is_new, CAST(? AS text), CAST(? AS boolean)
          FROM contact
          ON CONFLICT (wamid) DO NOTHING
          RETURNING id, delivered_to_workflow_at, first_contact
        )
        SELECT contact.id AS contact_id, stored.id, stored.delivered_to_workflow_at, stored.first_contact FROM contact LEFT JOIN stored ON true`,
        [
          ...contact.bindings,
          message.phoneNumberId,
          message.conversationId,
          message.wamid,
          storableText(message.type),
          storableJson(message.content),
          storableJson(message.raw),
          message.sentAt,
          message.relay?.kind ?? null,
          message.relay?.opensServiceWindow ?? null,
        ],
      );
      const row = result.rows[0] as { contact_id: string; id: string | null; delivered_to_workflow_at: Date | null; first_contact: boolean | null };
      // A redelivery: the wamid's row is there already (committed: ON CONFLICT waited for it).
      const stored =
        row.id !== null ? row : await db('messages').where({ wamid: message.wamid }).first('id', 'delivered_to_workflow_at', 'first_contact');
      return {
        contactId: row.contact_id,
        messageId: stored.id as string,
        delivered: stored.delivered_to_workflow_at !== null,
        isFirstContact: Boolean(stored.first_contact),
      };
    },

    async markDeliveredToWorkflow(messageId) {
      await db('messages').where({ id: messageId }).update({ delivered_to_workflow_at: db.fn.now() });
    },

    async recordOutboundIntent(intent) {
      return db.transaction(async (trx) => {
        const existing = await trx('messages').where({ idempotency_key: intent.idempotencyKey }).first('id', 'status');
        if (existing) return existing;
        if (intent.automation === 'welcome') {
          // R1: the welcome goes to a contact once, whichever event asked for it first.
          if (!(await claimWelcome(trx, intent.contactId))) return null;
        }
        const [row] = await trx('messages')
          .insert({
            phone_number_id: intent.phoneNumberId,
            contact_id: intent.contactId,
            conversation_id: intent.conversationId,
            direction: 'outbound',
            author: intent.author,
            agent_id: intent.agentId,
            automation: intent.automation,
            idempotency_key: intent.idempotencyKey,
            type: intent.message.type,
            content: JSON.stringify(intent.message),
            status: 'pending',
            sent_at: trx.fn.now(),
          })
          .returning(['id', 'status']);
        return row;
      });
    },

    async finishOutbound(messageId, outcome) {
      await db('messages')
        .where({ id: messageId })
        .update({
          status: outcome.status,
          ...(outcome.wamid !== undefined && { wamid: outcome.wamid }),
          ...(outcome.skipReason !== undefined && { skip_reason: outcome.skipReason }),
          ...(outcome.error !== undefined && { error: JSON.stringify(outcome.error) }),
          status_at: db.fn.now(),
        });
    },
  };
}
