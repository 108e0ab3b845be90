/**
 * The `contacts` table: one row per customer of a number, keyed by BSUID when Meta sends
 * one, else by phone number (wa_id) (SPEC §2).
 */
import type { Database } from '../db/knex';
import { storableText } from '../db/storable';
import type { ContactIdentity } from '../whatsapp/webhook-events';
import type { Queryable } from './queryable';

export interface Contact {
  id: string;
  phoneNumberId: string;
  identityKey: string;
  userId: string | null;
  waId: string | null;
  profileName: string | null;
  firstSeenAt: Date;
  welcomedAt: Date | null;
}

export interface ContactStore {
  get(id: string): Promise<Contact | null>;
  /**
   * Finds the contact by identity key, BSUID or wa_id (one first seen by phone may later
   * arrive with a BSUID too) and fills in what it learnt; creates it if none matches.
   */
  upsert(phoneNumberId: string, identity: ContactIdentity): Promise<{ id: string; isNew: boolean }>;
}

interface ContactRow {
  id: string;
  phone_number_id: string;
  identity_key: string;
  user_id: string | null;
  wa_id: string | null;
  profile_name: string | null;
  first_seen_at: Date;
  welcomed_at: Date | null;
}

function toContact(row: ContactRow): Contact {
  return {
    id: row.id,
    phoneNumberId: row.phone_number_id,
    identityKey: row.identity_key,
    userId: row.user_id,
    waId: row.wa_id,
    profileName: row.profile_name,
    firstSeenAt: row.first_seen_at,
    welcomedAt: row.welcomed_at,
  };
}

/**
 * The contact's upsert as common table expressions that lead one statement and end in
 * `contact (id, is_new)`: the contact found by identity key, BSUID or wa_id (one first seen
 * by phone may later arrive with a BSUID; the oldest wins), with what it learnt filled in,
 * or inserted. One statement, not a transaction of three: a webhook's acknowledgement waits
 * for every round trip to PostgreSQL, and on a busy machine each one waits for the
 * scheduler (README "Benchmarks"). Data-modifying CTEs run once whether or not the
 * statement reads them, all on one snapshot.
 */
export function contactUpsertCtes(phoneNumberId: string, contact: ContactIdentity): { sql: string; bindings: (string | null)[] } {
  const profileName = contact.profileName === null ? null : storableText(contact.profileName);
  // What an identity adds to a known contact: only what it has (an empty value is none).
  const userId = contact.userId || null;
  const waId = contact.waId || null;
  const learntName = profileName || null;
  const sql = `existing AS (
      SELECT id, user_id, wa_id, profile_name,
        COALESCE(user_id, CAST(? AS text)) AS learnt_user_id, COALESCE(CAST(? AS text), wa_id) AS learnt_wa_id,
        COALESCE(CAST(? AS text), profile_name) AS learnt_profile_name
      FROM contacts
      WHERE phone_number_id = CAST(? AS text)
        AND (identity_key = CAST(? AS text) OR user_id = CAST(? AS text) OR wa_id = CAST(? AS text))
      ORDER BY first_seen_at LIMIT 1
    ),
    patched AS (
      UPDATE contacts c
      SET user_id = e.learnt_user_id, wa_id = e.learnt_wa_id, profile_name = e.learnt_profile_name
      FROM existing e
      WHERE c.id = e.id
        AND (e.user_id, e.wa_id, e.profile_name) IS DISTINCT FROM (e.learnt_user_id, e.learnt_wa_id, e.learnt_profile_name)
      RETURNING c.id
    ),
    inserted AS (
      INSERT INTO contacts (phone_number_id, identity_key, user_id, wa_id, profile_name)
      SELECT CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS text)
      WHERE NOT EXISTS (SELECT 1 FROM existing)
      ON CONFLICT (phone_number_id, identity_key) DO UPDATE SET profile_name = COALESCE(EXCLUDED.profile_name, contacts.profile_name)
      RETURNING id, (xmax = 0) AS is_new
    ),
    contact AS (
      SELECT id, false AS is_new FROM existing
      UNION ALL
      SELECT id, is_new FROM inserted
    )`;
  const bindings = [
    ...[userId, waId, learntName],
    ...[phoneNumberId, contact.key, userId, waId],
    ...[phoneNumberId, contact.key, contact.userId, contact.waId, profileName],
  ];
  return { sql, bindings };
}

/** The upsert on its own (the inbound message's store runs the same CTEs with its insert). */
export async function upsertContact(q: Queryable, phoneNumberId: string, contact: ContactIdentity): Promise<{ id: string; isNew: boolean }> {
  const { sql, bindings } = contactUpsertCtes(phoneNumberId, contact);
  const result = await q.raw(`WITH ${sql} SELECT id, is_new FROM contact`, bindings);
  return { id: result.rows[0].id, isNew: result.rows[0].is_new };
}

/** R1: marks the contact welcomed, inside the caller's transaction; false if it already was. */
export async function claimWelcome(q: Queryable, contactId: string): Promise<boolean> {
  const claimed = await q('contacts').where({ id: contactId }).whereNull('welcomed_at').update({ welcomed_at: q.fn.now() });
  return claimed > 0;
}

export function createContactStore(db: Database): ContactStore {
  return {
    async get(id) {
      const row = await db<ContactRow>('contacts').where({ id }).first();
      return row ? toContact(row) : null;
    },

    async upsert(phoneNumberId, identity) {
      return upsertContact(db, phoneNumberId, identity);
    },
  };
}
