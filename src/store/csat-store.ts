/** The `csat_answers` table: one survey answer per conversation (R10). */
import type { Database } from '../db/knex';

export interface CsatAnswer {
  conversationId: string;
  phoneNumberId: string;
  /** Who served the conversation that was rated. */
  agentId: string | null;
  score: number;
  /** The answer message. */
  wamid: string;
  answeredAt: Date;
}

export interface CsatStore {
  /** The first answer for a conversation stands; later ones are ignored. */
  record(answer: CsatAnswer): Promise<void>;
  /** Newest first. */
  list(filter: { phoneNumberId?: string; agentId?: string }): Promise<CsatAnswer[]>;
}

interface CsatRow {
  conversation_id: string;
  phone_number_id: string;
  agent_id: string | null;
  score: number;
  wamid: string;
  answered_at: Date;
}

function toCsatAnswer(row: CsatRow): CsatAnswer {
  return {
    conversationId: row.conversation_id,
    phoneNumberId: row.phone_number_id,
    agentId: row.agent_id,
    score: row.score,
    wamid: row.wamid,
    answeredAt: row.answered_at,
  };
}

export function createCsatStore(db: Database): CsatStore {
  return {
    async record(answer) {
      await db('csat_answers')
        .insert({
          conversation_id: answer.conversationId,
          phone_number_id: answer.phoneNumberId,
          agent_id: answer.agentId,
          score: answer.score,
          wamid: answer.wamid,
          answered_at: answer.answeredAt,
        })
        .onConflict('conversation_id')
        .ignore();
    },

    async list(filter) {
      const rows = await db<CsatRow>('csat_answers')
        .modify((q) => {
          if (filter.phoneNumberId) q.where({ phone_number_id: filter.phoneNumberId });
          if (filter.agentId) q.where({ agent_id: filter.agentId });
        })
        .orderBy('answered_at', 'desc');
      return rows.map(toCsatAnswer);
    },
  };
}
