import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('automation_settings', (t) => {
    t.text('phone_number_id').primary();
    t.jsonb('settings').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('contacts', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('phone_number_id').notNullable();
    // BSUID when Meta sends one, else the phone number (wa_id): see SPEC §2.
    t.text('identity_key').notNullable();
    t.text('user_id');
    t.text('wa_id');
    t.text('profile_name');
    t.timestamp('first_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('welcomed_at', { useTz: true });
    t.unique(['phone_number_id', 'identity_key']);
  });

  await knex.schema.createTable('agents', (t) => {
    t.text('id').primary();
    t.text('name').notNullable();
    t.integer('reception_limit').notNullable();
    t.text('status').notNullable();
    // NULL: serves every number.
    t.specificType('phone_number_ids', 'text[]');
    t.timestamp('last_assigned_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE agents ADD CONSTRAINT agents_status_check CHECK (status IN ('online','offline'))`);
  await knex.raw(`ALTER TABLE agents ADD CONSTRAINT agents_limit_check CHECK (reception_limit BETWEEN 1 AND 100)`);

  await knex.schema.createTable('conversations', (t) => {
    t.uuid('id').primary();
    t.text('phone_number_id').notNullable();
    t.uuid('contact_id').notNullable().references('contacts.id');
    t.text('workflow_id').notNullable();
    t.text('status').notNullable();
    t.text('agent_id').references('agents.id');
    t.text('close_reason');
    t.boolean('handled_by_human').notNullable().defaultTo(false);
    t.timestamp('opened_at', { useTz: true }).notNullable();
    t.timestamp('queued_at', { useTz: true });
    t.timestamp('assigned_at', { useTz: true });
    t.timestamp('closed_at', { useTz: true });
    t.timestamp('last_customer_message_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['phone_number_id', 'status', 'queued_at']);
    t.index(['agent_id', 'status']);
    t.index(['contact_id', 'opened_at']);
  });
  await knex.raw(
    `ALTER TABLE conversations ADD CONSTRAINT conversations_status_check CHECK (status IN ('bot','unassigned','queued','assigned','closed'))`,
  );
  // SPEC §2: at most one open conversation per (number, contact).
  await knex.raw(`CREATE UNIQUE INDEX conversations_one_open_per_contact ON conversations (phone_number_id, contact_id) WHERE status <> 'closed'`);

  await knex.schema.createTable('messages', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('phone_number_id').notNullable();
    t.uuid('contact_id').notNullable().references('contacts.id');
    t.uuid('conversation_id').references('conversations.id');
    t.text('direction').notNullable();
    t.text('author').notNullable();
    t.text('agent_id');
    // Which rule sent it (welcome, unassigned_reply, …); NULL for people and bots.
    t.text('automation');
    t.text('wamid').unique();
    // Outbound only: makes a retried send activity find the row it already wrote.
    t.text('idempotency_key').unique();
    t.text('type').notNullable();
    t.jsonb('content').notNullable();
    t.jsonb('raw');
    t.text('status').notNullable();
    t.jsonb('error');
    t.text('skip_reason');
    t.timestamp('sent_at', { useTz: true }).notNullable();
    t.timestamp('status_at', { useTz: true });
    t.timestamp('delivered_to_workflow_at', { useTz: true });
    // Inbound only: the first message of a contact this number had never seen (R1).
    t.boolean('first_contact').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['conversation_id', 'sent_at']);
  });

  // Deduplicates status webhooks on (wamid, status) as Meta recommends.
  await knex.schema.createTable('message_status_events', (t) => {
    t.text('wamid').notNullable();
    t.text('status').notNullable();
    t.timestamp('at', { useTz: true }).notNullable();
    t.jsonb('raw').notNullable();
    t.primary(['wamid', 'status']);
  });

  // Anything a webhook carried that we do not process (other fields, value-level errors).
  await knex.schema.createTable('webhook_other_events', (t) => {
    t.bigIncrements('id');
    t.text('phone_number_id');
    t.text('field').notNullable();
    t.text('reason').notNullable();
    t.jsonb('raw');
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('csat_answers', (t) => {
    // One answer per conversation: R10 records the choice once.
    t.uuid('conversation_id').primary().references('conversations.id');
    t.text('phone_number_id').notNullable();
    t.text('agent_id');
    t.integer('score').notNullable();
    t.text('wamid').notNullable();
    t.timestamp('answered_at', { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'csat_answers',
    'webhook_other_events',
    'message_status_events',
    'messages',
    'conversations',
    'agents',
    'contacts',
    'automation_settings',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
