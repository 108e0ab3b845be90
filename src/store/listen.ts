/**
 * A dedicated PostgreSQL connection that LISTENs to one channel (pg_notify payloads are
 * delivered at commit, to every listening process). Pooled connections cannot listen: a
 * LISTEN lasts as long as its connection.
 */
import pg from 'pg';
import type { Knex } from 'knex';
import type { Database } from '../db/knex';

export interface ChannelListener {
  /** Called with each notification's payload, in commit order. */
  onNotification(payload: string): void;
  /** The listening connection was lost: listen again (and catch up from the tables). */
  onLost(): void;
}

export async function listenToChannel(db: Database, channel: string, listener: ChannelListener): Promise<{ stop(): Promise<void> }> {
  const connection = (db.client as Knex.Client).config.connection as string | pg.ClientConfig;
  const client = new pg.Client(connection);
  let stopped = false;
  client.on('notification', (message) => {
    if (message.channel === channel && message.payload) listener.onNotification(message.payload);
  });
  const lost = () => {
    if (!stopped) {
      stopped = true;
      listener.onLost();
    }
  };
  client.on('error', lost);
  client.on('end', lost);
  try {
    await client.connect();
    await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
  } catch (error) {
    stopped = true;
    await client.end().catch(() => undefined);
    throw error;
  }
  return {
    async stop() {
      stopped = true;
      await client.end().catch(() => undefined);
    },
  };
}
