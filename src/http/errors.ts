import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '../logger';
import { ConversationConflict } from '../temporal/conversation-actions';

export interface ErrorDetail {
  field: string;
  message: string;
}

/** SPEC §6 error shape: {"error":{"code","message","details":[…]}}. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
}

export function sendError(res: Response, status: number, code: string, message: string, details: ErrorDetail[] = []): void {
  res.status(status).json({ error: { code, message, details } });
}

/** Last middleware: known errors keep their status; anything else is a logged 500. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (error, _req, res, _next) => {
    if (error instanceof HttpError) return sendError(res, error.status, error.code, error.message, error.details);
    if (error instanceof ConversationConflict) return sendError(res, 409, 'conflict', error.message);
    // body-parser's errors carry a status and a type.
    const status = (error as { status?: number }).status;
    const type = (error as { type?: string }).type;
    if (status === 413 || type === 'entity.too.large') return sendError(res, 413, 'payload_too_large', 'the request body is too large');
    if (type === 'entity.parse.failed') return sendError(res, 400, 'invalid_json', 'the request body is not valid JSON');
    if (status && status >= 400 && status < 500) return sendError(res, status, 'bad_request', (error as Error).message);
    log.error({ err: error }, 'unhandled error');
    return sendError(res, 500, 'internal', 'internal error');
  };
}
