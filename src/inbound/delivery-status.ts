/**
 * Delivery statuses merge monotonically into the outbound message (WHATSAPP.md §1.6):
 * sent < delivered < read < played, so a late `delivered` never overwrites `read`;
 * `failed` is final unless the customer already has the message.
 */
import type { Knex } from 'knex';
import type { Database } from '../db/knex';
import { storableJson } from '../db/storable';

const STATUS_RANK: Record<string, number> = { pending: 0, recorded: 0, accepted: 1, sent: 2, delivered: 3, read: 4, played: 5 };

export interface StatusUpdate {
  status: string;
  at: Date;
  errors: unknown;
}

/** Applies one status to a message row locked by the caller; returns the row's new status. */
export async function mergeDeliveryStatus(trx: Knex.Transaction, message: { id: string; status: string }, update: StatusUpdate): Promise<string> {
  const current = STATUS_RANK[message.status] ?? 0;
  if (update.status === 'failed') {
    if (current >= STATUS_RANK.delivered || message.status === 'failed') return message.status;
    await trx('messages').where({ id: message.id }).update({ status: 'failed', error: storableJson(update.errors), status_at: update.at });
    return 'failed';
  }
  const rank = STATUS_RANK[update.status];
  if (rank === undefined || rank <= current || message.status === 'failed') return message.status;
  await trx('messages').where({ id: message.id }).update({ status: update.status, status_at: update.at });
  return update.status;
}

/**
 * Statuses can arrive before the send activity has stored the wamid they refer to; they
 * are kept in message_status_events and applied here once the wamid is known.
 */
export async function applyRecordedStatuses(db: Database, messageId: string, wamid: string): Promise<void> {
  await db.transaction(async (trx) => {
    const events = await trx('message_status_events').where({ wamid }).orderBy('at');
    if (events.length === 0) return;
    const message = await trx('messages').where({ id: messageId }).forUpdate().first('id', 'status');
    if (!message) return;
    let status = message.status as string;
    for (const event of events as { status: string; at: Date; raw: { errors?: unknown } }[]) {
      status = await mergeDeliveryStatus(trx, { id: message.id, status }, { status: event.status, at: event.at, errors: event.raw?.errors ?? [] });
    }
  });
}
