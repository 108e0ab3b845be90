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
}

export interface ConversationFilter {
  phoneNumberId?: string;
  status?: ConversationStatus;
  agentId?: string;
  limit: number;
}

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
  /** The number's queue, first in line first. */
  queue(phoneNumberId: string): Promise<Conversation[]>;
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
  };
}

export function createConversationStore(db: Database): ConversationStore {
  const conversations = () => db<ConversationRow>('conversations');

  return {
    async get(id) {
      const row = await conversations().where({ id }).first();
      return row ? toConversation(row) : null;
    },

    async findOnNumber(id, phoneNumberId) {
      const row = await conversations().where({ id, phone_number_id: phoneNumberId }).first();
      return row ? toConversation(row) : null;
    },

    async list(filter) {
      const rows = await conversations()
        .modify((q) => {
          if (filter.phoneNumberId) q.where({ phone_number_id: filter.phoneNumberId });
          if (filter.status) q.where({ status: filter.status });
          if (filter.agentId) q.where({ agent_id: filter.agentId });
          if (filter.status === 'queued') q.orderBy(QUEUE_ORDER);
          else q.orderBy([{ column: 'opened_at', order: 'desc' }, { column: 'id' }]);
        })
        .limit(filter.limit);
      return rows.map(toConversation);
    },

    async queue(phoneNumberId) {
      const rows = await conversations().where({ phone_number_id: phoneNumberId, status: 'queued' }).orderBy(QUEUE_ORDER);
      return rows.map(toConversation);
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
