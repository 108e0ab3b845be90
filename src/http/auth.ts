import type { Request, RequestHandler, Response } from 'express';
import type { Store } from '../store';
import { type Principal, principalOfKey, principalOfSession } from '../accounts/accounts';
import { sendError } from './errors';

export const SESSION_COOKIE = 'inbox_session';

export interface AuthOptions {
  store: Store;
  /** The keys of API_KEYS: admin keys. */
  apiKeys: string[];
  /** PUBLIC_URL: its origin is the one state-changing cookie requests must come from. */
  publicUrl?: string;
}

function cookie(req: Request, name: string): string | null {
  for (const part of (req.header('cookie') ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return null;
}

/**
 * Who the request is (SPEC §6.1): a bearer key (API_KEYS or a stored key), or a session
 * cookie. A bearer that matches nothing is a 401 (not a fallback to the cookie). The
 * principal goes to res.locals.principal; the access matrix (access.ts) decides the rest.
 */
export function authenticate(options: AuthOptions): RequestHandler {
  return (req, res, next) => {
    identify(options, req)
      .then((outcome) => {
        if (outcome === 'bad_key') return sendError(res, 401, 'unauthorized', 'the API key is not valid: Authorization: Bearer <key>');
        if (outcome) {
          res.locals.principal = outcome;
          if (outcome.via === 'session' && !sameOrigin(req, options.publicUrl)) {
            return sendError(res, 403, 'cross_origin', 'a state-changing request signed in by cookie must come from the same origin');
          }
        } else if (isStateChanging(req) && req.header('origin') && !sameOrigin(req, options.publicUrl)) {
          // Sign-in from another site (login CSRF) is refused too.
          return sendError(res, 403, 'cross_origin', 'requests signed in by cookie must come from the same origin');
        }
        next();
      })
      .catch(next);
  };
}

async function identify(options: AuthOptions, req: Request): Promise<Principal | 'bad_key' | null> {
  const authorization = req.header('authorization');
  if (authorization !== undefined) {
    const match = /^Bearer\s+(.+)$/i.exec(authorization);
    const given = match?.[1].trim() ?? '';
    if (!given) return 'bad_key';
    return (await principalOfKey(options.store, options.apiKeys, given)) ?? 'bad_key';
  }
  const token = cookie(req, SESSION_COOKIE);
  if (!token) return null;
  return principalOfSession(options.store, token);
}

function isStateChanging(req: Request): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(req.method);
}

/** Reads are always fine; a write must say it comes from this origin (Sec-Fetch-Site or Origin). */
function sameOrigin(req: Request, publicUrl: string | undefined): boolean {
  if (!isStateChanging(req)) return true;
  const site = req.header('sec-fetch-site');
  if (site) return site === 'same-origin' || site === 'none';
  const origin = req.header('origin');
  if (!origin) return false;
  const allowed = new Set([`${req.protocol}://${req.get('host')}`]);
  if (publicUrl) allowed.add(new URL(publicUrl).origin);
  return allowed.has(origin);
}

export function setSessionCookie(res: Response, token: string, expiresAt: Date, publicUrl: string | undefined): void {
  res.cookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: publicUrl?.startsWith('https:') ?? false,
    path: '/',
    expires: expiresAt,
  });
}

export function clearSessionCookie(res: Response, publicUrl: string | undefined): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: publicUrl?.startsWith('https:') ?? false, path: '/' });
}
