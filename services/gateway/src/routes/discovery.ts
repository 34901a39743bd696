/**
 * The routes that describe the API, all derived from the route table: GET / (discovery, its
 * `endpoints` one entry per listed route), GET /openapi.json and the Swagger UI at /docs.
 */
import { RootResponse } from '@tasks/contracts';
import swaggerUi from 'swagger-ui-express';
import { json } from '../http/openapi-parts';
import { openApiPath, type Route } from '../http/route';
import { buildOpenApi } from '../openapi';

/** GET /'s `endpoints`: each listed route's operationId → `"METHOD /path"` (OpenAPI's path). */
export function endpointsOf(routes: readonly Route[]): Record<string, string> {
  return Object.fromEntries(
    routes
      .filter((route) => !route.unlisted)
      .map((route) => [route.operation.operationId, `${route.method} ${openApiPath(route.path)}`]),
  );
}

/** GET /: `routes` is called once the table is complete (the table holds this route too). */
export const rootRoute = (routes: () => readonly Route[]): Route => ({
  method: 'GET',
  path: '/',
  access: 'public',
  unlisted: true,
  operation: {
    summary: 'API discovery',
    operationId: 'root',
    responses: { '200': json('Service name and its endpoints', RootResponse) },
  },
  handler: {
    json: () => {
      const body = {
        message: 'Task platform API: background tasks over RabbitMQ',
        endpoints: endpointsOf(routes()),
      };
      return () => Promise.resolve({ status: 200, body });
    },
  },
});

/** GET /openapi.json and /docs, of the document built from `routes()`. */
export const documentRoutes = (routes: () => readonly Route[]): Route[] => [
  {
    method: 'GET',
    path: '/docs',
    subtree: true,
    access: 'public',
    operation: {
      summary: 'This document in the Swagger UI',
      operationId: 'docs',
      responses: { '200': { description: 'text/html', content: { 'text/html': {} } } },
    },
    handler: {
      express: () => [
        ...swaggerUi.serve,
        swaggerUi.setup(buildOpenApi(routes()), { customSiteTitle: 'Task platform API' }),
      ],
    },
  },
  {
    method: 'GET',
    path: '/openapi.json',
    access: 'public',
    operation: {
      summary: 'This document (OpenAPI 3.1)',
      operationId: 'openapi',
      responses: {
        '200': { description: 'The OpenAPI document', content: { 'application/json': {} } },
      },
    },
    handler: {
      json: () => {
        const document = buildOpenApi(routes());
        return () => Promise.resolve({ status: 200, body: document });
      },
    },
  },
];
