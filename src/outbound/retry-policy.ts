/**
 * When a failed delivery is tried again (SPEC §9): exponential backoff from `baseMs`
 * (1 s: 1, 2, 4, 8 … s), each wait capped at an hour, for 24 hours after the first
 * attempt; the last try is made at the 24-hour mark, and a failure then is final.
 */
export const DELIVERY_TIMEOUT_MS = 10_000;
export const RETRY_FOR_MS = 24 * 60 * 60 * 1000;
export const MAX_RETRY_WAIT_MS = 60 * 60 * 1000;
export const DEFAULT_RETRY_BASE_MS = 1000;

export type AfterFailure = { kind: 'retry'; at: Date } | { kind: 'give_up' };

/** `attempts` counts the attempt that just failed (1 after the first). */
export function afterFailure(input: { attempts: number; firstAttemptAt: Date; now: Date; baseMs?: number }): AfterFailure {
  const deadline = input.firstAttemptAt.getTime() + RETRY_FOR_MS;
  if (input.now.getTime() >= deadline) return { kind: 'give_up' };
  const wait = Math.min((input.baseMs ?? DEFAULT_RETRY_BASE_MS) * 2 ** Math.min(input.attempts - 1, 40), MAX_RETRY_WAIT_MS);
  return { kind: 'retry', at: new Date(Math.min(input.now.getTime() + wait, deadline)) };
}
