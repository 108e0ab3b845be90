import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = 'valid' | 'missing' | 'mismatch';

/** SPEC §5: `sha256=` + hex HMAC-SHA256 of the raw body bytes, keyed by the app secret. */
export function checkWebhookSignature(rawBody: Buffer, header: string | undefined, appSecret: string): SignatureCheck {
  if (!header) return 'missing';
  const expected = Buffer.from(signWebhookBody(rawBody, appSecret));
  const given = Buffer.from(header.trim());
  // timingSafeEqual needs equal lengths; the length itself reveals nothing secret.
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'valid' : 'mismatch';
}

export function signWebhookBody(rawBody: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

/** Constant-time string comparison for the verify token. */
export function constantTimeEquals(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
