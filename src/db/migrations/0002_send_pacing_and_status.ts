import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // One row per pacing key (a number, or a number and contact): the next free send slot.
  // Kept in PostgreSQL so every worker replica shares the same budget.
  await knex.schema.createTable('send_slots', (t) => {
    t.text('key').primary();
    t.timestamp('next_slot_at', { useTz: true, precision: 6 }).notNullable();
  });
  // Conditions an operator must see on /healthz, whichever process noticed them.
  await knex.schema.createTable('service_conditions', (t) => {
    t.text('name').primary();
    t.text('state').notNullable();
    t.jsonb('detail');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('service_conditions');
  await knex.schema.dropTableIfExists('send_slots');
}
