import type { RequestHandler } from 'express';
import { constantTimeEquals } from '../whatsapp/signature';
import { sendError } from './errors';

/** Bearer API keys (SPEC §6). Every key is compared so timing reveals nothing. */
export function requireApiKey(apiKeys: string[]): RequestHandler {
  return (req, res, next) => {
    const match = /^Bearer\s+(.+)$/i.exec(req.header('authorization') ?? '');
    const given = match?.[1].trim() ?? '';
    const ok = apiKeys.reduce((found, key) => constantTimeEquals(given, key) || found, false);
    if (!ok) return sendError(res, 401, 'unauthorized', 'a valid API key is required: Authorization: Bearer <key>');
    next();
  };
}
