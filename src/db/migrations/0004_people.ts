import type { Knex } from 'knex';

/**
 * People and access (SPEC §6.1), the conversation timeline and live change events (§6, §8).
 *
 * The timeline and the change events are written by triggers, in the transaction of the
 * change itself, so every writer (API, worker activities, sweeper) records them without
 * knowing about them. A routing transaction says why it decided what it did with
 * `set_config('inbox.reason', …, true)`; the trigger copies it into the timeline entry.
 * Each change event is announced with `pg_notify('change_events', id)`, which PostgreSQL
 * delivers at commit to every listening API replica.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.text('login').primary();
    t.text('name').notNullable();
    t.text('role').notNullable();
    t.text('agent_id');
    // scrypt$N$r$p$salt$hash (base64url), see src/accounts/passwords.ts
    t.text('password_hash').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('sessions', (t) => {
    // sha256 of the random token in the cookie: a leaked table does not sign anyone in.
    t.text('token_hash').primary();
    t.text('login').notNullable().references('users.login').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
  });

  // Failed sign-ins, shared by every API replica (throttling, SPEC §6.1).
  await knex.schema.createTable('login_failures', (t) => {
    t.bigIncrements('id');
    t.text('login').notNullable();
    t.timestamp('failed_at', { useTz: true }).notNullable().defaultTo(knex.raw('clock_timestamp()'));
    t.index(['login', 'failed_at']);
  });

  await knex.schema.createTable('api_keys', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable();
    t.text('role').notNullable();
    t.specificType('phone_number_ids', 'text[]');
    t.text('key_hash').notNullable().unique();
    t.text('key_prefix').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('conversation_timeline', (t) => {
    t.bigIncrements('id');
    t.uuid('conversation_id').notNullable();
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.raw('clock_timestamp()'));
    t.text('kind').notNullable();
    t.jsonb('actor').notNullable();
    t.jsonb('details').notNullable().defaultTo('{}');
    t.index(['conversation_id', 'id']);
  });

  await knex.schema.createTable('change_events', (t) => {
    t.bigIncrements('id');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.raw('clock_timestamp()'));
    t.text('type').notNullable();
    t.text('phone_number_id');
    t.uuid('conversation_id');
    t.text('agent_id');
    t.jsonb('data').notNullable().defaultTo('{}');
  });

  await knex.raw(`
    CREATE FUNCTION inbox_change_event(kind text, number text, conversation uuid, agent text, payload jsonb) RETURNS void AS $$
    DECLARE new_id bigint;
    BEGIN
      INSERT INTO change_events (type, phone_number_id, conversation_id, agent_id, data)
        VALUES (kind, number, conversation, agent, payload) RETURNING id INTO new_id;
      PERFORM pg_notify('change_events', new_id::text);
    END $$ LANGUAGE plpgsql`);

  await knex.raw(`
    CREATE FUNCTION inbox_timeline(conversation uuid, kind text, details jsonb) RETURNS void AS $$
    BEGIN
      INSERT INTO conversation_timeline (conversation_id, kind, actor, details)
        VALUES (conversation, kind, COALESCE(NULLIF(current_setting('inbox.actor', true), '')::jsonb, '{"type":"automation"}'::jsonb), details);
    END $$ LANGUAGE plpgsql`);

  await knex.raw(`
    CREATE FUNCTION inbox_conversations_changed() RETURNS trigger AS $$
    DECLARE
      reason text := NULLIF(current_setting('inbox.reason', true), '');
      queue_length bigint;
    BEGIN
      IF TG_OP = 'INSERT' THEN
        PERFORM inbox_timeline(NEW.id, 'opened', jsonb_build_object('status', NEW.status));
        PERFORM inbox_change_event('conversation.created', NEW.phone_number_id, NEW.id, NEW.agent_id, jsonb_build_object('status', NEW.status));
        RETURN NEW;
      END IF;
      IF NEW.status IS NOT DISTINCT FROM OLD.status AND NEW.agent_id IS NOT DISTINCT FROM OLD.agent_id THEN
        -- Routing that leaves the status as it was (unassigned: nobody online, manual mode) is still a decision.
        IF reason IS NOT NULL AND NEW.status = 'unassigned' THEN
          PERFORM inbox_timeline(NEW.id, 'routed', jsonb_build_object('status', NEW.status, 'agentId', NEW.agent_id, 'reason', reason));
          PERFORM inbox_change_event('conversation.status', NEW.phone_number_id, NEW.id, NEW.agent_id, jsonb_build_object('status', NEW.status, 'previousStatus', OLD.status));
        END IF;
        RETURN NEW;
      END IF;
      IF NEW.status = 'closed' THEN
        PERFORM inbox_timeline(NEW.id, 'closed', jsonb_build_object('closeReason', NEW.close_reason, 'agentId', NEW.agent_id));
        PERFORM inbox_change_event('conversation.closed', NEW.phone_number_id, NEW.id, NEW.agent_id,
          jsonb_build_object('status', NEW.status, 'closeReason', NEW.close_reason));
      ELSIF NEW.status = 'assigned' AND OLD.status = 'assigned' THEN
        PERFORM inbox_timeline(NEW.id, 'transferred', jsonb_build_object('agentId', NEW.agent_id, 'previousAgentId', OLD.agent_id, 'reason', COALESCE(reason, 'transferred')));
        PERFORM inbox_change_event('conversation.assigned', NEW.phone_number_id, NEW.id, NEW.agent_id,
          jsonb_build_object('status', NEW.status, 'agentId', NEW.agent_id, 'previousAgentId', OLD.agent_id));
      ELSE
        PERFORM inbox_timeline(NEW.id, 'routed', jsonb_build_object('status', NEW.status, 'agentId', NEW.agent_id, 'reason', reason));
        PERFORM inbox_change_event(CASE WHEN NEW.status = 'assigned' THEN 'conversation.assigned' ELSE 'conversation.status' END,
          NEW.phone_number_id, NEW.id, NEW.agent_id, jsonb_build_object('status', NEW.status, 'agentId', NEW.agent_id, 'previousStatus', OLD.status));
      END IF;
      IF (NEW.status = 'queued') IS DISTINCT FROM (OLD.status = 'queued') THEN
        SELECT count(*) INTO queue_length FROM conversations WHERE phone_number_id = NEW.phone_number_id AND status = 'queued';
        PERFORM inbox_change_event('queue.changed', NEW.phone_number_id, NULL, NULL, jsonb_build_object('length', queue_length));
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql`);
  await knex.raw(
    `CREATE TRIGGER conversations_changed AFTER INSERT OR UPDATE ON conversations FOR EACH ROW EXECUTE FUNCTION inbox_conversations_changed()`,
  );

  await knex.raw(`
    CREATE FUNCTION inbox_messages_changed() RETURNS trigger AS $$
    DECLARE
      info jsonb := jsonb_build_object('messageId', NEW.id, 'direction', NEW.direction, 'author', NEW.author, 'automation', NEW.automation, 'status', NEW.status);
    BEGIN
      IF NEW.direction = 'inbound' THEN
        IF NEW.conversation_id IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.conversation_id IS NULL) THEN
          PERFORM inbox_timeline(NEW.conversation_id, 'message_received', info || jsonb_build_object('type', NEW.type));
          PERFORM inbox_change_event('message.received', NEW.phone_number_id, NEW.conversation_id, NEW.agent_id, info);
        END IF;
        RETURN NEW;
      END IF;
      IF TG_OP = 'INSERT' THEN
        PERFORM inbox_change_event('message.sent', NEW.phone_number_id, NEW.conversation_id, NEW.agent_id, info);
        RETURN NEW;
      END IF;
      IF NEW.status IS DISTINCT FROM OLD.status THEN
        PERFORM inbox_change_event('message.status', NEW.phone_number_id, NEW.conversation_id, NEW.agent_id, info);
        IF OLD.status = 'pending' AND NEW.conversation_id IS NOT NULL THEN
          PERFORM inbox_timeline(NEW.conversation_id,
            CASE WHEN NEW.automation IS NULL THEN 'reply_sent'
                 WHEN NEW.status = 'skipped' THEN 'automated_message_skipped'
                 WHEN NEW.status = 'failed' THEN 'automated_message_failed'
                 ELSE 'automated_message_sent' END,
            info || jsonb_build_object('agentId', NEW.agent_id, 'skipReason', NEW.skip_reason, 'error', NEW.error));
        END IF;
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql`);
  await knex.raw(`CREATE TRIGGER messages_changed AFTER INSERT OR UPDATE ON messages FOR EACH ROW EXECUTE FUNCTION inbox_messages_changed()`);

  await knex.raw(`
    CREATE FUNCTION inbox_csat_answered() RETURNS trigger AS $$
    BEGIN
      PERFORM inbox_timeline(NEW.conversation_id, 'survey_answered', jsonb_build_object('score', NEW.score, 'agentId', NEW.agent_id));
      RETURN NEW;
    END $$ LANGUAGE plpgsql`);
  await knex.raw(`CREATE TRIGGER csat_answered AFTER INSERT ON csat_answers FOR EACH ROW EXECUTE FUNCTION inbox_csat_answered()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS csat_answered ON csat_answers');
  await knex.raw('DROP TRIGGER IF EXISTS messages_changed ON messages');
  await knex.raw('DROP TRIGGER IF EXISTS conversations_changed ON conversations');
  for (const fn of [
    'inbox_csat_answered()',
    'inbox_messages_changed()',
    'inbox_conversations_changed()',
    'inbox_timeline(uuid, text, jsonb)',
    'inbox_change_event(text, text, uuid, text, jsonb)',
  ]) {
    await knex.raw(`DROP FUNCTION IF EXISTS ${fn}`);
  }
  for (const table of ['change_events', 'conversation_timeline', 'api_keys', 'login_failures', 'sessions', 'users']) {
    await knex.schema.dropTableIfExists(table);
  }
}
