import type { Knex } from 'knex';

/**
 * Outbound events (SPEC §9): subscriptions, the events they asked for, one delivery per
 * (subscription, event), and the log of every delivery attempt.
 *
 * Events are written by triggers in the transaction of the fact itself (a conversation
 * row changing status, a message row attached or finished, a survey answer, an agent's
 * status), like the timeline of migration 0004: each fact is recorded exactly once, by
 * whichever process makes it true, and never when the transaction rolls back. An event is
 * stored only when an enabled subscription wants it, so a service without subscriptions
 * pays one indexed lookup per fact. `pg_notify('outbound_events', <subscription id>)` at
 * commit wakes that subscription's delivery workflow (src/outbound/delivery-waker.ts).
 *
 * `ordering_key` is what delivery keeps in order: the conversation, or the agent for
 * agent.status. A delivery is `pending` until it is `delivered`, `failed` (24 hours of
 * retries) or `dropped` (its subscription was disabled by a 410 or deleted).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('webhook_subscriptions', (t) => {
    t.text('id').primary();
    t.text('url').notNullable();
    // Kept as given: signing needs it (HMAC). Never returned by the API.
    t.text('secret').notNullable();
    t.specificType('event_types', 'text[]').notNullable();
    t.specificType('phone_number_ids', 'text[]');
    t.boolean('enabled').notNullable().defaultTo(true);
    t.text('disabled_reason');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('outbound_events', (t) => {
    t.text('id').primary();
    t.text('type').notNullable();
    t.timestamp('occurred_at', { useTz: true, precision: 6 }).notNullable();
    t.text('phone_number_id');
    t.uuid('conversation_id');
    t.jsonb('data').notNullable();
  });

  await knex.schema.createTable('webhook_deliveries', (t) => {
    t.bigIncrements('id');
    t.text('subscription_id').notNullable().references('webhook_subscriptions.id').onDelete('CASCADE');
    t.text('event_id').notNullable().references('outbound_events.id');
    t.text('ordering_key').notNullable();
    t.text('status').notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true, precision: 6 }).notNullable();
    t.timestamp('first_attempt_at', { useTz: true, precision: 6 });
    t.timestamp('finished_at', { useTz: true, precision: 6 });
    t.unique(['subscription_id', 'event_id']);
  });
  // The head of each ordering key's line, per subscription (src/store/webhook-store.ts).
  await knex.raw(`CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (subscription_id, ordering_key, id) WHERE status = 'pending'`);

  await knex.schema.createTable('webhook_delivery_attempts', (t) => {
    t.bigIncrements('id');
    t.text('subscription_id').notNullable().references('webhook_subscriptions.id').onDelete('CASCADE');
    t.bigInteger('delivery_id').notNullable().references('webhook_deliveries.id').onDelete('CASCADE');
    t.text('event_id').notNullable();
    t.text('event_type').notNullable();
    t.integer('attempt').notNullable();
    // null: no HTTP answer (timeout, refused connection…), see `error`.
    t.integer('http_status');
    t.text('error');
    t.integer('latency_ms').notNullable();
    t.text('outcome').notNullable();
    t.timestamp('at', { useTz: true, precision: 6 }).notNullable().defaultTo(knex.raw('clock_timestamp()'));
    t.index(['subscription_id', 'id']);
  });

  await knex.raw(`
    CREATE FUNCTION inbox_outbound_event(kind text, numbers text[], conversation uuid, ordering text, payload jsonb) RETURNS void AS $$
    DECLARE
      new_id text;
      subscription record;
    BEGIN
      FOR subscription IN
        SELECT id FROM webhook_subscriptions
        WHERE enabled AND kind = ANY(event_types)
          AND (phone_number_ids IS NULL OR numbers IS NULL OR phone_number_ids && numbers)
        -- A subscription deleted meanwhile waits for this fact's commit (or is skipped),
        -- so the fact never fails on a delivery whose subscription just went.
        FOR KEY SHARE
      LOOP
        IF new_id IS NULL THEN
          new_id := 'evt_' || replace(gen_random_uuid()::text, '-', '');
          INSERT INTO outbound_events (id, type, occurred_at, phone_number_id, conversation_id, data)
            VALUES (new_id, kind, clock_timestamp(), numbers[1], conversation, payload);
        END IF;
        INSERT INTO webhook_deliveries (subscription_id, event_id, ordering_key, next_attempt_at)
          VALUES (subscription.id, new_id, ordering, clock_timestamp());
        PERFORM pg_notify('outbound_events', subscription.id);
      END LOOP;
    END $$ LANGUAGE plpgsql`);

  await knex.raw(`
    CREATE FUNCTION inbox_outbound_conversation(conversation conversations, kind text, extra jsonb) RETURNS void AS $$
    DECLARE contact_info jsonb;
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM webhook_subscriptions WHERE enabled AND kind = ANY(event_types)) THEN RETURN; END IF;
      SELECT jsonb_build_object('id', c.id, 'waId', c.wa_id, 'userId', c.user_id, 'name', c.profile_name) INTO contact_info
        FROM contacts c WHERE c.id = conversation.contact_id;
      PERFORM inbox_outbound_event(kind, ARRAY[conversation.phone_number_id], conversation.id, conversation.id::text,
        jsonb_build_object('conversationId', conversation.id, 'phoneNumberId', conversation.phone_number_id,
                           'status', conversation.status, 'agentId', conversation.agent_id, 'contact', contact_info) || extra);
    END $$ LANGUAGE plpgsql`);

  await knex.raw(`
    CREATE FUNCTION inbox_outbound_conversations() RETURNS trigger AS $$
    DECLARE reason text := NULLIF(current_setting('inbox.reason', true), '');
    BEGIN
      IF TG_OP = 'INSERT' THEN
        -- Opened as unassigned; its routing is the update that follows.
        PERFORM inbox_outbound_conversation(NEW, 'conversation.opened', '{}'::jsonb);
        RETURN NEW;
      END IF;
      IF NEW.status IS NOT DISTINCT FROM OLD.status AND NEW.agent_id IS NOT DISTINCT FROM OLD.agent_id THEN
        -- Routing that leaves the status as it was (nobody online, manual mode) is still a decision.
        IF reason IS NOT NULL AND NEW.status = 'unassigned' THEN
          PERFORM inbox_outbound_conversation(NEW, 'conversation.routed', jsonb_build_object('previousStatus', OLD.status, 'reason', reason));
        END IF;
        RETURN NEW;
      END IF;
      IF NEW.status = 'closed' THEN
        PERFORM inbox_outbound_conversation(NEW, 'conversation.closed', jsonb_build_object('closeReason', NEW.close_reason, 'previousStatus', OLD.status));
      ELSIF reason IN ('reassigned', 'agent_offline') THEN
        PERFORM inbox_outbound_conversation(NEW, 'conversation.reassigned',
          jsonb_build_object('previousStatus', OLD.status, 'previousAgentId', OLD.agent_id, 'reason', reason));
      ELSE
        PERFORM inbox_outbound_conversation(NEW, 'conversation.routed',
          jsonb_build_object('previousStatus', OLD.status, 'previousAgentId', OLD.agent_id,
                             'reason', COALESCE(reason, CASE WHEN NEW.status = 'assigned' AND OLD.status = 'assigned' THEN 'transferred' END)));
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql`);
  await knex.raw(
    `CREATE TRIGGER conversations_outbound AFTER INSERT OR UPDATE ON conversations FOR EACH ROW EXECUTE FUNCTION inbox_outbound_conversations()`,
  );

  await knex.raw(`
    CREATE FUNCTION inbox_outbound_messages() RETURNS trigger AS $$
    DECLARE
      message jsonb := jsonb_build_object('id', NEW.id, 'wamid', NEW.wamid, 'type', NEW.type, 'content', NEW.content,
                                          'author', NEW.author, 'agentId', NEW.agent_id, 'automation', NEW.automation, 'status', NEW.status);
      base jsonb;
      conversation_status text;
      contact_info jsonb;
    BEGIN
      IF NEW.conversation_id IS NULL OR NOT EXISTS (SELECT 1 FROM webhook_subscriptions WHERE enabled) THEN RETURN NEW; END IF;
      SELECT status INTO conversation_status FROM conversations WHERE id = NEW.conversation_id;
      base := jsonb_build_object('conversationId', NEW.conversation_id, 'phoneNumberId', NEW.phone_number_id, 'conversationStatus', conversation_status);
      IF NEW.direction = 'inbound' THEN
        IF TG_OP = 'INSERT' OR OLD.conversation_id IS NULL THEN
          SELECT jsonb_build_object('id', c.id, 'waId', c.wa_id, 'userId', c.user_id, 'name', c.profile_name) INTO contact_info
            FROM contacts c WHERE c.id = NEW.contact_id;
          PERFORM inbox_outbound_event('message.received', ARRAY[NEW.phone_number_id], NEW.conversation_id, NEW.conversation_id::text,
            base || jsonb_build_object('message', message, 'contact', contact_info));
        END IF;
        RETURN NEW;
      END IF;
      IF TG_OP = 'INSERT' OR NEW.status IS NOT DISTINCT FROM OLD.status THEN RETURN NEW; END IF;
      IF OLD.status = 'pending' AND NEW.status IN ('accepted', 'recorded') THEN
        PERFORM inbox_outbound_event('message.sent', ARRAY[NEW.phone_number_id], NEW.conversation_id, NEW.conversation_id::text,
          base || jsonb_build_object('message', message, 'sandbox', NEW.status = 'recorded'));
      ELSIF OLD.status = 'pending' AND NEW.status = 'skipped' THEN
        PERFORM inbox_outbound_event('automation.skipped', ARRAY[NEW.phone_number_id], NEW.conversation_id, NEW.conversation_id::text,
          base || jsonb_build_object('automation', NEW.automation, 'reason', NEW.skip_reason, 'messageId', NEW.id));
      ELSE
        PERFORM inbox_outbound_event('message.status', ARRAY[NEW.phone_number_id], NEW.conversation_id, NEW.conversation_id::text,
          base || jsonb_build_object('messageId', NEW.id, 'wamid', NEW.wamid, 'status', NEW.status, 'previousStatus', OLD.status,
                                     'error', NEW.error));
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql`);
  await knex.raw(`CREATE TRIGGER messages_outbound AFTER INSERT OR UPDATE ON messages FOR EACH ROW EXECUTE FUNCTION inbox_outbound_messages()`);

  await knex.raw(`
    CREATE FUNCTION inbox_outbound_csat() RETURNS trigger AS $$
    BEGIN
      PERFORM inbox_outbound_event('csat.answered', ARRAY[NEW.phone_number_id], NEW.conversation_id, NEW.conversation_id::text,
        jsonb_build_object('conversationId', NEW.conversation_id, 'phoneNumberId', NEW.phone_number_id, 'agentId', NEW.agent_id,
                           'score', NEW.score, 'answeredAt', NEW.answered_at));
      RETURN NEW;
    END $$ LANGUAGE plpgsql`);
  await knex.raw(`CREATE TRIGGER csat_outbound AFTER INSERT ON csat_answers FOR EACH ROW EXECUTE FUNCTION inbox_outbound_csat()`);

  await knex.raw(`
    CREATE FUNCTION inbox_outbound_agents() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status THEN RETURN NEW; END IF;
      PERFORM inbox_outbound_event('agent.status', NEW.phone_number_ids, NULL, 'agent:' || NEW.id,
        jsonb_build_object('agentId', NEW.id, 'name', NEW.name, 'status', NEW.status,
                           'previousStatus', CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, 'phoneNumberIds', NEW.phone_number_ids));
      RETURN NEW;
    END $$ LANGUAGE plpgsql`);
  await knex.raw(`CREATE TRIGGER agents_outbound AFTER INSERT OR UPDATE ON agents FOR EACH ROW EXECUTE FUNCTION inbox_outbound_agents()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS agents_outbound ON agents');
  await knex.raw('DROP TRIGGER IF EXISTS csat_outbound ON csat_answers');
  await knex.raw('DROP TRIGGER IF EXISTS messages_outbound ON messages');
  await knex.raw('DROP TRIGGER IF EXISTS conversations_outbound ON conversations');
  for (const fn of [
    'inbox_outbound_agents()',
    'inbox_outbound_csat()',
    'inbox_outbound_messages()',
    'inbox_outbound_conversations()',
    'inbox_outbound_conversation(conversations, text, jsonb)',
    'inbox_outbound_event(text, text[], uuid, text, jsonb)',
  ]) {
    await knex.raw(`DROP FUNCTION IF EXISTS ${fn}`);
  }
  for (const table of ['webhook_delivery_attempts', 'webhook_deliveries', 'outbound_events', 'webhook_subscriptions']) {
    await knex.schema.dropTableIfExists(table);
  }
}
