import type { Knex } from 'knex';

/**
 * The durable inbound relay (src/inbound/inbound-relay.ts): the webhook stores a customer
 * message and answers 200; the relay hands it to its workflow afterwards. A message waits
 * for the relay while `relay_kind` is set and `delivered_to_workflow_at` is not.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('messages', (t) => {
    // 'conversation' (signalWithStart) or 'welcome' (start the welcome workflow); NULL: nothing to hand over.
    t.text('relay_kind');
    t.boolean('opens_service_window');
    t.integer('relay_attempts').notNullable().defaultTo(0);
    t.timestamp('relay_next_attempt_at', { useTz: true });
    t.text('relay_last_error');
  });
  // Customer messages stored before the relay existed and never handed over (their webhook
  // was answered non-200, so Meta redelivers them; the relay now hands them over first).
  await knex.raw(
    `UPDATE messages SET relay_kind = CASE WHEN type = 'request_welcome' THEN 'welcome' ELSE 'conversation' END, opens_service_window = true
     WHERE direction = 'inbound' AND delivered_to_workflow_at IS NULL AND conversation_id IS NULL
       AND type NOT IN ('reaction', 'system', 'edit', 'revoke')`,
  );
  await knex.raw(`CREATE INDEX messages_relay_pending ON messages (created_at) WHERE relay_kind IS NOT NULL AND delivered_to_workflow_at IS NULL`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS messages_relay_pending');
  await knex.schema.alterTable('messages', (t) => {
    t.dropColumn('relay_kind');
    t.dropColumn('opens_service_window');
    t.dropColumn('relay_attempts');
    t.dropColumn('relay_next_attempt_at');
    t.dropColumn('relay_last_error');
  });
}
