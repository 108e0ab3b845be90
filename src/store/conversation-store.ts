/**
 * The `conversations` table. Who serves a conversation is decided in assignment-store.ts;
 * this module opens, reads, lists and closes conversations.
 */
import type { Database } from '../db/knex';
import type { CloseReason, ConversationStatus } from '../../workflows/rules/vocabulary';
import { attachToConversation } from './message-store';

export interface Conversation {
  id: string;
  phoneNumberId: string;
  contactId: string;
  workflowId: string;
  status: ConversationStatus;
  agentId: string | null;
  closeReason: CloseReason | null;
  handledByHuman: boolean;
  openedAt: Date;
  queuedAt: Date | null;
  assignedAt: Date | null;
  closedAt: Date | null;
  lastCustomerMessageAt: Date | null;
  updatedAt: Date;
  contact: ContactSummary;
}

/** Who the customer is, as a person reading a conversation sees them (SPEC §6). */
export interface ContactSummary {
  id: string;
  /** The WhatsApp profile name. */
  name: string | null;
  /** Phone number (wa_id), when known. */
  waId: string | null;
  /** Business-scoped user id (BSUID), when known. */
  userId: string | null;
}

export interface ConversationFilter {
  phoneNumberId?: string;
  status?: ConversationStatus;
  agentId?: string;
  /** Only these numbers (an agent's or a bot key's scope); undefined or null: every number. */
  phoneNumberIds?: string[] | null;
  /** Matches the contact's profile name or phone number. */
  q?: string;
  /** From a previous page's nextCursor. */
  cursor?: string;
  limit: number;
}

export class InvalidCursor extends Error {}

export interface NewConversation {
  id: string;
  workflowId: string;
  phoneNumberId: string;
  contactId: string;
  openedAt: Date;
}

export interface ConversationStore {
  get(id: string): Promise<Conversation | null>;
  /** The conversation only if it belongs to the number (a survey answer names its conversation). */
  findOnNumber(id: string, phoneNumberId: string): Promise<Conversation | null>;
  /** Queued conversations in queue order, everything else newest first. */
  list(filter: ConversationFilter): Promise<Conversation[]>;
  /** One page of list(); nextCursor is null on the last page. Throws InvalidCursor. */
  listPage(filter: ConversationFilter): Promise<{ conversations: Conversation[]; nextCursor: string | null }>;
  /** A contact's conversations, newest first. */
  listForContact(contactId: string): Promise<Conversation[]>;
  /** The number's queue, first in line first. */
  queue(phoneNumberId: string): Promise<Conversation[]>;
  /** Where a queued conversation stands in its number's queue now (R15); null when it is not queued. */
  queuePosition(conversationId: string): Promise<{ position: number; ahead: number } | null>;
  /** Idempotent: opening the same id again changes nothing. */
  open(conversation: NewConversation): Promise<void>;
  /** Files the customer's messages under the conversation and moves its service window. */
  attachMessages(input: { conversationId: string; messageIds: string[]; lastCustomerMessageAt: Date | null }): Promise<void>;
  /** Open conversations of a number in id order, a page after `afterId`. */
  listOpen(input: { phoneNumberId: string; afterId: string | null; limit: number }): Promise<Pick<Conversation, 'id' | 'workflowId'>[]>;
  /** Closes it unless already closed; returns the agent who held it (their capacity is now free). */
  close(id: string, reason: CloseReason): Promise<{ agentId: string | null }>;
}

interface ConversationRow {
  id: string;
  phone_number_id: string;
  contact_id: string;
  workflow_id: string;
  status: ConversationStatus;
  agent_id: string | null;
  close_reason: CloseReason | null;
  handled_by_human: boolean;
  opened_at: Date;
  queued_at: Date | null;
  assigned_at: Date | null;
  closed_at: Date | null;
  last_customer_message_at: Date | null;
  updated_at: Date;
  contact_profile_name: string | null;
  contact_wa_id: string | null;
  contact_user_id: string | null;
  sort_us?: string;
}

const QUEUE_ORDER = [{ column: 'queued_at' }, { column: 'id' }];

function toConversation(row: ConversationRow): Conversation {
  return {
    id: row.id,
    phoneNumberId: row.phone_number_id,
    contactId: row.contact_id,
    workflowId: row.workflow_id,
    status: row.status,
    agentId: row.agent_id,
    closeReason: row.close_reason,
    handledByHuman: row.handled_by_human,
    openedAt: row.opened_at,
    queuedAt: row.queued_at,
    assignedAt: row.assigned_at,
    closedAt: row.closed_at,
    lastCustomerMessageAt: row.last_customer_message_at,
    updatedAt: row.updated_at,
    contact: { id: row.contact_id, name: row.contact_profile_name, waId: row.contact_wa_id, userId: row.contact_user_id },
  };
}

function encodeCursor(row: ConversationRow): string {
  return Buffer.from(JSON.stringify([row.sort_us, row.id])).toString('base64url');
}

function decodeCursor(cursor: string): { sortUs: string; id: string } {
  try {
    const [sortUs, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof sortUs === 'string' && /^-?\d+$/.test(sortUs) && typeof id === 'string' && /^[0-9a-f-]{36}$/i.test(id)) return { sortUs, id };
  } catch {
    /* below */
  }
  throw new InvalidCursor('not a cursor this API returned');
}

export function createConversationStore(db: Database): ConversationStore {
  const conversations = () => db<ConversationRow>('conversations');
  /** Conversations with their contact (reads). */
  const withContact = () =>
    db('conversations as c')
      .join('contacts as k', 'k.id', 'c.contact_id')
      .select('c.*', 'k.profile_name as contact_profile_name', 'k.wa_id as contact_wa_id', 'k.user_id as contact_user_id');

  async function listPage(filter: ConversationFilter) {
    const queued = filter.status === 'queued';
    const sortColumn = queued ? 'c.queued_at' : 'c.opened_at';
    const sortUs = db.raw(`(extract(epoch from ${sortColumn}) * 1000000)::bigint`);
    const after = filter.cursor ? decodeCursor(filter.cursor) : null;
    const rows = (await withContact()
      .select(db.raw(`(extract(epoch from ${sortColumn}) * 1000000)::bigint::text AS sort_us`))
      .modify((q) => {
        if (filter.phoneNumberId) q.where('c.phone_number_id', filter.phoneNumberId);
        if (filter.phoneNumberIds) q.whereIn('c.phone_number_id', filter.phoneNumberIds);
        if (filter.status) q.where('c.status', filter.status);
        if (filter.agentId) q.where('c.agent_id', filter.agentId);
        if (filter.q) {
          const text = filter.q.trim().toLowerCase();
          const digits = text.replace(/[^0-9]/g, '');
          // LIKE with the pattern's own wildcards escaped, so the trigram indexes of migration 0007 apply.
          q.andWhere((w) => {
            w.whereRaw(`lower(k.profile_name) LIKE ? ESCAPE '\\'`, [`%${escapeLike(text)}%`]);
            if (digits) w.orWhereRaw(`k.wa_id LIKE ?`, [`%${digits}%`]);
          });
        }
        if (after) {
          if (queued) q.whereRaw(`(${sortUs.toString()}, c.id) > (?::bigint, ?::uuid)`, [after.sortUs, after.id]);
          else
            q.andWhere((w) =>
              w
                .whereRaw(`${sortUs.toString()} < ?::bigint`, [after.sortUs])
                .orWhereRaw(`${sortUs.toString()} = ?::bigint AND c.id > ?::uuid`, [after.sortUs, after.id]),
            );
        }
        if (queued) q.orderBy([{ column: 'c.queued_at' }, { column: 'c.id' }]);
        else q.orderBy([{ column: 'c.opened_at', order: 'desc' }, { column: 'c.id' }]);
      })
      .limit(filter.limit + 1)) as ConversationRow[];
    const page = rows.slice(0, filter.limit);
    return { conversations: page.map(toConversation), nextCursor: rows.length > filter.limit ? encodeCursor(page[page.length - 1]) : null };
  }

  return {
    async get(id) {
      const row = await withContact().where('c.id', id).first();
      return row ? toConversation(row) : null;
    },

    async findOnNumber(id, phoneNumberId) {
      const row = await withContact().where({ 'c.id': id, 'c.phone_number_id': phoneNumberId }).first();
      return row ? toConversation(row) : null;
    },

    async list(filter) {
      return (await listPage(filter)).conversations;
    },

    listPage,

    async listForContact(contactId) {
      const rows = (await withContact()
        .where('c.contact_id', contactId)
        .orderBy([{ column: 'c.opened_at', order: 'desc' }, { column: 'c.id' }])) as ConversationRow[];
      return rows.map(toConversation);
    },

    async queue(phoneNumberId) {
      const rows = await withContact()
        .where({ 'c.phone_number_id': phoneNumberId, 'c.status': 'queued' })
        .orderBy(QUEUE_ORDER.map((o) => ({ column: `c.${o.column}` })));
      return rows.map(toConversation);
    },

    async queuePosition(conversationId) {
      // Ahead: queued on the same number before it, in QUEUE_ORDER (queued_at, then id).
      const { rows } = await db.raw<{ rows: { ahead: number }[] }>(
        `SELECT count(o.id)::int AS ahead FROM conversations c
         LEFT JOIN conversations o ON o.phone_number_id = c.phone_number_id AND o.status = 'queued'
           AND (o.queued_at, o.id) < (c.queued_at, c.id)
         WHERE c.id = ? AND c.status = 'queued'
         GROUP BY c.id`,
        [conversationId],
      );
      return rows.length ? { position: rows[0].ahead + 1, ahead: rows[0].ahead } : null;
    },

    async open(conversation) {
      await conversations()
        .insert({
          id: conversation.id,
          workflow_id: conversation.workflowId,
          phone_number_id: conversation.phoneNumberId,
          contact_id: conversation.contactId,
          status: 'unassigned',
          opened_at: conversation.openedAt,
        })
        .onConflict('id')
        .ignore();
    },

    async attachMessages({ conversationId, messageIds, lastCustomerMessageAt }) {
      await db.transaction(async (trx) => {
        await attachToConversation(trx, conversationId, messageIds);
        if (lastCustomerMessageAt !== null) {
          await trx('conversations')
            .where({ id: conversationId })
            .update({ last_customer_message_at: lastCustomerMessageAt, updated_at: trx.fn.now() });
        }
      });
    },

    async listOpen({ phoneNumberId, afterId, limit }) {
      const rows: Pick<ConversationRow, 'id' | 'workflow_id'>[] = await conversations()
        .where({ phone_number_id: phoneNumberId })
        .whereNot({ status: 'closed' })
        .modify((q) => {
          if (afterId) q.where('id', '>', afterId);
        })
        .orderBy('id')
        .limit(limit)
        .select('id', 'workflow_id');
      return rows.map((r) => ({ id: r.id, workflowId: r.workflow_id }));
    },

    async close(id, reason) {
      return db.transaction(async (trx) => {
        const row = await trx<ConversationRow>('conversations').where({ id }).forUpdate().first('status', 'agent_id');
        if (row && row.status !== 'closed') {
          await trx('conversations')
            .where({ id })
            .update({ status: 'closed', close_reason: reason, closed_at: trx.fn.now(), updated_at: trx.fn.now() });
        }
        return { agentId: row?.agent_id ?? null };
      });
    },
  };
}

/** `text` as a literal inside a LIKE pattern (its %, _ and \\ escaped). */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
