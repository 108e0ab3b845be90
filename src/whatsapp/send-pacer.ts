/**
 * Paces sends the way Meta asks (SPEC §5, WHATSAPP.md §6): at most N messages per second
 * per business number (80 by default) and about one message every 6 seconds to the same
 * customer. Each send reserves the next free slot of its number and of its contact in one
 * statement per key, so concurrent senders in any number of worker replicas queue up
 * behind each other instead of bursting into Meta's rate limits. A conversation sends
 * one message at a time, so waiting for a slot never reorders its messages.
 */
import type { SendSlotStore } from '../store';
import { SECOND } from '../../workflows/rules/vocabulary';

export interface PacingSettings {
  messagesPerSecondPerNumber: number;
  /** Minimum spacing between two messages to the same contact. */
  contactIntervalMs: number;
}

export interface SendPacer {
  /** Resolves when this message may go out, with the slot it was given and how long it waited. */
  waitForSlot(phoneNumberId: string, contactId: string): Promise<{ slotAt: number; waitedMs: number }>;
}

/**
 * `slots` is the store's `sendSlots` (a Database is still accepted, for callers that have
 * not moved to the store yet: bench/send-pacing.ts).
 */
export function createSendPacer(
  sendSlots: SendSlotStore,
  settings: PacingSettings,
  sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
): SendPacer {
  const numberIntervalMs = SECOND / settings.messagesPerSecondPerNumber;
  const reserve = (key: string, intervalMs: number) => sendSlots.reserve(key, intervalMs);

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
