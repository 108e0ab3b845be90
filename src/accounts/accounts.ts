/**
 * The use cases of people and access (SPEC §6.1), shared by the HTTP API and
 * `npm run users`: creating users and resetting passwords, signing in (with throttling),
 * the first admin, API keys, and who a request is.
 */
import type { Actor, ApiKeyRecord, Store, User } from '../store';
import type { ApiKeyRole, UserRole } from '../../workflows/rules/vocabulary';
import { constantTimeEquals } from '../whatsapp/signature';
import { decoyHash, generatePassword, hashPassword, MIN_PASSWORD_LENGTH, randomToken, sha256, verifyPassword } from './passwords';

/** Who is asking. `via` tells how they proved it (a cookie needs the same-origin check). */
export type Principal =
  | { kind: 'user'; via: 'session'; user: User; sessionHash: string }
  | { kind: 'key'; via: 'bearer'; role: ApiKeyRole; id: string | null; name: string; phoneNumberIds: string[] | null };

export const SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
export const LOGIN_FAILURE_LIMIT = 5;
export const LOGIN_FAILURE_WINDOW_MS = 15 * 60 * 1000;

export class AccountError extends Error {
  constructor(
    readonly reason: 'invalid' | 'not_found',
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new AccountError('invalid', `must be at least ${MIN_PASSWORD_LENGTH} characters`, 'password');
}

export interface SaveUserInput {
  login: string;
  role: UserRole;
  name?: string;
  password?: string;
  agentId?: string;
}

/**
 * Creates or updates a user. An agent user names its agent record (default: the login),
 * created offline with a reception limit of 1 if it does not exist yet.
 */
export async function saveUser(store: Store, input: SaveUserInput): Promise<{ user: User; created: boolean }> {
  const existing = await store.people.getUser(input.login);
  if (!existing && input.password === undefined) throw new AccountError('invalid', 'a new user needs a password', 'password');
  if (input.password !== undefined) checkPassword(input.password);
  const agentId = input.role === 'agent' ? (input.agentId ?? existing?.agentId ?? input.login) : null;
  const name = input.name ?? existing?.name ?? input.login;
  if (agentId && !(await store.agents.exists(agentId))) {
    await store.agents.upsert({ id: agentId, name, receptionLimit: 1, status: 'offline', phoneNumberIds: null });
  }
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
  const { created } = await store.people.upsertUser({ login: input.login, name, role: input.role, agentId, passwordHash });
  if (passwordHash !== null && !created) await store.people.deleteSessionsOf(input.login);
  return { user: (await store.people.getUser(input.login))!, created };
}

/** Sets a new password (generated when none is given) and signs the user out everywhere. */
export async function resetPassword(store: Store, login: string, password?: string): Promise<{ password: string; generated: boolean }> {
  const next = password ?? generatePassword();
  checkPassword(next);
  if (!(await store.people.setPassword(login, await hashPassword(next)))) throw new AccountError('not_found', `user ${login} does not exist`);
  await store.people.deleteSessionsOf(login);
  return { password: next, generated: password === undefined };
}

/** First start: when no user exists, the admin `admin` with the given password. */
export async function ensureFirstAdmin(store: Store, password: string): Promise<boolean> {
  if ((await store.people.countUsers()) > 0) return false;
  return store.people.createFirstUser({ login: 'admin', name: 'Administrator', role: 'admin', passwordHash: await hashPassword(password) });
}

export type SignInResult =
  { outcome: 'signed_in'; user: User; token: string; expiresAt: Date } | { outcome: 'invalid' } | { outcome: 'throttled'; retryAfterSeconds: number };

/**
 * 5 failures for one login within 15 minutes: refused until the oldest leaves the window
 * (counted in PostgreSQL, so every replica agrees). Unknown logins cost the same time.
 */
export async function signIn(store: Store, login: string, password: string): Promise<SignInResult> {
  const failures = await store.people.recentLoginFailures(login, LOGIN_FAILURE_WINDOW_MS);
  if (failures.count >= LOGIN_FAILURE_LIMIT && failures.oldestAt) {
    const retryAfterMs = failures.oldestAt.getTime() + LOGIN_FAILURE_WINDOW_MS - Date.now();
    return { outcome: 'throttled', retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
  }
  const credentials = await store.people.getCredentials(login);
  const ok = await verifyPassword(password, credentials?.passwordHash ?? (await decoyHash()));
  if (!credentials || !ok) {
    await store.people.recordLoginFailure(login);
    return { outcome: 'invalid' };
  }
  await store.people.clearLoginFailures(login);
  const token = randomToken('ias_');
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  await store.people.createSession({ tokenHash: sha256(token), login, expiresAt });
  return { outcome: 'signed_in', user: credentials.user, token, expiresAt };
}

export async function signOut(store: Store, principal: Principal): Promise<void> {
  if (principal.kind === 'user') await store.people.deleteSession(principal.sessionHash);
}

/** A bearer key: one of API_KEYS (admin) or a stored key. Every configured key is compared. */
export async function principalOfKey(store: Store, configuredKeys: string[], given: string): Promise<Principal | null> {
  const configured = configuredKeys.reduce((found, key) => constantTimeEquals(given, key) || found, false);
  if (configured) return { kind: 'key', via: 'bearer', role: 'admin', id: null, name: 'API_KEYS', phoneNumberIds: null };
  const stored = await store.people.findApiKey(sha256(given));
  return stored ? { kind: 'key', via: 'bearer', role: stored.role, id: stored.id, name: stored.name, phoneNumberIds: stored.phoneNumberIds } : null;
}

export async function principalOfSession(store: Store, token: string): Promise<Principal | null> {
  const sessionHash = sha256(token);
  const user = await store.people.sessionUser(sessionHash);
  return user ? { kind: 'user', via: 'session', user, sessionHash } : null;
}

/** Creates a key; the key itself is in the result only (it is stored hashed). */
export async function createApiKey(
  store: Store,
  input: { name: string; role: ApiKeyRole; phoneNumberIds: string[] | null },
): Promise<{ key: string; record: ApiKeyRecord }> {
  const key = randomToken(input.role === 'bot' ? 'iak_bot_' : 'iak_');
  const record = await store.people.createApiKey({ ...input, keyHash: sha256(key), prefix: key.slice(0, 12) });
  return { key, record };
}

/** The actor recorded in a conversation's timeline for the principal's actions. */
export function actorOf(principal: Principal): Actor {
  if (principal.kind === 'user') return { type: 'user', login: principal.user.login, role: principal.user.role };
  return { type: 'key', id: principal.id, name: principal.name, role: principal.role };
}
