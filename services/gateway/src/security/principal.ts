/** The principal a request acts for, set by the access guard, and the ownership rule. */
import type { ServerResponse } from 'node:http';
import { LOCAL_PRINCIPAL, type Principal } from './api-keys';

/**
 * Keyed by the response object, so express routes and the plain node:http routes
 * (fast-task-routes.ts) share one guard: express's `res` is node's, with more methods.
 */
const PRINCIPALS = new WeakMap<ServerResponse, Principal>();

export function setPrincipal(res: ServerResponse, principal: Principal): void {
  PRINCIPALS.set(res, principal);
}

/** The request's principal; the local one when no guard ran (apps built without auth). */
export function principalOf(res: ServerResponse): Principal {
  return PRINCIPALS.get(res) ?? LOCAL_PRINCIPAL;
}

/** The owner to record on what this principal creates (none in the keyless mode). */
export const ownerOf = (principal: Principal): string | undefined => principal.id ?? undefined;

/**
 * Whether a principal may see a task owned by `owner`. Keyless mode and `admin` see everything;
 * a key sees only what it created (a task without owner, e.g. a schedule's, is admin's).
 * Everything else answers 404, exactly like a task that does not exist.
 */
export function maySee(principal: Principal, owner: string | null | undefined): boolean {
  if (principal.unrestricted || principal.scopes.has('admin')) return true;
  return principal.id !== null && owner === principal.id;
}
