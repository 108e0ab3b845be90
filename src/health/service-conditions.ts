import type { Database } from '../db/knex';

/**
 * Conditions an operator must see on /healthz whichever process noticed them — e.g. a
 * worker finding the WhatsApp access token rejected while /healthz is served by an API
 * replica. Written only when the state changes, so the happy path costs nothing.
 */
export type ConditionName = 'whatsapp_token';

const lastKnown = new Map<ConditionName, string>();

export async function recordCondition(db: Database, name: ConditionName, state: string, detail: Record<string, unknown> | null = null): Promise<void> {
  if (lastKnown.get(name) === state) return;
  await db('service_conditions')
    .insert({ name, state, detail: detail ? JSON.stringify(detail) : null, updated_at: db.fn.now() })
    .onConflict('name')
    .merge();
  lastKnown.set(name, state);
}

export async function readConditions(db: Database): Promise<Record<string, { state: string; detail: unknown; updatedAt: Date }>> {
  const rows = await db('service_conditions').select('name', 'state', 'detail', 'updated_at');
  return Object.fromEntries(rows.map((r: { name: string; state: string; detail: unknown; updated_at: Date }) => [r.name, { state: r.state, detail: r.detail, updatedAt: r.updated_at }]));
}
