/**
 * Live updates (SPEC §6, §8): `GET /api/events/stream` as server-sent events.
 *
 * Every change is a row of `change_events` written in the transaction of the change and
 * announced with pg_notify (migration 0004). Each process keeps ONE listening connection
 * (opened with the first client) and fans each event out to its clients, filtered by what
 * each principal may see (the access matrix's scope). So every API replica delivers every
 * change, whichever replica or worker made it. A client that reconnects sends
 * `Last-Event-ID` and first gets what it missed, replayed from the table.
 *
 * A slow client never holds up the others: writes are never awaited. A client whose
 * unsent buffer stays above MAX_BUFFERED_BYTES for longer than BEHIND_GRACE_MS (a burst
 * may pass it for a moment), or ever passes HARD_LIMIT_BYTES, is disconnected: its
 * browser reconnects and resumes from its last id. A comment line every 15 s keeps
 * proxies from timing out.
 */
import type { Request, Response } from 'express';
import type { ChangeEvent, Store } from '../store';
import type { Logger } from '../logger';
import { type Scope, scopeAllows } from './access';

export const HEARTBEAT_MS = 15_000;
export const MAX_BUFFERED_BYTES = 1024 * 1024;
export const HARD_LIMIT_BYTES = 16 * 1024 * 1024;
export const BEHIND_GRACE_MS = 5_000;
const REPLAY_PAGE = 500;
const NOTIFY_BATCH = 500;

interface Client {
  res: Response;
  scope: Scope;
  /** Live events that arrived while the replay ran. */
  pending: ChangeEvent[] | null;
  /** The replay sent everything up to here: a live event at or below it is a duplicate. */
  replayedUpTo: bigint;
  /** Since when its unsent buffer has been above the limit (null: it is keeping up). */
  behindSince: number | null;
}

export interface EventHub {
  /** Serves one client until it disconnects. */
  serve(req: Request, res: Response, scope: Scope): Promise<void>;
  clientCount(): number;
  stop(): Promise<void>;
}

export function createEventHub(options: {
  store: Store;
  log: Logger;
  heartbeatMs?: number;
  maxBufferedBytes?: number;
  hardLimitBytes?: number;
  behindGraceMs?: number;
}): EventHub {
  const { store, log } = options;
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  const maxBuffered = options.maxBufferedBytes ?? MAX_BUFFERED_BYTES;
  const hardLimit = options.hardLimitBytes ?? HARD_LIMIT_BYTES;
  const graceMs = options.behindGraceMs ?? BEHIND_GRACE_MS;
  const clients = new Set<Client>();
  let listening: Promise<{ stop(): Promise<void> }> | null = null;
  let heartbeat: NodeJS.Timeout | null = null;
  let sweep: NodeJS.Timeout | null = null;
  let stopped = false;

  function drop(client: Client): void {
    log.warn({ buffered: client.res.writableLength }, 'event stream client too far behind: disconnected');
    clients.delete(client);
    client.res.destroy();
  }

  function write(client: Client, chunk: string): void {
    if (client.res.writableEnded || client.res.destroyed) return;
    client.res.write(chunk);
    const buffered = client.res.writableLength;
    if (buffered > hardLimit) drop(client);
    else if (buffered > maxBuffered) client.behindSince ??= Date.now();
  }

  function sweepSlowClients(): void {
    const now = Date.now();
    for (const client of clients) {
      if (client.behindSince === null) continue;
      if (client.res.writableLength <= maxBuffered) client.behindSince = null;
      else if (now - client.behindSince > graceMs) drop(client);
    }
  }

  async function visible(client: Client, event: ChangeEvent, statusCache: Map<string, string | null>): Promise<boolean> {
    let conversationStatus: string | null = null;
    if (client.scope.status && event.conversationId) {
      if (!statusCache.has(event.conversationId)) {
        statusCache.set(event.conversationId, (await store.conversations.get(event.conversationId))?.status ?? null);
      }
      conversationStatus = statusCache.get(event.conversationId) ?? null;
    }
    return scopeAllows(client.scope, { phoneNumberId: event.phoneNumberId, conversationStatus });
  }

  function format(event: ChangeEvent): string {
    const data = {
      id: event.id,
      type: event.type,
      at: event.at,
      phoneNumberId: event.phoneNumberId,
      conversationId: event.conversationId,
      agentId: event.agentId,
      ...event.data,
    };
    return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`;
  }

  async function deliver(client: Client, event: ChangeEvent, statusCache: Map<string, string | null>): Promise<void> {
    if (BigInt(event.id) <= client.replayedUpTo) return;
    if (!(await visible(client, event, statusCache))) return;
    write(client, format(event));
  }

  /** Ids notified but not yet delivered, in notification (commit) order. */
  let notified: string[] = [];
  let draining = false;

  function onEvent(id: string): void {
    notified.push(id);
    if (draining) return;
    draining = true;
    void (async () => {
      try {
        while (notified.length) {
          const batch = notified.slice(0, NOTIFY_BATCH);
          notified = notified.slice(NOTIFY_BATCH);
          if (clients.size === 0) continue;
          const events = await store.activity.eventsByIds(batch);
          const statusCache = new Map<string, string | null>();
          for (const event of events) {
            for (const client of clients) {
              if (client.pending) client.pending.push(event);
              else await deliver(client, event, statusCache);
            }
          }
        }
      } catch (error) {
        log.warn({ err: error }, 'could not deliver change events');
      } finally {
        draining = false;
        if (notified.length) onEvent(notified.pop()!);
      }
    })();
  }

  function ensureListening(): Promise<{ stop(): Promise<void> }> {
    listening ??= store.activity.listen({
      onEvent,
      onLost() {
        // Clients reconnect with Last-Event-ID and replay what this connection missed.
        log.warn('change event listener lost its connection: clients will resume');
        listening = null;
        for (const client of clients) client.res.end();
        clients.clear();
      },
    });
    heartbeat ??= setInterval(() => {
      for (const client of clients) if (!client.pending) write(client, `: heartbeat ${Date.now()}\n\n`);
    }, heartbeatMs);
    heartbeat.unref();
    sweep ??= setInterval(sweepSlowClients, Math.max(50, Math.min(1000, graceMs / 4)));
    sweep.unref();
    return listening;
  }

  return {
    async serve(req, res, scope) {
      if (stopped) throw new Error('the event stream is stopped');
      const lastHeader = req.header('last-event-id') ?? (typeof req.query.lastEventId === 'string' ? req.query.lastEventId : undefined);
      const resumeFrom = lastHeader && /^\d{1,19}$/.test(lastHeader) ? lastHeader : null;
      const client: Client = { res, scope, pending: resumeFrom ? [] : null, replayedUpTo: 0n, behindSince: null };
      await ensureListening();
      res.status(200);
      res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
      res.setHeader('Cache-Control', 'no-cache, no-transform');
      res.setHeader('Connection', 'keep-alive');
      res.setHeader('X-Accel-Buffering', 'no');
      res.flushHeaders();
      clients.add(client);
      res.on('close', () => clients.delete(client));
      write(client, `retry: 2000\n: connected\n\n`);
      if (resumeFrom) {
        // Live events queue up in `pending` while the missed ones are replayed.
        let after = resumeFrom;
        client.replayedUpTo = BigInt(resumeFrom);
        const statusCache = new Map<string, string | null>();
        for (;;) {
          const page = await store.activity.eventsAfter(after, REPLAY_PAGE);
          for (const event of page) await deliver(client, event, statusCache);
          if (page.length) client.replayedUpTo = BigInt(page[page.length - 1].id);
          if (page.length < REPLAY_PAGE || !clients.has(client)) break;
          after = page[page.length - 1].id;
        }
        const pending = client.pending ?? [];
        client.pending = null;
        for (const event of pending) await deliver(client, event, statusCache);
      }
    },

    clientCount: () => clients.size,

    async stop() {
      stopped = true;
      if (heartbeat) clearInterval(heartbeat);
      if (sweep) clearInterval(sweep);
      for (const client of clients) client.res.end();
      clients.clear();
      const l = listening;
      listening = null;
      if (l) await (await l).stop();
    },
  };
}
