/** The principal a request acts for, set by the access guard, and the ownership rule. */
import type { Response } from 'express';
import { LOCAL_PRINCIPAL, type Principal } from './api-keys';

const PRINCIPAL = Symbol('principal');

type WithPrincipal = Response & { locals: { [PRINCIPAL]?: Principal } };

export function setPrincipal(res: Response, principal: Principal): void {
  (res as WithPrincipal).locals[PRINCIPAL] = principal;
}

/** The request's principal; the local one when no guard ran (apps built without auth). */
export function principalOf(res: Response): Principal {
  return (res as WithPrincipal).locals[PRINCIPAL] ?? LOCAL_PRINCIPAL;
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
