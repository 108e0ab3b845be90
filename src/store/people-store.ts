/**
 * People and access (SPEC §6.1): `users`, `sessions`, `login_failures` and `api_keys`.
 * Secrets never leave hashed: the store keeps sha256 of session tokens and API keys and the
 * scrypt string of passwords; hashing itself is src/accounts/passwords.ts.
 */
import type { Database } from '../db/knex';
import type { ApiKeyRole, UserRole } from '../../workflows/rules/vocabulary';

export interface User {
  login: string;
  name: string;
  role: UserRole;
  /** The agent record of an agent user (R3); null for admins. */
  agentId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ApiKeyRecord {
  id: string;
  name: string;
  role: ApiKeyRole;
  /** null: every number. */
  phoneNumberIds: string[] | null;
  /** The first characters of the key, to tell keys apart in a list. */
  prefix: string;
  createdAt: Date;
}

export interface PeopleStore {
  countUsers(): Promise<number>;
  getUser(login: string): Promise<User | null>;
  /** The user with their password hash, for signing in. */
  getCredentials(login: string): Promise<{ user: User; passwordHash: string } | null>;
  listUsers(): Promise<User[]>;
  /** Creates or updates; a null passwordHash keeps the current one (an update only). */
  upsertUser(user: {
    login: string;
    name: string;
    role: UserRole;
    agentId: string | null;
    passwordHash: string | null;
  }): Promise<{ created: boolean }>;
  /** Only when no user exists (first start); false if someone else was first. */
  createFirstUser(user: { login: string; name: string; role: UserRole; passwordHash: string }): Promise<boolean>;
  setPassword(login: string, passwordHash: string): Promise<boolean>;

  createSession(input: { tokenHash: string; login: string; expiresAt: Date }): Promise<void>;
  sessionUser(tokenHash: string): Promise<User | null>;
  deleteSession(tokenHash: string): Promise<void>;
  deleteSessionsOf(login: string): Promise<void>;

  /** Failures for the login within the window, and when the oldest of them leaves it. */
  recentLoginFailures(login: string, windowMs: number): Promise<{ count: number; oldestAt: Date | null }>;
  recordLoginFailure(login: string): Promise<void>;
  clearLoginFailures(login: string): Promise<void>;

  createApiKey(input: { name: string; role: ApiKeyRole; phoneNumberIds: string[] | null; keyHash: string; prefix: string }): Promise<ApiKeyRecord>;
  findApiKey(keyHash: string): Promise<ApiKeyRecord | null>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  deleteApiKey(id: string): Promise<boolean>;
}

interface UserRow {
  login: string;
  name: string;
  role: UserRole;
  agent_id: string | null;
  password_hash: string;
  created_at: Date;
  updated_at: Date;
}

interface ApiKeyRow {
  id: string;
  name: string;
  role: ApiKeyRole;
  phone_number_ids: string[] | null;
  key_hash: string;
  key_prefix: string;
  created_at: Date;
}

function toUser(row: UserRow): User {
  return { login: row.login, name: row.name, role: row.role, agentId: row.agent_id, createdAt: row.created_at, updatedAt: row.updated_at };
}

function toApiKey(row: ApiKeyRow): ApiKeyRecord {
  return { id: row.id, name: row.name, role: row.role, phoneNumberIds: row.phone_number_ids, prefix: row.key_prefix, createdAt: row.created_at };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createPeopleStore(db: Database): PeopleStore {
  const users = () => db<UserRow>('users');
  return {
    async countUsers() {
      const [{ count }] = await users().count<{ count: string }[]>('* as count');
      return Number(count);
    },

    async getUser(login) {
      const row = await users().where({ login }).first();
      return row ? toUser(row) : null;
    },

    async getCredentials(login) {
      const row = await users().where({ login }).first();
      return row ? { user: toUser(row), passwordHash: row.password_hash } : null;
    },

    async listUsers() {
      return (await users().orderBy('login')).map(toUser);
    },

    async upsertUser(user) {
      return db.transaction(async (trx) => {
        const existing = await trx<UserRow>('users').where({ login: user.login }).forUpdate().first('login');
        if (existing) {
          await trx('users')
            .where({ login: user.login })
            .update({
              name: user.name,
              role: user.role,
              agent_id: user.agentId,
              ...(user.passwordHash !== null && { password_hash: user.passwordHash }),
              updated_at: trx.fn.now(),
            });
          return { created: false };
        }
        if (user.passwordHash === null) throw new Error('a new user needs a password');
        await trx('users').insert({ login: user.login, name: user.name, role: user.role, agent_id: user.agentId, password_hash: user.passwordHash });
        return { created: true };
      });
    },

    async createFirstUser(user) {
      const result = await db.raw(
        `INSERT INTO users (login, name, role, password_hash)
         SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM users)
         ON CONFLICT (login) DO NOTHING`,
        [user.login, user.name, user.role, user.passwordHash],
      );
      return (result.rowCount ?? 0) > 0;
    },

    async setPassword(login, passwordHash) {
      const updated = await users().where({ login }).update({ password_hash: passwordHash, updated_at: db.fn.now() });
      return updated > 0;
    },

    async createSession({ tokenHash, login, expiresAt }) {
      await db('sessions').insert({ token_hash: tokenHash, login, expires_at: expiresAt });
    },

    async sessionUser(tokenHash) {
      const row = (await db('sessions as s')
        .join('users as u', 'u.login', 's.login')
        .where('s.token_hash', tokenHash)
        .andWhere('s.expires_at', '>', db.fn.now())
        .first('u.*')) as UserRow | undefined;
      return row ? toUser(row) : null;
    },

    async deleteSession(tokenHash) {
      await db('sessions').where({ token_hash: tokenHash }).delete();
    },

    async deleteSessionsOf(login) {
      await db('sessions').where({ login }).delete();
    },

    async recentLoginFailures(login, windowMs) {
      const [row] = await db('login_failures')
        .where({ login })
        .andWhere('failed_at', '>', db.raw(`clock_timestamp() - make_interval(secs => ?)`, [windowMs / 1000]))
        .select(db.raw('count(*) AS count'), db.raw('min(failed_at) AS oldest_at'));
      return { count: Number(row.count), oldestAt: row.oldest_at ?? null };
    },

    async recordLoginFailure(login) {
      await db('login_failures').insert({ login });
    },

    async clearLoginFailures(login) {
      await db('login_failures').where({ login }).delete();
    },

    async createApiKey(input) {
      const [row] = await db<ApiKeyRow>('api_keys')
        .insert({ name: input.name, role: input.role, phone_number_ids: input.phoneNumberIds, key_hash: input.keyHash, key_prefix: input.prefix })
        .returning('*');
      return toApiKey(row as ApiKeyRow);
    },

    async findApiKey(keyHash) {
      const row = await db<ApiKeyRow>('api_keys').where({ key_hash: keyHash }).first();
      return row ? toApiKey(row) : null;
    },

    async listApiKeys() {
      return (await db<ApiKeyRow>('api_keys').orderBy('created_at')).map(toApiKey);
    },

    async deleteApiKey(id) {
      if (!UUID.test(id)) return false;
      return (await db('api_keys').where({ id }).delete()) > 0;
    },
  };
}
