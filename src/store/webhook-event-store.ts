/**
 * Webhook events that are not customer messages: delivery statuses, deduplicated on
 * (wamid, status) as Meta recommends (`message_status_events`), and everything stored
 * but not processed (`webhook_other_events`).
 */
import type { Database } from '../db/knex';
import { storableJson, storableText } from '../db/storable';
import type { OtherEvent, StatusEvent } from '../whatsapp/webhook-events';
import { applyDeliveryStatus, lockMessage } from './message-store';

export interface WebhookEventStore {
  /** Records the status once and merges it into its message, if that message is stored yet. */
  recordStatus(event: StatusEvent): Promise<void>;
  /**
   * Statuses can arrive before the send activity has stored the wamid they refer to; they
   * wait in message_status_events and are applied here once the wamid is known.
   */
  applyRecordedStatuses(messageId: string, wamid: string): Promise<void>;
  recordOther(event: OtherEvent): Promise<void>;
}

interface StatusEventRow {
  wamid: string;
  status: string;
  at: Date;
  raw: { errors?: unknown };
}

export function createWebhookEventStore(db: Database): WebhookEventStore {
  return {
    async recordStatus(event) {
      await db.transaction(async (trx) => {
        const inserted = await trx('message_status_events')
          .insert({ wamid: event.wamid, status: event.rawStatus, at: event.at, raw: storableJson(event.raw) })
          .onConflict(['wamid', 'status'])
          .ignore()
          .returning('wamid');
        if (inserted.length === 0) return;
        const message = await lockMessage(trx, { wamid: event.wamid });
        // No message yet: the send activity applies this event when it stores the wamid.
        if (message) await applyDeliveryStatus(trx, message, { status: event.status, at: event.at, errors: event.errors });
      });
    },

    async applyRecordedStatuses(messageId, wamid) {
      await db.transaction(async (trx) => {
        const events = await trx<StatusEventRow>('message_status_events').where({ wamid }).orderBy('at');
        if (events.length === 0) return;
        const message = await lockMessage(trx, { id: messageId });
        if (!message) return;
        let status = message.status;
        for (const event of events) {
          status = await applyDeliveryStatus(
            trx,
            { id: message.id, status },
            { status: event.status, at: event.at, errors: event.raw?.errors ?? [] },
          );
        }
      });
    },

    async recordOther(event) {
      await db('webhook_other_events').insert({
        phone_number_id: event.phoneNumberId,
        field: storableText(event.field),
        reason: storableText(event.reason),
        raw: storableJson(event.raw ?? null),
      });
    },
  };
}
