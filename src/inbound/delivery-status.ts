/**
 * Delivery statuses merge monotonically into the outbound message (WHATSAPP.md §1.6):
 * sent < delivered < read < played, so a late `delivered` never overwrites `read`;
 * `failed` is final unless the customer already has the message.
 * The rule only: the store applies it to the locked message row (src/store/message-store.ts).
 */

const STATUS_RANK: Record<string, number> = { pending: 0, recorded: 0, accepted: 1, sent: 2, delivered: 3, read: 4, played: 5 };

export interface StatusUpdate {
  status: string;
  at: Date;
  errors: unknown;
}

/** What a status changes on the message; `errors` only for a failure. */
export type DeliveryStatusChange = { status: string; at: Date; errors?: unknown };

/** The change one status makes to a message whose status is `current`, or null if none. */
export function mergeDeliveryStatus(current: string, update: StatusUpdate): DeliveryStatusChange | null {
  const rank = STATUS_RANK[current] ?? 0;
  if (update.status === 'failed') {
    if (rank >= STATUS_RANK.delivered || current === 'failed') return null;
    return { status: 'failed', at: update.at, errors: update.errors };
  }
  const next = STATUS_RANK[update.status];
  if (next === undefined || next <= rank || current === 'failed') return null;
  return { status: update.status, at: update.at };
}
