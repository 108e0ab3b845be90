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

/** The upsert inside a caller's transaction (the inbound message is stored in the same one). */
export async function upsertContact(q: Queryable, phoneNumberId: string, contact: ContactIdentity): Promise<{ id: string; isNew: boolean }> {
  const existing = await q<ContactRow>('contacts')
    .where({ phone_number_id: phoneNumberId })
    .andWhere((w) => {
      w.where({ identity_key: contact.key });
      if (contact.userId) w.orWhere({ user_id: contact.userId });
      if (contact.waId) w.orWhere({ wa_id: contact.waId });
    })
    .orderBy('first_seen_at')
    .first('id', 'user_id', 'wa_id', 'profile_name');
  const profileName = contact.profileName === null ? null : storableText(contact.profileName);
  if (existing) {
    const patch: Partial<ContactRow> = {};
    if (contact.userId && !existing.user_id) patch.user_id = contact.userId;
    if (contact.waId && existing.wa_id !== contact.waId) patch.wa_id = contact.waId;
    if (profileName && existing.profile_name !== profileName) patch.profile_name = profileName;
    if (Object.keys(patch).length) await q('contacts').where({ id: existing.id }).update(patch);
    return { id: existing.id, isNew: false };
  }
  const inserted = await q.raw(
    `INSERT INTO contacts (phone_number_id, identity_key, user_id, wa_id, profile_name)
     VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (phone_number_id, identity_key) DO UPDATE SET profile_name = COALESCE(EXCLUDED.profile_name, contacts.profile_name)
     RETURNING id, (xmax = 0) AS inserted`,
    [phoneNumberId, contact.key, contact.userId, contact.waId, profileName],
  );
  return { id: inserted.rows[0].id, isNew: inserted.rows[0].inserted };
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
