import type { Knex } from 'knex';

/**
 * Timer entries in the conversation timeline (SPEC §6: timer armed, re-armed, cancelled or
 * fired). The workflow records them through a local activity, which may run more than once
 * for the same change (a retried attempt); each change carries a key the workflow made, and
 * a second insert with the same key does nothing.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('conversation_timeline', (t) => {
    t.text('dedupe_key');
  });
  // Unique, and NULL for every other entry (PostgreSQL lets NULLs repeat in a unique index).
  await knex.raw('CREATE UNIQUE INDEX conversation_timeline_dedupe_key ON conversation_timeline (dedupe_key)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS conversation_timeline_dedupe_key');
  await knex.schema.alterTable('conversation_timeline', (t) => {
    t.dropColumn('dedupe_key');
  });
}
