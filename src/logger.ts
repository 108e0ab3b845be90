import { AsyncLocalStorage } from 'node:async_hooks';
import pino from 'pino';

/**
 * Fields that every line logged while some work runs carries, without passing a logger
 * down: an activity runs inside `withLogContext({ workflowId, conversationId, … })`.
 */
const logContext = new AsyncLocalStorage<Record<string, unknown>>();

export function withLogContext<T>(fields: Record<string, unknown>, fn: () => T): T {
  return logContext.run({ ...logContext.getStore(), ...fields }, fn);
}

/**
 * Like withLogContext, for work that is its own root (an activity): it carries these fields
 * only, never those of whatever async context happened to schedule it (say, the HTTP
 * request during which an embedded worker's poll loop went on).
 */
export function withOwnLogContext<T>(fields: Record<string, unknown>, fn: () => T): T {
  return logContext.run({ ...fields }, fn);
}

export type LogFormat = 'auto' | 'pretty' | 'json';

/** One structured logger for every process; readable in a terminal, JSON otherwise (LOG_FORMAT). */
export function createLogger(level = 'info', format: LogFormat = 'auto', destination?: pino.DestinationStream): pino.Logger {
  const pretty = !destination && (format === 'pretty' || (format === 'auto' && process.stdout.isTTY));
  const options: pino.LoggerOptions = {
    level,
    base: undefined,
    mixin: () => logContext.getStore() ?? {},
    redact: ['req.headers.authorization', 'headers.authorization', '*.accessToken'],
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } } : {}),
  };
  return destination ? pino(options, destination) : pino(options);
}

export type Logger = pino.Logger;
