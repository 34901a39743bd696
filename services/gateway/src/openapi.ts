/**
 * The OpenAPI 3.1 document, generated from the route table: each route's operation, its request
 * and response schemas made from the same zod schemas the handlers validate with.
 */
import { openApiPath, type Route } from './http/route';
import type { JsonObject } from './http/openapi-parts';

export function buildOpenApi(routes: readonly Route[]): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    // Who may call it, as the access policy decides (security/access-policy.ts); a public route
    // needs no key.
    const access = {
      'x-access': route.access,
      ...(route.access === 'public' ? { security: [{}] } : {}),
    };
    paths[path] = {
      ...paths[path],
      [route.method.toLowerCase()]: { ...route.operation, ...access },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Task platform API',
      version: '1.0.0',
      description:
        'Background tasks over RabbitMQ. Keeps the FastAPI + Celery service contract: ' +
        'snake_case fields, Celery state names, FastAPI error shapes.',
    },
    paths,
    // With API keys configured (docs/SECURITY.md); the empty entry is the keyless local mode.
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key as a bearer token' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
    },
    security: [{ bearer: [] }, { apiKey: [] }, {}],
  };
}
