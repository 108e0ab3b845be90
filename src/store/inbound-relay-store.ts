/**
 * The inbound relay's queue: customer messages stored by the webhook that a workflow does
 * not have yet (`relay_kind` set, `delivered_to_workflow_at` NULL; migration 0006).
 *
 * Several relays (one per API process) may run at once. Each batch takes transaction-level
 * advisory locks on the contacts it relays, so one contact's messages are handed over by
 * one relay at a time and in order (Meta's timestamp, then arrival); other relays skip
 * locked contacts instead of waiting. A message that fails is retried with backoff, and a
 * contact's later messages wait behind it.
 */
import type { Database } from '../db/knex';

export interface PendingInboundMessage {
  messageId: string;
  phoneNumberId: string;
  contactId: string;
  kind: 'conversation' | 'welcome';
  sentAt: Date;
  opensServiceWindow: boolean;
  isFirstContact: boolean;
  attempts: number;
}

/** What the relay did with one contact's pending messages, in order. */
export interface ContactRelayOutcome {
  delivered: string[];
  /** The first message that could not be handed over; the contact's later ones wait. */
  failed: { messageId: string; error: string } | null;
}

export interface InboundRelayStore {
  /**
   * Locks up to `contacts` contacts with messages due for the relay, hands each contact's
   * pending messages (in order) to `deliver`, and records the outcomes, in one
   * transaction. Returns how many messages were handed over and how many failed.
   */
  relayBatch(
    contacts: number,
    deliver: (messages: PendingInboundMessage[]) => Promise<ContactRelayOutcome>,
  ): Promise<{ delivered: number; failed: number }>;
  /** Messages waiting for the relay and the age of the oldest (the relay's lag). */
  backlog(): Promise<{ pending: number; oldestCreatedAt: Date | null }>;
}

const RETRY_INITIAL_MS = 500;
const RETRY_MAX_MS = 60_000;

interface PendingRow {
  id: string;
  phone_number_id: string;
  contact_id: string;
  relay_kind: 'conversation' | 'welcome';
  sent_at: Date;
  opens_service_window: boolean | null;
  first_contact: boolean;
  relay_attempts: number;
  relay_next_attempt_at: Date | null;
}

const due = `(relay_next_attempt_at IS NULL OR relay_next_attempt_at <= now())`;

export function createInboundRelayStore(db: Database): InboundRelayStore {
  return {
    async relayBatch(contacts, deliver) {
      return db.transaction(async (trx) => {
        const locked = (
          await trx.raw<{ rows: { phone_number_id: string; contact_id: string }[] }>(
            `WITH candidates AS MATERIALIZED (
               SELECT phone_number_id, contact_id, min(created_at) AS first_at FROM (
                 SELECT phone_number_id, contact_id, created_at FROM messages
                 WHERE relay_kind IS NOT NULL AND delivered_to_workflow_at IS NULL AND ${due}
                 ORDER BY created_at LIMIT ?
               ) pending
               GROUP BY phone_number_id, contact_id
               ORDER BY first_at
               LIMIT ?
             )
             SELECT phone_number_id, contact_id FROM candidates
             WHERE pg_try_advisory_xact_lock(hashtextextended('inbound-relay:' || phone_number_id || ':' || contact_id, 0))`,
            [contacts * 4, contacts],
          )
        ).rows;
        if (locked.length === 0) return { delivered: 0, failed: 0 };
        // Read after the locks: a relay that held one of them has committed by now.
        const rows: PendingRow[] = await trx('messages')
          .whereNotNull('relay_kind')
          .whereNull('delivered_to_workflow_at')
          .whereIn(
            ['phone_number_id', 'contact_id'],
            locked.map((l) => [l.phone_number_id, l.contact_id]),
          )
          .orderBy([{ column: 'sent_at' }, { column: 'created_at' }, { column: 'id' }])
          .select(
            'id',
            'phone_number_id',
            'contact_id',
            'relay_kind',
            'sent_at',
            'opens_service_window',
            'first_contact',
            'relay_attempts',
            'relay_next_attempt_at',
          );
        const byContact = new Map<string, PendingRow[]>();
        for (const row of rows) {
          const key = `${row.phone_number_id}|${row.contact_id}`;
          byContact.set(key, [...(byContact.get(key) ?? []), row]);
        }
        const now = Date.now();
        const outcomes = await Promise.all(
          [...byContact.values()]
            // A contact whose first message is backing off waits as a whole.
            .filter((messages) => !messages[0].relay_next_attempt_at || messages[0].relay_next_attempt_at.getTime() <= now)
            .map(async (messages) => {
              const attempts = new Map(messages.map((m) => [m.id, m.relay_attempts]));
              try {
                return { attempts, outcome: await deliver(messages.map(toPending)) };
              } catch (error) {
                return {
                  attempts,
                  outcome: { delivered: [], failed: { messageId: messages[0].id, error: String((error as Error)?.message ?? error) } },
                };
              }
            }),
        );
        const delivered = outcomes.flatMap((o) => o.outcome.delivered);
        if (delivered.length > 0) {
          await trx('messages')
            .whereIn('id', delivered)
            .update({ delivered_to_workflow_at: trx.fn.now(), relay_next_attempt_at: null, relay_last_error: null });
        }
        let failed = 0;
        for (const { attempts, outcome } of outcomes) {
          if (!outcome.failed) continue;
          failed++;
          const attempt = (attempts.get(outcome.failed.messageId) ?? 0) + 1;
          const backoffMs = Math.min(RETRY_MAX_MS, RETRY_INITIAL_MS * 2 ** (attempt - 1));
          await trx('messages')
            .where({ id: outcome.failed.messageId })
            .update({
              relay_attempts: attempt,
              relay_next_attempt_at: new Date(Date.now() + backoffMs),
              relay_last_error: outcome.failed.error.slice(0, 1000),
            });
        }
        return { delivered: delivered.length, failed };
      });
    },

    async backlog() {
      const row = (await db('messages')
        .whereNotNull('relay_kind')
        .whereNull('delivered_to_workflow_at')
        .first(db.raw('count(*)::int AS pending'), db.raw('min(created_at) AS oldest'))) as { pending: number; oldest: Date | null } | undefined;
      return { pending: row?.pending ?? 0, oldestCreatedAt: row?.oldest ?? null };
    },
  };
}

function toPending(row: PendingRow): PendingInboundMessage {
  return {
    messageId: row.id,
    phoneNumberId: row.phone_number_id,
    contactId: row.contact_id,
    kind: row.relay_kind,
    sentAt: row.sent_at,
    opensServiceWindow: row.opens_service_window ?? true,
    isFirstContact: row.first_contact,
    attempts: row.relay_attempts,
  };
}
