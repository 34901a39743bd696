/** The route table on express: one router, each route's handlers at its method and path. */
import { type Request, type RequestHandler, Router } from 'express';
import { principalOf } from '../security/principal';
import type { JsonHandler, JsonRequest, Route, RouteDeps } from './route';

export function routeRouter(routes: readonly Route[], deps: RouteDeps): Router {
  const router = Router();
  for (const route of routes) {
    const handlers =
      'json' in route.handler ? [onExpress(route.handler.json(deps))] : route.handler.express(deps);
    if (route.subtree) router.use(route.path, ...handlers);
    else router[lower(route.method)](route.path, ...handlers);
  }
  return router;
}

/** A JSON handler as express middleware. */
function onExpress(handler: JsonHandler): RequestHandler {
  return (req, res, next) => {
    handler(jsonRequest(req, res)).then(({ status, body }) => {
      res.status(status).json(body);
    }, next);
  };
}

function jsonRequest(req: Request, res: Parameters<RequestHandler>[1]): JsonRequest {
  return {
    params: req.params as Record<string, string>,
    query: req.query,
    body: req.body as unknown,
    header: (name) => req.get(name),
    principal: principalOf(res),
  };
}

const lower = (method: Route['method']) =>
  method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
