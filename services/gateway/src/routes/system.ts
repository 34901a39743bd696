/** Health, probes, metrics, queue numbers and the operator dashboard. */
import { HealthResponse } from '@tasks/contracts';
import { dashboardHandlers } from '../dashboard';
import { healthSummary } from '../health-summary';
import type { Route } from '../http/route';
import { HttpError } from '../http-error';
import { json, notFound } from '../http/openapi-parts';
import { livez, metricsHandler, readyz } from '../metrics';

const count = { type: 'integer', minimum: 0 };

/** `GET /metrics/series`'s body (task-series.ts). */
const SERIES_SCHEMA = {
  type: 'object',
  properties: {
    interval_s: { type: 'number' },
    window_s: { type: 'number' },
    samples: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          at: { type: 'string', format: 'date-time' },
          succeeded: count,
          failed: count,
          retried: count,
          finished_by_service: { type: 'object', additionalProperties: count },
          latency_ms: {
            oneOf: [
              {
                type: 'object',
                properties: {
                  p50: { type: 'number' },
                  p95: { type: 'number' },
                  max: { type: 'number' },
                },
                required: ['p50', 'p95', 'max'],
              },
              { type: 'null' },
            ],
          },
          queue_depth: count,
          queues: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                name: { type: 'string' },
                ready: count,
                consumers: count,
                unacked: { oneOf: [count, { type: 'null' }] },
              },
              required: ['name', 'ready', 'consumers', 'unacked'],
            },
          },
        },
        required: [
          'at',
          'succeeded',
          'failed',
          'retried',
          'finished_by_service',
          'latency_ms',
          'queue_depth',
          'queues',
        ],
      },
    },
  },
  required: ['interval_s', 'window_s', 'samples'],
};

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
    path: '/metrics/series',
    access: 'admin',
    operation: {
      summary:
        "The last hour in samples (SERIES_INTERVAL_MS): tasks succeeded, failed and retried, run time, queue depths (this replica's memory; the dashboard charts)",
      operationId: 'metrics_series',
      responses: {
        '200': {
          description:
            '`{"interval_s", "window_s", "samples": [{"at", "succeeded", "failed", "retried", "finished_by_service", "latency_ms": {"p50", "p95", "max"} | null, "queue_depth", "queues": [{"name", "ready", "consumers", "unacked"}]}]}`, oldest first; counts are of the interval ending at `at`',
          content: { 'application/json': { schema: SERIES_SCHEMA } },
        },
        '404': notFound('The series is off (SERIES_INTERVAL_MS=0)'),
      },
    },
    handler: {
      json:
        ({ series }) =>
        () => {
          if (!series) throw new HttpError(404, 'The series is off (SERIES_INTERVAL_MS=0)');
          return Promise.resolve({ status: 200, body: series.read() });
        },
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
