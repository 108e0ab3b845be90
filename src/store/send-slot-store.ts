/**
 * The `send_slots` table: for each pacing key (a number, or a number and contact) the
 * next free send slot. Kept in PostgreSQL so every worker replica shares the same budget;
 * the pacing itself is src/whatsapp/send-pacer.ts.
 */
import type { Database } from '../db/knex';
import { SECOND } from '../../workflows/rules/vocabulary';

export interface SendSlotStore {
  /**
   * Reserves the key's next slot, `intervalMs` after the previous one (or from now, if that
   * has passed), in one statement: when the slot starts by the database clock, and in how
   * many ms from now.
   */
  reserve(key: string, intervalMs: number): Promise<{ slotAt: number; inMs: number }>;
}

export function createSendSlotStore(db: Database): SendSlotStore {
  return {
    async reserve(key, intervalMs) {
      const result = await db.raw(
        `INSERT INTO send_slots (key, next_slot_at) VALUES (?, clock_timestamp() + make_interval(secs => ?))
         ON CONFLICT (key) DO UPDATE
           SET next_slot_at = GREATEST(send_slots.next_slot_at, clock_timestamp()) + make_interval(secs => ?)
         RETURNING extract(epoch from next_slot_at) * 1000 - ? AS slot_ms, extract(epoch from clock_timestamp()) * 1000 AS now_ms`,
        [key, intervalMs / SECOND, intervalMs / SECOND, intervalMs],
      );
      const row = result.rows[0] as { slot_ms: string; now_ms: string };
      return { slotAt: Number(row.slot_ms), inMs: Number(row.slot_ms) - Number(row.now_ms) };
    },
  };
}
