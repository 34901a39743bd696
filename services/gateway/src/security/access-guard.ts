/**
 * Authentication, authorisation and the per-key rate limit, in front of every route, driven by
 * ACCESS_POLICY. Keys come as `Authorization: Bearer <key>` or `X-API-Key: <key>`. With no keys
 * configured every request acts as the local principal (the original's behaviour; the gateway
 * then listens on loopback only, see bind-rule.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { Router } from 'express';
import { HttpError } from '../http-error';
import { ANONYMOUS, type ApiKeys, LOCAL_PRINCIPAL, type Principal } from './api-keys';
import { type Access, ACCESS_POLICY, type AccessRule, DEFAULT_ACCESS } from './access-policy';
import { setPrincipal } from './principal';
import type { RateLimiter } from './rate-limiter';

export interface AccessGuardOptions {
  readonly keys: ApiKeys;
  /** Counts requests per key (and per client address in the keyless mode, when configured). */
  readonly limiter?: RateLimiter;
  /** Also limit the keyless local mode, per client address. */
  readonly limitLocal?: boolean;
}

const UNAUTHENTICATED = { 'WWW-Authenticate': 'Bearer' };

export function accessGuard(options: AccessGuardOptions): Router {
  const decided = new WeakSet<Request>();
  const decide =
    (access: Access): RequestHandler =>
    (req, res, next) => {
      if (decided.has(req)) {
        next();
        return;
      }
      decided.add(req);
      admit(options, access, req).then((principal) => {
        setPrincipal(res, principal);
        next();
      }, next);
    };
  const router = Router();
  for (const rule of ACCESS_POLICY) router[lower(rule.method)](rule.path, decide(rule.access));
  router.use(decide(DEFAULT_ACCESS));
  return router;
}

/**
 * The principal `req` acts for on a route that needs `access`, once its key, scope and rate
 * limit passed. Plain node:http, so the express guard and the fast path share it.
 *
 * @throws HttpError 401 (no or an unknown key), 403 (scope), 429 (rate limit)
 */
export async function admit(
  options: AccessGuardOptions,
  access: Access,
  req: IncomingMessage,
): Promise<Principal> {
  const keysOn = options.keys.size > 0;
  if (access === 'public') return keysOn ? ANONYMOUS : LOCAL_PRINCIPAL;
  const principal = keysOn ? authenticate(options.keys, req) : LOCAL_PRINCIPAL;
  if (access !== 'authenticated' && !hasScope(principal, access)) {
    throw new HttpError(403, `This API key lacks the scope ${access}`);
  }
  if (!options.limiter) return principal;
  // express's req.ip without 'trust proxy' (never set here) is the socket's address.
  const address = req.socket.remoteAddress ?? 'unknown';
  const bucket = principal.id ?? (options.limitLocal ? `addr:${address}` : undefined);
  if (bucket === undefined) return principal;
  const verdict = await options.limiter.take(bucket);
  if (!verdict.allowed) {
    throw new HttpError(429, 'Too many requests: rate limit exceeded', {
      'Retry-After': String(verdict.retryAfterS),
    });
  }
  return principal;
}

function authenticate(keys: ApiKeys, req: IncomingMessage): Principal {
  const presented = presentedKey(req);
  if (presented === undefined) throw new HttpError(401, 'Not authenticated', UNAUTHENTICATED);
  const principal = keys.verify(presented);
  if (!principal) throw new HttpError(401, 'Invalid API key', UNAUTHENTICATED);
  return principal;
}

function presentedKey(req: IncomingMessage): string | undefined {
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    return match?.[1];
  }
  // Repeated headers arrive joined with ", ", as express's req.get gives them.
  const header = joined(req.headers['x-api-key']);
  return header === undefined || header.trim() === '' ? undefined : header.trim();
}

const joined = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value.join(', ') : value;

const hasScope = (principal: Principal, scope: Access): boolean =>
  principal.scopes.has('admin') || principal.scopes.has(scope as never);

const lower = (method: AccessRule['method']) =>
  method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
