/**
 * The signature of an outbound event (SPEC §9): `X-Autopilot-Signature: sha256=<hex>` is
 * the HMAC-SHA256 of `"<timestamp>.<body>"` with the subscription's secret, where the
 * timestamp is `X-Autopilot-Timestamp` (Unix seconds). Signing the timestamp with the body
 * lets a receiver refuse an old delivery replayed by someone who captured it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const EVENT_ID_HEADER = 'X-Autopilot-Event-Id';
export const TIMESTAMP_HEADER = 'X-Autopilot-Timestamp';
export const SIGNATURE_HEADER = 'X-Autopilot-Signature';

/** How old a delivery's timestamp may be before a receiver should refuse it. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function signEvent(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * What a receiver runs on each delivery (README "Outbound events"): the raw body as
 * received, the two headers, its copy of the secret. True only for a genuine, fresh delivery.
 */
export function verifyEventSignature(input: {
  secret: string;
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
  toleranceSeconds?: number;
  now?: Date;
}): boolean {
  const { secret, body, timestamp, signature } = input;
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return false;
  const nowSeconds = Math.floor((input.now ?? new Date()).getTime() / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > (input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;
  const expected = Buffer.from(signEvent(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
