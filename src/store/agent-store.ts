/**
 * The `agents` table, read with each agent's load and the queue they could serve (R6).
 * Who gets which conversation is decided in assignment-store.ts.
 */
import type { Database } from '../db/knex';

/** Not in workflows/rules/vocabulary.ts yet. */
import type { AgentStatus } from '../../workflows/rules/vocabulary';

export interface AgentProfile {
  id: string;
  name: string;
  receptionLimit: number;
  status: AgentStatus;
  /** null: serves every number. */
  phoneNumberIds: string[] | null;
}

export interface AgentWithLoad extends AgentProfile {
  /** Conversations assigned to the agent now. */
  load: number;
  /** Conversations waiting in the queues of the numbers the agent serves. */
  queued: number;
}

export interface AgentStore {
  exists(id: string): Promise<boolean>;
  /** Creates the agent or replaces its profile. */
  upsert(agent: AgentProfile): Promise<{ created: boolean }>;
  getWithLoad(id: string): Promise<AgentWithLoad | null>;
  /** Every agent, in id order. */
  listWithLoad(): Promise<AgentWithLoad[]>;
}

interface AgentWithLoadRow {
  id: string;
  name: string;
  reception_limit: number;
  status: AgentStatus;
  phone_number_ids: string[] | null;
  load: string | number;
  queued: string | number;
}

function toAgentWithLoad(row: AgentWithLoadRow): AgentWithLoad {
  return {
    id: row.id,
    name: row.name,
    receptionLimit: row.reception_limit,
    status: row.status,
    phoneNumberIds: row.phone_number_ids,
    load: Number(row.load),
    queued: Number(row.queued),
  };
}

export function createAgentStore(db: Database): AgentStore {
  function agentsWithLoad() {
    return db('agents as a').select(
      'a.id',
      'a.name',
      'a.reception_limit',
      'a.status',
      'a.phone_number_ids',
      db.raw(`(SELECT count(*) FROM conversations c WHERE c.agent_id = a.id AND c.status = 'assigned') AS load`),
      db.raw(
        `(SELECT count(*) FROM conversations q WHERE q.status = 'queued' AND (a.phone_number_ids IS NULL OR q.phone_number_id = ANY(a.phone_number_ids))) AS queued`,
      ),
    );
  }

  async function exists(id: string): Promise<boolean> {
    return Boolean(await db('agents').where({ id }).first('id'));
  }

  return {
    exists,

    async upsert(agent) {
      const existed = await exists(agent.id);
      await db('agents')
        .insert({
          id: agent.id,
          name: agent.name,
          reception_limit: agent.receptionLimit,
          status: agent.status,
          phone_number_ids: agent.phoneNumberIds,
          updated_at: db.fn.now(),
        })
        .onConflict('id')
        .merge(['name', 'reception_limit', 'status', 'phone_number_ids', 'updated_at']);
      return { created: !existed };
    },

    async getWithLoad(id) {
      const row = (await agentsWithLoad().where('a.id', id).first()) as AgentWithLoadRow | undefined;
      return row ? toAgentWithLoad(row) : null;
    },

    async listWithLoad() {
      const rows = (await agentsWithLoad().orderBy('a.id')) as AgentWithLoadRow[];
      return rows.map(toAgentWithLoad);
    },
  };
}
