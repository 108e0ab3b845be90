import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Assignments a conversation workflow has not been told about yet. Written in the same
  // transaction as the assignment, removed once the workflow has been signalled, so a
  // notification lost to a crash between the two is found and sent again.
  await knex.schema.createTable('assignment_outbox', (t) => {
    t.uuid('conversation_id').primary().references('conversations.id');
    t.text('workflow_id').notNullable();
    t.text('agent_id').notNullable();
    t.timestamp('created_at', { useTz: true, precision: 6 }).notNullable().defaultTo(knex.raw('clock_timestamp()'));
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('assignment_outbox');
}
