/**
 * The route table is the one list of routes: every route is documented in the OpenAPI document
 * and named by the access policy, and the access policy, GET /'s `endpoints` and the document's
 * paths are exactly what the table derives, with nothing added or left out by hand.
 */
import { Router } from 'express';
import { openApiPath } from '../src/http/route';
import { buildOpenApi } from '../src/openapi';
import { ENDPOINTS, ROUTES } from '../src/routes/route-table';
import { ACCESS_POLICY } from '../src/security/access-policy';

type Operation = { operationId: string; summary: string; 'x-access': string };
const paths = buildOpenApi(ROUTES).paths as Record<string, Record<string, Operation>>;

const routeName = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

/** The access of the first policy rule express would match for this method and path. */
function accessFor(method: string, path: string): string | undefined {
  let found: string | undefined;
  const router = Router();
  for (const rule of ACCESS_POLICY) {
    router[rule.method.toLowerCase() as 'get'](rule.path, (_req, _res, next) => {
      found ??= rule.access;
      next();
    });
  }
  router({ method, url: path } as never, {} as never, () => undefined);
  return found;
}

describe('the route table', () => {
  it('has one entry per method and path, each with its own operationId', () => {
    const names = ROUTES.map(routeName);
    expect(new Set(names).size).toBe(names.length);
    const ids = ROUTES.map((r) => r.operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(ROUTES.map((r) => [routeName(r), r] as const))(
    '%s is documented in the OpenAPI document, with its access',
    (_name, route) => {
      const operation = paths[openApiPath(route.path)]?.[route.method.toLowerCase()];
      expect(operation).toMatchObject({
        operationId: route.operation.operationId,
        summary: expect.any(String) as unknown,
        'x-access': route.access,
      });
    },
  );

  it.each(ROUTES.map((r) => [routeName(r), r] as const))(
    '%s is access-controlled by its own rule',
    (_name, route) => {
      const concrete = route.path.replace(/:\w+/g, 'x1');
      expect(accessFor(route.method, concrete)).toBe(route.access);
      if (route.subtree) expect(accessFor(route.method, `${route.path}/a/b.js`)).toBe(route.access);
    },
  );

  it('derives the access policy: one rule per route, in table order', () => {
    expect(ACCESS_POLICY.map((rule) => `${rule.method} ${rule.path}`)).toEqual(
      ROUTES.map((r) => `${r.method} ${r.subtree ? `${r.path}{/*rest}` : r.path}`),
    );
  });

  it('derives the OpenAPI paths: exactly the table’s, nothing else', () => {
    const documented = Object.entries(paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(
      ROUTES.map((r) => `${r.method} ${openApiPath(r.path)}`).sort(),
    );
  });

  it('derives GET /’s endpoints: every route but the discovery route itself', () => {
    expect(ENDPOINTS).toEqual(
      Object.fromEntries(
        ROUTES.filter((r) => r.path !== '/').map((r) => [
          r.operation.operationId,
          `${r.method} ${openApiPath(r.path)}`,
        ]),
      ),
    );
  });

  it('serves only JSON routes on the fast path', () => {
    const fast = ROUTES.filter((r) => r.fast);
    expect(fast.map(routeName)).toEqual(
      expect.arrayContaining(['POST /tasks/email', 'GET /tasks/:task_id']),
    );
    for (const route of fast) expect('json' in route.handler).toBe(true);
  });
});
