/**
 * Paces sends the way Meta asks (SPEC §5, WHATSAPP.md §6): at most N messages per second
 * per business number (80 by default) and about one message every 6 seconds to the same
 * customer. Each send reserves the next free slot of its number and of its contact in one
 * statement per key, so concurrent senders in any number of worker replicas queue up
 * behind each other instead of bursting into Meta's rate limits. A conversation sends
 * one message at a time, so waiting for a slot never reorders its messages.
 */
import type { Database } from '../db/knex';

export interface PacingSettings {
  messagesPerSecondPerNumber: number;
  /** Minimum spacing between two messages to the same contact. */
  contactIntervalMs: number;
}

export interface SendPacer {
  /** Resolves when this message may go out, with the slot it was given and how long it waited. */
  waitForSlot(phoneNumberId: string, contactId: string): Promise<{ slotAt: number; waitedMs: number }>;
}

export function createSendPacer(db: Database, settings: PacingSettings, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))): SendPacer {
  const numberIntervalMs = 1000 / settings.messagesPerSecondPerNumber;

  /** Reserves the key's next slot: when it starts by the database clock, and in how many ms. */
  async function reserve(key: string, intervalMs: number): Promise<{ slotAt: number; inMs: number }> {
    const result = await db.raw(
      `INSERT INTO send_slots (key, next_slot_at) VALUES (?, clock_timestamp() + make_interval(secs => ?))
       ON CONFLICT (key) DO UPDATE
         SET next_slot_at = GREATEST(send_slots.next_slot_at, clock_timestamp()) + make_interval(secs => ?)
       RETURNING extract(epoch from next_slot_at) * 1000 - ? AS slot_ms, extract(epoch from clock_timestamp()) * 1000 AS now_ms`,
      [key, intervalMs / 1000, intervalMs / 1000, intervalMs],
    );
    const row = result.rows[0] as { slot_ms: string; now_ms: string };
    return { slotAt: Number(row.slot_ms), inMs: Number(row.slot_ms) - Number(row.now_ms) };
  }

  return {
    async waitForSlot(phoneNumberId, contactId) {
      const started = Date.now();
      // The contact's slot first: it is the longer wait, and the number's slot is then
      // taken only when this message is really about to go.
      if (settings.contactIntervalMs > 0) {
        const contactSlot = await reserve(`contact:${phoneNumberId}:${contactId}`, settings.contactIntervalMs);
        if (contactSlot.inMs > 0) await sleep(contactSlot.inMs);
      }
      const numberSlot = await reserve(`number:${phoneNumberId}`, numberIntervalMs);
      if (numberSlot.inMs > 0) await sleep(numberSlot.inMs);
      return { slotAt: numberSlot.slotAt, waitedMs: Date.now() - started };
    },
  };
}
