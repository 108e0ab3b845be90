/**
 * What happened, for people: each conversation's `conversation_timeline` and the
 * `change_events` feed of live updates. Both are written by the triggers of migration
 * 0004 in the transaction of the change itself; the API adds the entries that name who
 * asked for an action. Every change event is announced with `pg_notify('change_events',
 * id)`: `listen` keeps one connection per process listening, so every API replica sees
 * every change, and a client that reconnects replays what it missed from the table.
 */
import type { Database } from '../db/knex';
import { listenToChannel } from './listen';
import type { ChangeEventType, TimelineKind } from '../../workflows/rules/vocabulary';

export type Actor =
  { type: 'user'; login: string; role: string } | { type: 'key'; id: string | null; name: string; role: string } | { type: 'automation' };

export interface TimelineEntry {
  id: string;
  at: Date;
  kind: TimelineKind;
  actor: Actor;
  details: Record<string, unknown>;
}

export interface RuleTimelineEntry {
  /** Made by the workflow, so that a retried attempt records nothing twice. */
  key: string;
  kind: TimelineKind;
  details: Record<string, unknown>;
}

export interface ChangeEvent {
  id: string;
  at: Date;
  type: ChangeEventType;
  phoneNumberId: string | null;
  conversationId: string | null;
  agentId: string | null;
  data: Record<string, unknown>;
}

export interface ChangeListener {
  /** Called with each new event id, in commit order per connection. */
  onEvent(id: string): void;
  /** The listening connection was lost: subscribers should reconnect (and resume). */
  onLost(): void;
}

export interface ActivityStore {
  timeline(conversationId: string): Promise<TimelineEntry[]>;
  recordAction(conversationId: string, actor: Actor, details: Record<string, unknown>): Promise<void>;
  /** The rules' own entries; an entry whose key is already recorded is left as it is. */
  recordRuleEntries(conversationId: string, entries: RuleTimelineEntry[]): Promise<void>;
  /** Events after `afterId` in id order, at most `limit`. */
  eventsAfter(afterId: string, limit: number): Promise<ChangeEvent[]>;
  /** The events named, in the order named (ids that do not exist are left out). */
  eventsByIds(ids: string[]): Promise<ChangeEvent[]>;
  latestEventId(): Promise<string>;
  /** A dedicated connection that LISTENs to change_events; stop() closes it. */
  listen(listener: ChangeListener): Promise<{ stop(): Promise<void> }>;
}

interface TimelineRow {
  id: string;
  conversation_id: string;
  at: Date;
  kind: TimelineKind;
  actor: Actor;
  details: Record<string, unknown>;
}

interface ChangeEventRow {
  id: string;
  at: Date;
  type: ChangeEventType;
  phone_number_id: string | null;
  conversation_id: string | null;
  agent_id: string | null;
  data: Record<string, unknown>;
}

function toEvent(row: ChangeEventRow): ChangeEvent {
  return {
    id: String(row.id),
    at: row.at,
    type: row.type,
    phoneNumberId: row.phone_number_id,
    conversationId: row.conversation_id,
    agentId: row.agent_id,
    data: row.data,
  };
}

export function createActivityStore(db: Database): ActivityStore {
  return {
    async timeline(conversationId) {
      const rows = await db<TimelineRow>('conversation_timeline').where({ conversation_id: conversationId }).orderBy('id');
      return rows.map((r) => ({ id: String(r.id), at: r.at, kind: r.kind, actor: r.actor, details: r.details }));
    },

    async recordAction(conversationId, actor, details) {
      await db('conversation_timeline').insert({
        conversation_id: conversationId,
        kind: 'action',
        actor: JSON.stringify(actor),
        details: JSON.stringify(details),
      });
    },

    async recordRuleEntries(conversationId, entries) {
      if (entries.length === 0) return;
      await db('conversation_timeline')
        .insert(
          entries.map((e) => ({
            conversation_id: conversationId,
            kind: e.kind,
            actor: JSON.stringify({ type: 'automation' } satisfies Actor),
            details: JSON.stringify(e.details),
            dedupe_key: e.key,
          })),
        )
        .onConflict('dedupe_key')
        .ignore();
    },

    async eventsAfter(afterId, limit) {
      const rows = await db<ChangeEventRow>('change_events').where('id', '>', afterId).orderBy('id').limit(limit);
      return rows.map(toEvent);
    },

    async eventsByIds(ids) {
      const rows = await db<ChangeEventRow>('change_events').whereIn('id', ids);
      const byId = new Map(rows.map((r) => [String(r.id), toEvent(r)]));
      return ids.flatMap((id) => byId.get(id) ?? []);
    },

    async latestEventId() {
      const row = await db('change_events').max<{ max: string | null }>('id as max').first();
      return String(row?.max ?? '0');
    },

    listen(listener) {
      return listenToChannel(db, 'change_events', { onNotification: (id) => listener.onEvent(id), onLost: () => listener.onLost() });
    },
  };
}
