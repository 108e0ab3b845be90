import { z } from 'zod';

/** Meta's business phone number id: digits only. */
export const phoneNumberIdSchema = z.string().regex(/^[0-9]{1,32}$/, 'must be a Meta phone number id (digits)');

/** Agent ids appear in URLs, logs and search attributes: a safe, readable alphabet. */
export const agentIdSchema = z.string().regex(/^[A-Za-z0-9._@-]{1,128}$/, 'must be 1–128 letters, digits, or . _ @ -');
