/**
 * Every route of the gateway, in the order express tries them. The express router
 * (http/express-routes.ts), the access policy (security/access-policy.ts), the OpenAPI document
 * (openapi.ts), GET /'s `endpoints` and the node:http fast path (http/fast-routes.ts) are all
 * derived from this table: a new route is added here, with its access and its documentation.
 */
import type { Route } from '../http/route';
import { DEAD_LETTER_ROUTES } from './dead-letters';
import { documentRoutes, endpointsOf, rootRoute } from './discovery';
import { REPORT_ROUTES } from './reports';
import { SCHEDULE_ROUTES } from './schedules';
import { SYSTEM_ROUTES } from './system';
import { TASK_ROUTES } from './tasks';
import { WORKER_ROUTES } from './workers';
import { WORKFLOW_ROUTES } from './workflows';

export const ROUTES: readonly Route[] = [
  rootRoute(() => ROUTES),
  ...TASK_ROUTES,
  ...SYSTEM_ROUTES,
  ...REPORT_ROUTES,
  ...DEAD_LETTER_ROUTES,
  ...SCHEDULE_ROUTES,
  ...WORKFLOW_ROUTES,
  ...WORKER_ROUTES,
  ...documentRoutes(() => ROUTES),
];

/** GET /'s `endpoints`. */
export const ENDPOINTS: Readonly<Record<string, string>> = endpointsOf(ROUTES);
