/**
 * Which failures mean "a dependency is unreachable right now" rather than "this request is
 * wrong" or "our code is wrong". They answer 503 (SPEC §6 error shape, `Retry-After`), so
 * Meta redelivers a webhook and a person or a script tries again, instead of a 500 that
 * reads like a bug. Everything else stays a logged 500 with a generic body.
 */
import { WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';

/** Node's socket errors when the peer is gone, refuses, or never answers. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * PostgreSQL SQLSTATEs of a server that is going away or not there yet: class 08
 * (connection exception), 57P01–57P03 (admin shutdown, crash shutdown, cannot connect now),
 * 53300 (too many connections).
 */
function isUnavailableSqlState(code: string): boolean {
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';
}

/** node-postgres and knex say it in words only. */
const DATABASE_UNAVAILABLE_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Timeout acquiring a connection/i,
  /Client has encountered a connection error/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
  /terminating connection due to administrator command/i,
  /Query read timeout/i,
];

/** The error, its `cause` chain and the members of an AggregateError (Node's dual-stack connect). */
function* chain(error: unknown, depth = 0): Generator<Record<string, unknown>> {
  if (depth > 8 || error === null || typeof error !== 'object') return;
  const e = error as Record<string, unknown>;
  yield e;
  if (Array.isArray(e.errors)) for (const inner of e.errors) yield* chain(inner, depth + 1);
  if (e.cause !== undefined) yield* chain(e.cause, depth + 1);
}

/** PostgreSQL took longer than a bound the caller set (a server that accepts but never answers). */
export class DatabaseTimeout extends Error {
  override readonly name = 'DatabaseTimeout';
}

/**
 * `work`, or a DatabaseTimeout once `ms` have passed. The work is not cancelled: use it
 * only where finishing late is harmless (an idempotent store).
 */
export async function withinDatabaseBound<T>(ms: number, work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DatabaseTimeout(`${what}: PostgreSQL did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function isDatabaseUnavailable(error: unknown): boolean {
  for (const e of chain(error)) {
    if (e instanceof DatabaseTimeout || e.name === 'KnexTimeoutError') return true;
    const code = typeof e.code === 'string' ? e.code : null;
    if (code && (NETWORK_CODES.has(code) || isUnavailableSqlState(code))) return true;
    const message = typeof e.message === 'string' ? e.message : '';
    if (DATABASE_UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return true;
  }
  return false;
}

/** gRPC status codes: the server could not be reached, or did not answer within the deadline. */
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

export function isTemporalUnavailable(error: unknown): boolean {
  for (const e of chain(error)) {
    if (e instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
    // A gRPC ServiceError carries a numeric code and `details`.
    if (typeof e.code === 'number' && 'details' in e && (e.code === GRPC_UNAVAILABLE || e.code === GRPC_DEADLINE_EXCEEDED)) return true;
  }
  return false;
}
