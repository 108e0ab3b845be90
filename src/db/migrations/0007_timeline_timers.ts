import type { Knex } from 'knex';

/**
 * Contact search (`GET /api/conversations?q=`) by trigram indexes, so a substring of a name
 * or phone number is found without reading every contact. pg_trgm is a trusted extension
 * (PostgreSQL 13+): a database owner may create it.
 *
 * Timer entries in the conversation timeline (SPEC §6: timer armed, re-armed, cancelled or
 * fired). The workflow records them through a local activity, which may run more than once
 * for the same change (a retried attempt); each change carries a key the workflow made, and
 * a second insert with the same key does nothing.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE EXTENSION IF NOT EXISTS pg_trgm');
  await knex.raw('CREATE INDEX contacts_profile_name_trgm ON contacts USING gin (lower(profile_name) gin_trgm_ops)');
  await knex.raw('CREATE INDEX contacts_wa_id_trgm ON contacts USING gin (wa_id gin_trgm_ops)');
  await knex.schema.alterTable('conversation_timeline', (t) => {
    t.text('dedupe_key');
  });
  // Unique, and NULL for every other entry (PostgreSQL lets NULLs repeat in a unique index).
  await knex.raw('CREATE UNIQUE INDEX conversation_timeline_dedupe_key ON conversation_timeline (dedupe_key)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS contacts_wa_id_trgm');
  await knex.raw('DROP INDEX IF EXISTS contacts_profile_name_trgm');
  await knex.raw('DROP INDEX IF EXISTS conversation_timeline_dedupe_key');
  await knex.schema.alterTable('conversation_timeline', (t) => {
    t.dropColumn('dedupe_key');
  });
}
