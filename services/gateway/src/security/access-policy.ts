/**
 * Which scope each route needs: the one place to read (and extend) the gateway's access rules.
 * Rules are tried in order; the first whose method and path match decides. A route no rule names
 * needs a valid key of any scope (so a new route is never open by accident): add its rule here.
 * `admin` holds every scope.
 */
import type { Scope } from './api-keys';

export type Access = Scope | 'public' | 'authenticated';

export interface AccessRule {
  /** An HTTP method, or `*` for every method. */
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | '*';
  /** An express path pattern. */
  readonly path: string;
  readonly access: Access;
}

export const ACCESS_POLICY: readonly AccessRule[] = [
  // Discovery and probes: no data of anyone's. /metrics holds counters only (restrict it at the
  // network level if even those matter); kubelet probes and Prometheus send no key.
  { method: 'GET', path: '/', access: 'public' },
  { method: 'GET', path: '/livez', access: 'public' },
  { method: 'GET', path: '/readyz', access: 'public' },
  { method: 'GET', path: '/metrics', access: 'public' },
  { method: 'GET', path: '/openapi.json', access: 'public' },
  { method: 'GET', path: '/docs{/*rest}', access: 'public' },
  // The page and its scripts only; every call it makes carries the operator's key.
  { method: 'GET', path: '/dashboard{/*rest}', access: 'public' },

  { method: 'GET', path: '/tasks/active/list', access: 'admin' },
  { method: 'POST', path: '/tasks/:kind', access: 'tasks:write' },
  { method: 'GET', path: '/tasks/:task_id', access: 'tasks:read' },
  { method: 'GET', path: '/tasks/:task_id/events', access: 'tasks:read' },
  { method: 'DELETE', path: '/tasks/:task_id', access: 'tasks:write' },
  { method: 'GET', path: '/reports/:file', access: 'tasks:read' },
  { method: 'GET', path: '/health', access: 'tasks:read' },
  { method: 'POST', path: '/workflows', access: 'tasks:write' },
  { method: 'GET', path: '/workflows/:workflow_id', access: 'tasks:read' },
  { method: 'DELETE', path: '/workflows/:workflow_id', access: 'tasks:write' },

  { method: 'GET', path: '/queues', access: 'admin' },
  { method: '*', path: '/dead-letters{/*rest}', access: 'admin' },
  { method: '*', path: '/schedules{/*rest}', access: 'admin' },
];

/** What a route no rule names requires. */
export const DEFAULT_ACCESS: Access = 'authenticated';

/**
 * The access of the route with exactly this method and express path pattern (the first rule
 * naming it), for code that serves that route outside express (fast-task-routes.ts).
 */
export function accessOfRoute(
  method: AccessRule['method'],
  path: string,
  policy: readonly AccessRule[] = ACCESS_POLICY,
): Access {
  const rule = policy.find((r) => (r.method === method || r.method === '*') && r.path === path);
  return rule?.access ?? DEFAULT_ACCESS;
}
