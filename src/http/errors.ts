import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '../logger';
import { ConversationConflict, TemporalUnavailable } from '../temporal/conversation-actions';
import { isDatabaseUnavailable, isTemporalUnavailable } from '../health/dependency-errors';

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

/** Seconds a client (Meta included) should wait before trying again after a 503. */
export const UNAVAILABLE_RETRY_AFTER_S = 5;

/**
 * Last middleware: known errors keep their status; an unreachable dependency is a 503
 * saying which one (never a stack trace or SQL); anything else is a logged 500 with a
 * generic body. The request id (X-Request-Id) ties the answer to the log line.
 */
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
    if (error instanceof TemporalUnavailable || isTemporalUnavailable(error)) {
      log.warn({ err: error }, 'Temporal unavailable: answered 503');
      res.setHeader('Retry-After', String(UNAVAILABLE_RETRY_AFTER_S));
      const message =
        error instanceof TemporalUnavailable ? error.message : 'Temporal is unreachable; the action may not have been applied, try again shortly';
      return sendError(res, 503, 'temporal_unavailable', message);
    }
    if (isDatabaseUnavailable(error)) {
      log.warn({ err: error }, 'PostgreSQL unavailable: answered 503');
      res.setHeader('Retry-After', String(UNAVAILABLE_RETRY_AFTER_S));
      return sendError(res, 503, 'database_unavailable', 'the database is unreachable; the request was not completed, try again shortly');
    }
    log.error({ err: error }, 'unhandled error');
    return sendError(res, 500, 'internal', 'internal error');
  };
}
