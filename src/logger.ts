import pino from 'pino';

/** One structured logger for every process; pretty in a terminal, JSON otherwise. */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): pino.Logger {
  const pretty = process.stdout.isTTY && !process.env.LOG_JSON;
  return pino({
    level,
    base: undefined,
    redact: ['req.headers.authorization', 'headers.authorization', '*.accessToken'],
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } } : {}),
  });
}

export type Logger = pino.Logger;
