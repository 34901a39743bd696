/** Health, probes, metrics, queue numbers and the operator dashboard. */
import { HealthResponse } from '@tasks/contracts';
import { dashboardHandlers } from '../dashboard';
import { healthSummary } from '../health-summary';
import type { Route } from '../http/route';
import { json } from '../http/openapi-parts';
import { livez, metricsHandler, readyz } from '../metrics';

export const SYSTEM_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/health',
    access: 'tasks:read',
    operation: {
      summary: 'Health of the API and the live workers',
      operationId: 'health',
      responses: {
        '200': json(
          'healthy / degraded / unhealthy; worker_details: each worker (name, host, pid, details) for `admin` keys, a summary per service for other keys',
          HealthResponse,
        ),
      },
    },
    handler: {
      json:
        ({ monitoring }) =>
        async (req) => {
          const health = await monitoring.health();
          // Workers' names, hosts, pids and own details are for operators only.
          const operator = req.principal.unrestricted || req.principal.scopes.has('admin');
          return { status: 200, body: operator ? health : healthSummary(health) };
        },
    },
  },
  // Probes and metrics: no data of anyone's. /metrics holds counters only (restrict it at the
  // network level if even those matter); kubelet probes and Prometheus send no key.
  {
    method: 'GET',
    path: '/metrics',
    access: 'public',
    operation: {
      summary: 'Prometheus metrics of this gateway (queue depths and consumers included)',
      operationId: 'metrics',
      responses: {
        '200': {
          description: 'Prometheus text exposition format',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
      },
    },
    handler: { express: () => [metricsHandler()] },
  },
  {
    method: 'GET',
    path: '/livez',
    access: 'public',
    operation: {
      summary: 'Liveness: the process answers',
      operationId: 'livez',
      responses: { '200': { description: '`{"status": "alive"}`' } },
    },
    handler: { json: () => () => Promise.resolve(livez()) },
  },
  {
    method: 'GET',
    path: '/readyz',
    access: 'public',
    operation: {
      summary: 'Readiness: connected to the broker, Redis ready',
      operationId: 'readyz',
      responses: {
        '200': { description: '`{"status": "ready", "checks": {…}}`' },
        '503': { description: '`{"status": "not ready", "checks": {…}}` naming what is down' },
      },
    },
    handler: {
      json:
        ({ readiness }) =>
        () =>
          Promise.resolve(readyz(readiness)),
    },
  },
  {
    method: 'GET',
    path: '/queues',
    access: 'admin',
    operation: {
      summary: 'Messages ready and consumers of every queue (cached a few seconds)',
      operationId: 'list_queues',
      responses: {
        '200': {
          description:
            '`{"queues": [{"name", "messages", "consumers"}]}`, empty while disconnected',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  queues: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        name: { type: 'string' },
                        messages: { type: 'integer' },
                        consumers: { type: 'integer' },
                      },
                      required: ['name', 'messages', 'consumers'],
                    },
                  },
                },
                required: ['queues'],
              },
            },
          },
        },
      },
    },
    handler: {
      json:
        ({ queueStats }) =>
        async () => ({ status: 200, body: { queues: await queueStats.read() } }),
    },
  },
  {
    method: 'GET',
    path: '/dashboard',
    subtree: true,
    // The page and its scripts only; every call it makes carries the operator's key.
    access: 'public',
    operation: {
      summary: 'The operator dashboard (HTML page over this API)',
      operationId: 'dashboard',
      responses: { '200': { description: 'text/html', content: { 'text/html': {} } } },
    },
    handler: { express: () => dashboardHandlers() },
  },
];
