import type { ServiceConditionStore } from '../store';

/**
 * Conditions an operator must see on /healthz whichever process noticed them — e.g. a
 * worker finding the WhatsApp access token rejected while /healthz is served by an API
 * replica. Written only when the state changes, so the happy path costs nothing.
 */
export type ConditionName = 'whatsapp_token';

const lastKnown = new Map<ConditionName, string>();

export async function recordCondition(
  conditions: ServiceConditionStore,
  name: ConditionName,
  state: string,
  detail: Record<string, unknown> | null = null,
): Promise<void> {
  if (lastKnown.get(name) === state) return;
  await conditions.upsert(name, state, detail);
  lastKnown.set(name, state);
}

export async function readConditions(
  conditions: ServiceConditionStore,
): Promise<Record<string, { state: string; detail: unknown; updatedAt: Date }>> {
  const rows = await conditions.list();
  return Object.fromEntries(rows.map((r) => [r.name, { state: r.state, detail: r.detail, updatedAt: r.updatedAt }]));
}
