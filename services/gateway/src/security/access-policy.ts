/**
 * Which scope each route needs, derived from the route table (routes/route-table.ts, where each
 * route names its access). Rules are tried in order; the first whose method and path match
 * decides. A path no route serves needs a valid key of any scope, so nothing is open by
 * accident. `admin` holds every scope.
 */
import { accessPattern, type Route } from '../http/route';
import { ROUTES } from '../routes/route-table';
import type { Scope } from './api-keys';

export type Access = Scope | 'public' | 'authenticated';

export interface AccessRule {
  readonly method: Route['method'];
  /** An express path pattern. */
  readonly path: string;
  readonly access: Access;
}

/** One rule per route of `routes`, in their order. */
export const accessPolicyOf = (routes: readonly Route[]): AccessRule[] =>
  routes.map((route) => ({
    method: route.method,
    path: accessPattern(route),
    access: route.access,
  }));

export const ACCESS_POLICY: readonly AccessRule[] = accessPolicyOf(ROUTES);

/** What a path no route serves requires. */
export const DEFAULT_ACCESS: Access = 'authenticated';
