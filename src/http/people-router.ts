import { Router } from 'express';
import { z } from 'zod';
import type { ApiKeyRecord, Store, User } from '../store';
import { AccountError, createApiKey, saveUser, signIn, signOut } from '../accounts/accounts';
import { API_KEY_ROLES, USER_ROLES } from '../../workflows/rules/vocabulary';
import { agentIdSchema, phoneNumberIdSchema } from './identifiers';
import { clearSessionCookie, setSessionCookie } from './auth';
import { principalOf } from './access';
import { HttpError } from './errors';
import { parseOrThrow } from './validation';

export const loginSchema = z.string().regex(/^[A-Za-z0-9._@-]{1,128}$/, 'must be 1–128 letters, digits, or . _ @ -');
export const sessionBody = z.strictObject({ login: z.string().max(128), password: z.string().max(1024) });
export const loginParam = z.strictObject({ login: loginSchema });
export const userBody = z.strictObject({
  role: z.enum(USER_ROLES),
  password: z.string().max(1024).optional(),
  name: z.string().trim().min(1).max(200).optional(),
  agentId: agentIdSchema.optional(),
});
export const apiKeyBody = z.strictObject({
  role: z.enum(API_KEY_ROLES),
  name: z.string().trim().min(1, 'is required').max(200),
  phoneNumberIds: z.array(phoneNumberIdSchema).min(1).nullable().optional(),
});
export const apiKeyIdParam = z.strictObject({ id: z.uuid() });

/** The API's User (SPEC §6.1): never the password or its hash. */
export function toUser(u: User) {
  return { login: u.login, name: u.name, role: u.role, agentId: u.agentId, createdAt: u.createdAt, updatedAt: u.updatedAt };
}

export function toApiKey(k: ApiKeyRecord) {
  return { id: k.id, name: k.name, role: k.role, phoneNumberIds: k.phoneNumberIds, prefix: k.prefix, createdAt: k.createdAt };
}

function accountError(error: unknown): never {
  if (error instanceof AccountError) {
    if (error.reason === 'not_found') throw new HttpError(404, 'not_found', error.message);
    throw new HttpError(400, 'invalid_request', 'invalid body', [{ field: error.field ?? '', message: error.message }]);
  }
  throw error;
}

/** Sessions, users and API keys (SPEC §6.1); who may call what is in access.ts. */
export function createPeopleRouter(deps: { store: Store; publicUrl?: string }): Router {
  const router = Router();
  const { store } = deps;

  router.post('/session', async (req, res) => {
    const body = parseOrThrow(sessionBody, req.body ?? {}, 'body');
    const result = await signIn(store, body.login, body.password);
    if (result.outcome === 'throttled') {
      res.setHeader('Retry-After', String(result.retryAfterSeconds));
      throw new HttpError(429, 'throttled', 'too many failed sign-ins for this login; try again later');
    }
    if (result.outcome === 'invalid') throw new HttpError(401, 'unauthorized', 'wrong login or password');
    setSessionCookie(res, result.token, result.expiresAt, deps.publicUrl);
    res.json({ kind: 'user', user: toUser(result.user) });
  });

  router.get('/session', (_req, res) => {
    const principal = principalOf(res)!;
    if (principal.kind === 'user') return void res.json({ kind: 'user', user: toUser(principal.user) });
    res.json({ kind: 'key', key: { id: principal.id, name: principal.name, role: principal.role, phoneNumberIds: principal.phoneNumberIds } });
  });

  router.delete('/session', async (_req, res) => {
    await signOut(store, principalOf(res)!);
    clearSessionCookie(res, deps.publicUrl);
    res.status(204).end();
  });

  router.get('/users', async (_req, res) => {
    res.json({ users: (await store.people.listUsers()).map(toUser) });
  });

  router.put('/users/:login', async (req, res) => {
    const { login } = parseOrThrow(loginParam, req.params, 'path');
    const body = parseOrThrow(userBody, req.body ?? {}, 'body');
    const { user, created } = await saveUser(store, { login, ...body }).catch(accountError);
    res.status(created ? 201 : 200).json(toUser(user));
  });

  router.post('/api-keys', async (req, res) => {
    const body = parseOrThrow(apiKeyBody, req.body ?? {}, 'body');
    if (body.role === 'admin' && body.phoneNumberIds)
      throw new HttpError(400, 'invalid_request', 'invalid body', [{ field: 'phoneNumberIds', message: 'only bot keys are limited to numbers' }]);
    const { key, record } = await createApiKey(store, { name: body.name, role: body.role, phoneNumberIds: body.phoneNumberIds ?? null });
    res.status(201).json({ ...toApiKey(record), key });
  });

  router.get('/api-keys', async (_req, res) => {
    res.json({ apiKeys: (await store.people.listApiKeys()).map(toApiKey) });
  });

  router.delete('/api-keys/:id', async (req, res) => {
    const { id } = parseOrThrow(apiKeyIdParam, req.params, 'path');
    if (!(await store.people.deleteApiKey(id))) throw new HttpError(404, 'not_found', `API key ${id} does not exist`);
    res.status(204).end();
  });

  return router;
}
