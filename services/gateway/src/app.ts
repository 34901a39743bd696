/**
 * The gateway's HTTP application: JSON in and out, FastAPI's error shapes, every route of the
 * route table (routes/route-table.ts). `createApp` is the express app alone; `createGateway`
 * puts the table's fast routes in front of it (http/fast-routes.ts). Built from its
 * dependencies so tests can run it on port 0.
 */
import type { RequestListener } from 'node:http';
import express, { type ErrorRequestHandler } from 'express';
import type { Logger } from '@tasks/runtime';
import { HttpError } from './http-error';
import { errorAnswer } from './http/error-answer';
import { routeRouter } from './http/express-routes';
import { withFastRoutes } from './http/fast-routes';
import { jsonBodyParser } from './http/json-body';
import type { RouteDeps } from './http/route';
import { ROUTES } from './routes/route-table';
import { accessGuard, type AccessGuardOptions } from './security/access-guard';
import type { JsonShapeLimits } from './security/json-depth';
import { apiSecurityHeaders, securityHeaders } from './security/security-headers';

export interface AppDeps extends RouteDeps {
  readonly log: Logger;
  readonly maxBodyBytes: number;
  /** JSON nested deeper or with larger collections is refused before it is parsed. */
  readonly jsonShape?: JsonShapeLimits;
  /** API keys, rate limit, CORS (docs/SECURITY.md); keyless local mode when absent. */
  readonly security?: AccessGuardOptions & { readonly corsOrigins?: readonly string[] };
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(securityHeaders({ corsOrigins: deps.security?.corsOrigins ?? [] }));
  // Before the body is read: a request without a valid key costs no parsing.
  if (deps.security) app.use(accessGuard(deps.security));
  app.use(jsonBodyParser({ limit: deps.maxBodyBytes, shape: deps.jsonShape }));
  app.use(routeRouter(ROUTES, deps));
  app.use((_req, _res, next) => next(new HttpError(404, 'Not Found')));
  app.use(errorHandler(deps.log));
  return app;
}

/** The express app behind the table's fast routes: what the gateway's server runs. */
export function createGateway(deps: AppDeps): RequestListener {
  return withFastRoutes(createApp(deps), ROUTES, {
    ...deps,
    headers: apiSecurityHeaders({ corsOrigins: deps.security?.corsOrigins ?? [] }),
  });
}

function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const answer = errorAnswer(err, log, { method: req.method, path: req.path });
    res.status(answer.status).set(answer.headers).json({ detail: answer.detail });
  };
}
