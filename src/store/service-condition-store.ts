/** The `service_conditions` table: what an operator must see on /healthz (src/health/service-conditions.ts). */
import type { Database } from '../db/knex';

export interface ServiceCondition {
  name: string;
  state: string;
  detail: unknown;
  updatedAt: Date;
}

export interface ServiceConditionStore {
  upsert(name: string, state: string, detail: Record<string, unknown> | null): Promise<void>;
  list(): Promise<ServiceCondition[]>;
}

interface ServiceConditionRow {
  name: string;
  state: string;
  detail: unknown;
  updated_at: Date;
}

export function createServiceConditionStore(db: Database): ServiceConditionStore {
  return {
    async upsert(name, state, detail) {
      await db('service_conditions')
        .insert({ name, state, detail: detail ? JSON.stringify(detail) : null, updated_at: db.fn.now() })
        .onConflict('name')
        .merge();
    },

    async list() {
      const rows = await db<ServiceConditionRow>('service_conditions').select('name', 'state', 'detail', 'updated_at');
      return rows.map((r) => ({ name: r.name, state: r.state, detail: r.detail, updatedAt: r.updated_at }));
    },
  };
}
