import type { Knex } from 'knex';

/**
 * R13 reassignment: the agents a conversation was taken from, so that neither its new
 * routing nor any later queue drain gives it back to them. NULL (or empty) for every
 * conversation that was never reassigned.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE conversations ADD COLUMN excluded_agent_ids text[]');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE conversations DROP COLUMN IF EXISTS excluded_agent_ids');
}
