import type { z } from 'zod';
import { zodIssuesToFieldIssues } from '../whatsapp/message-content';
import { HttpError } from './errors';

/** Validates a request part; a failure is a 400 whose details name every bad field. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, part: 'body' | 'query' | 'path'): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new HttpError(400, 'invalid_request', `invalid ${part}`, zodIssuesToFieldIssues(result.error, part === 'body' ? '' : part));
  }
  return result.data;
}
