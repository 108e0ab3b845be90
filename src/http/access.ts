/**
 * Who may do what (SPEC §6.1), in ONE table. Every /api route has a row; the `authorize`
 * middleware finds the request's row and applies it before any router runs, so a router
 * never checks a principal itself. A route without a row is refused (500 in the app, a
 * failing test in test/e2e/authorization.test.ts), never silently open.
 *
 * Principals: anonymous; `admin` (an admin user or an admin key: everything); `agent` (an
 * agent user, acting as their own agent record); `bot` (a bot key, optionally limited to
 * some numbers). A row lists the rules each non-admin principal must pass, or `false`.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Conversation, Store } from '../store';
import type { Principal } from '../accounts/accounts';
import { HttpError } from './errors';

export type AgentRule =
  /** Path `:agentId` is the agent's own. */
  | 'self'
  /** Path `:phoneNumberId` is a number the agent serves. */
  | 'serves-number'
  /** Path `:id` is a conversation on a number the agent serves. */
  | 'serves-conversation'
  /** Path `:id` is a conversation assigned to the agent. */
  | 'assigned-to-self'
  /** Path `:id` is a contact of a number the agent serves. */
  | 'serves-contact'
  /** `agentId` in the body must be their own; omitted: their own is filled in. */
  | 'own-agent-id-in-body'
  /** `agentId` in the query must be their own; omitted: only their own are read. */
  | 'own-agent-id-in-query'
  /** Lists are narrowed to the numbers the agent serves. */
  | 'scope-to-served-numbers';

export type BotRule =
  /** Path `:id` is a conversation on one of the key's numbers. */
  | 'on-key-number'
  /** …and in status `bot`. */
  | 'in-bot-status'
  /** Lists are narrowed to bot conversations of the key's numbers. */
  | 'scope-to-bot-conversations';

export interface AccessRow {
  /** No principal needed. */
  public?: true;
  /** Agent users: the rules they must pass, or false. */
  agent: AgentRule[] | false;
  /** Bot keys: the rules they must pass, or false. */
  bot: BotRule[] | false;
}

const ADMIN_ONLY: AccessRow = { agent: false, bot: false };

/** The matrix. Keys are `METHOD path` as the routers register them under /api. */
export const ACCESS_MATRIX: Record<string, AccessRow> = {
  'POST /session': { public: true, agent: [], bot: [] },
  'GET /session': { agent: [], bot: [] },
  'DELETE /session': { agent: [], bot: [] },

  'GET /users': ADMIN_ONLY,
  'PUT /users/:login': ADMIN_ONLY,
  'POST /api-keys': ADMIN_ONLY,
  'GET /api-keys': ADMIN_ONLY,
  'DELETE /api-keys/:id': ADMIN_ONLY,

  'GET /numbers/:phoneNumberId/automation': ADMIN_ONLY,
  'PUT /numbers/:phoneNumberId/automation': ADMIN_ONLY,
  'GET /numbers/:phoneNumberId/queue': { agent: ['serves-number'], bot: false },

  'PUT /agents/:agentId': ADMIN_ONLY,
  'PUT /agents/:agentId/status': { agent: ['self'], bot: false },
  'GET /agents': ADMIN_ONLY,
  'GET /agents/:agentId': { agent: ['self'], bot: false },

  'GET /conversations': { agent: ['scope-to-served-numbers'], bot: ['scope-to-bot-conversations'] },
  'GET /conversations/:id': { agent: ['serves-conversation'], bot: ['on-key-number', 'in-bot-status'] },
  'POST /conversations/:id/claim': { agent: ['serves-conversation', 'own-agent-id-in-body'], bot: false },
  'POST /conversations/:id/assign': ADMIN_ONLY,
  'POST /conversations/:id/messages': { agent: ['assigned-to-self', 'own-agent-id-in-body'], bot: false },
  'POST /conversations/:id/close': { agent: ['assigned-to-self', 'own-agent-id-in-body'], bot: false },
  'POST /conversations/:id/bot/messages': { agent: false, bot: ['on-key-number'] },
  'POST /conversations/:id/bot/handover': { agent: false, bot: ['on-key-number'] },
  'POST /conversations/:id/bot/complete': { agent: false, bot: ['on-key-number'] },

  'GET /contacts/:id': { agent: ['serves-contact'], bot: false },
  'GET /csat': { agent: ['own-agent-id-in-query'], bot: false },
  'GET /events/stream': { agent: ['scope-to-served-numbers'], bot: ['scope-to-bot-conversations'] },
  'GET /openapi.json': { public: true, agent: [], bot: [] },

  'PUT /webhooks/:webhookId': ADMIN_ONLY,
  'GET /webhooks': ADMIN_ONLY,
  'GET /webhooks/:webhookId': ADMIN_ONLY,
  'DELETE /webhooks/:webhookId': ADMIN_ONLY,
  'GET /webhooks/:webhookId/deliveries': ADMIN_ONLY,
};

/** What a list or stream may show the principal; routers apply it to their queries. */
export interface Scope {
  /** null: every number. */
  phoneNumberIds: string[] | null;
  /** Only conversations in this status (bot keys). */
  status?: 'bot';
  /** Only this agent's records (an agent's CSAT). */
  agentId?: string;
}

const EVERYTHING: Scope = { phoneNumberIds: null };

interface CompiledRow {
  method: string;
  segments: string[];
  row: AccessRow;
  key: string;
}

const compiled: CompiledRow[] = Object.entries(ACCESS_MATRIX).map(([key, row]) => {
  const [method, path] = key.split(' ');
  return { method, segments: path.split('/').filter(Boolean), row, key };
});

/** The row for a request path under /api, and its path parameters. */
export function findAccessRow(method: string, path: string): { key: string; row: AccessRow; params: Record<string, string> } | null {
  const parts = path.split('/').filter(Boolean);
  for (const candidate of compiled) {
    if (candidate.method !== method || candidate.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const matches = candidate.segments.every((segment, i) => {
      if (segment.startsWith(':')) {
        try {
          params[segment.slice(1)] = decodeURIComponent(parts[i]);
        } catch {
          return false;
        }
        return true;
      }
      return segment === parts[i];
    });
    if (matches) return { key: candidate.key, row: candidate.row, params };
  }
  return null;
}

export function principalOf(res: Response): Principal | null {
  return (res.locals.principal as Principal | undefined) ?? null;
}

export function scopeOf(res: Response): Scope {
  return (res.locals.scope as Scope | undefined) ?? EVERYTHING;
}

export function isAdmin(principal: Principal): boolean {
  return principal.kind === 'user' ? principal.user.role === 'admin' : principal.role === 'admin';
}

/** Whether the principal may see a change on this number and conversation (the event stream). */
export function scopeAllows(scope: Scope, event: { phoneNumberId: string | null; conversationStatus?: string | null }): boolean {
  if (scope.phoneNumberIds && (!event.phoneNumberId || !scope.phoneNumberIds.includes(event.phoneNumberId))) return false;
  if (scope.status && event.conversationStatus !== scope.status) return false;
  return true;
}

/** Before the body is read: a stranger gets 401 on every route that is not public. */
export function requireAuthentication(): RequestHandler {
  return (req, res, next) => {
    if (principalOf(res)) return next();
    const found = findAccessRow(req.method === 'HEAD' ? 'GET' : req.method, req.path);
    if (found?.row.public) return next();
    next(unauthenticated());
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const forbidden = (message: string) => new HttpError(403, 'forbidden', message);

/**
 * Applies the matrix. Runs after authentication (res.locals.principal) and body parsing.
 * Rules that need a resource (a conversation, a contact) load it once; a resource that
 * does not exist is left to the router's 404, an invalid id to its 400.
 */
export function authorize(store: Store): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    apply(store, req, res).then(() => next(), next);
  };
}

async function apply(store: Store, req: Request, res: Response): Promise<void> {
  const found = findAccessRow(req.method === 'HEAD' ? 'GET' : req.method, req.path);
  const principal = principalOf(res);
  if (!found) {
    // Unknown routes: 401 for strangers, the router's 404 for everyone else.
    if (!principal) throw unauthenticated();
    return;
  }
  const { row, params } = found;
  if (row.public) return;
  if (!principal) throw unauthenticated();
  if (isAdmin(principal)) return;

  let conversation: Conversation | null | undefined;
  const conversationOf = async () => {
    if (conversation === undefined) conversation = UUID.test(params.id ?? '') ? await store.conversations.get(params.id) : null;
    return conversation;
  };

  if (principal.kind === 'user') {
    const rules = row.agent;
    if (!rules) throw forbidden('agents may not do this');
    const agentId = principal.user.agentId ?? principal.user.login;
    const agent = await store.agents.getWithLoad(agentId);
    const served: string[] | null = agent ? agent.phoneNumberIds : [];
    const serves = (phoneNumberId: string) => served === null || served.includes(phoneNumberId);
    for (const rule of rules) {
      switch (rule) {
        case 'self':
          if (params.agentId !== agentId) throw forbidden('an agent may act only as themself');
          break;
        case 'serves-number':
          if (!serves(params.phoneNumberId)) throw forbidden('you do not serve this number');
          break;
        case 'serves-conversation': {
          const c = await conversationOf();
          if (c && !serves(c.phoneNumberId)) throw forbidden('you do not serve the number of this conversation');
          break;
        }
        case 'assigned-to-self': {
          const c = await conversationOf();
          if (c && c.agentId !== agentId) throw forbidden('this conversation is not assigned to you');
          break;
        }
        case 'serves-contact': {
          const contact = UUID.test(params.id ?? '') ? await store.contacts.get(params.id) : null;
          if (contact && !serves(contact.phoneNumberId)) throw forbidden('you do not serve the number of this contact');
          break;
        }
        case 'own-agent-id-in-body': {
          const body = (req.body ?? {}) as Record<string, unknown>;
          if (typeof body !== 'object' || Array.isArray(body)) break;
          if (body.agentId !== undefined && body.agentId !== agentId) throw forbidden('agentId must be your own');
          req.body = { ...body, agentId };
          break;
        }
        case 'own-agent-id-in-query': {
          const asked = req.query.agentId;
          if (asked !== undefined && asked !== agentId) throw forbidden('you may read only your own records');
          res.locals.scope = { ...scopeOf(res), agentId } satisfies Scope;
          break;
        }
        case 'scope-to-served-numbers':
          res.locals.scope = { ...scopeOf(res), phoneNumberIds: served } satisfies Scope;
          break;
      }
    }
    return;
  }

  const rules = row.bot;
  if (!rules) throw forbidden('bot keys may use only the /bot endpoints and read bot conversations');
  const onKeyNumber = (phoneNumberId: string) => principal.phoneNumberIds === null || principal.phoneNumberIds.includes(phoneNumberId);
  for (const rule of rules) {
    switch (rule) {
      case 'on-key-number': {
        const c = await conversationOf();
        if (c && !onKeyNumber(c.phoneNumberId)) throw forbidden('this key is not for the number of this conversation');
        break;
      }
      case 'in-bot-status': {
        const c = await conversationOf();
        if (c && c.status !== 'bot') throw forbidden('a bot key reads only conversations in status bot');
        break;
      }
      case 'scope-to-bot-conversations':
        res.locals.scope = { phoneNumberIds: principal.phoneNumberIds, status: 'bot' } satisfies Scope;
        break;
    }
  }
}

function unauthenticated(): HttpError {
  return new HttpError(401, 'unauthorized', 'sign in (POST /api/session) or send an API key: Authorization: Bearer <key>');
}
